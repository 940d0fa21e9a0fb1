"""The privacy-budget ledger: one row per differentially private query released.

A user's spend on a cohort is the sum of its rows; the budget is checked against it before each
release (``services.aggregate_export_create``). Rows are append-only: a ledger that could be
edited could be reset. Deleting a cohort removes its rows through the foreign key's cascade (a
delete query on the table, which calls neither ``delete()`` below).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from decision_support.appendonly import AppendOnlyModel, AppendOnlyQuerySet
from decision_support.cohorts.models import Cohort

class PrivacySpendQuerySet(AppendOnlyQuerySet):
    def spent(self, *, user, cohort) -> Decimal:
        """Total epsilon ``user`` has spent on ``cohort``."""
        total = self.filter(user=user, cohort=cohort).aggregate(total=models.Sum("epsilon"))["total"]
        return total or Decimal("0")


class PrivacySpend(AppendOnlyModel):
    APPEND_ONLY = "the privacy ledger is append-only: a spend cannot be changed or removed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="privacy_spends")
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="privacy_spends")
    # Exact decimals: 30 queries at 0.1 must add up to exactly 3.0, not 2.9999999999999996.
    epsilon = models.DecimalField(max_digits=6, decimal_places=3)
    query = models.CharField(max_length=64, help_text="The aggregate released.")
    at = models.DateTimeField(default=timezone.now)

    objects = PrivacySpendQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["user", "cohort"], name="privacy_spend_user_cohort_idx")]
        constraints = [models.CheckConstraint(condition=Q(epsilon__gt=0),
                                              name="privacy_spend_epsilon_positive")]

    def __str__(self):
        return f"epsilon {self.epsilon} on {self.query} (user {self.user_id}, cohort {self.cohort_id})"
