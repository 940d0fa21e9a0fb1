"""The privacy-budget ledger: one row per differentially private query released.

A user's spend on a cohort's data is the sum of the rows charged to its fingerprint: every copy
of the same data (a cohort re-created from its seed, a file imported again) shares one budget.
The budget is checked against it before each release (``services.aggregate_export_create``).
Rows are append-only: a ledger that could be edited could be reset, and so could one whose rows
went with the cohort row, so deleting a cohort only unlinks them.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from decision_support.cohorts.models import Cohort
from decision_support.lib.appendonly import AppendOnlyModel, AppendOnlyQuerySet

class PrivacySpendQuerySet(AppendOnlyQuerySet):
    def spent(self, *, user, cohort) -> Decimal:
        """Total epsilon ``user`` has spent on ``cohort``'s data, in any copy of it."""
        total = (self.filter(user=user, fingerprint=cohort.fingerprint)
                 .aggregate(total=models.Sum("epsilon"))["total"])
        return total or Decimal("0")


class PrivacySpend(AppendOnlyModel):
    APPEND_ONLY = "the privacy ledger is append-only: a spend cannot be changed or removed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="privacy_spends")
    # The budget is charged to the data (its fingerprint), not to the cohort row.
    fingerprint = models.CharField(max_length=64)
    cohort = models.ForeignKey(Cohort, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="privacy_spends")
    # Exact decimals: 30 queries at 0.1 must add up to exactly 3.0, not 2.9999999999999996.
    epsilon = models.DecimalField(max_digits=6, decimal_places=3)
    query = models.CharField(max_length=64, help_text="The aggregate released.")
    at = models.DateTimeField(default=timezone.now)

    objects = PrivacySpendQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["user", "fingerprint"], name="privacy_spend_user_data_idx")]
        constraints = [models.CheckConstraint(condition=Q(epsilon__gt=0),
                                              name="privacy_spend_epsilon_positive"),
                       models.CheckConstraint(condition=~Q(fingerprint=""),
                                              name="privacy_spend_has_fingerprint")]

    def __str__(self):
        return f"epsilon {self.epsilon} on {self.query} (user {self.user_id}, cohort {self.cohort_id})"
