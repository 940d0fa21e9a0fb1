"""Consent history: one row per consent decision, never edited, never deleted on its own.

A row is a FHIR Consent reduced to one provision: patient, status, permit or deny, one data class,
one purpose, the period it covers, the consent-text version shown and when (UTC) and by whom it
was recorded. The current state of (patient, data class, purpose) is its newest row (see
``gate``). Changing one's mind appends a row, so the history proves what was permitted when.

Rows refuse ``save()`` once stored, ``delete()``, and queryset ``update()`` and ``delete()``.
Erasure still works: deleting the Patient removes its rows through the foreign key's cascade,
which Django runs as a delete query on the table without calling either ``delete()`` method.

``PlaceConsent`` keeps each decision a person recorded (giving or withdrawing) by the patient's
place key instead of the Patient row, so it outlives the copy of the data it was recorded in: a
later copy of the same data starts from it (``services.consent_carry_over``).

``Tombstone`` is what erasure (``erasure.patient_erase``) keeps of a patient; its place key
keeps the patient out of every later copy of the same data.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from decision_support.cohorts.models import Cohort, Patient
from decision_support.lib.appendonly import AppendOnlyModel, AppendOnlyQuerySet
from decision_support.lib.vocabulary import ConsentClass, Purpose

from .constants import Provision, Status


def _valid(table: str) -> list[models.CheckConstraint]:
    choices = [("status", Status), ("provision", Provision), ("data_class", ConsentClass),
               ("purpose", Purpose)]
    return [
        *(models.CheckConstraint(condition=Q(**{f"{field}__in": c.values}),
                                 name=f"{table}_{field}_valid") for field, c in choices),
        models.CheckConstraint(condition=Q(period_end__isnull=True)
                               | Q(period_end__gt=models.F("period_start")),
                               name=f"{table}_period_ends_after_start"),
    ]


class ConsentDecision(AppendOnlyModel):
    """The fields of one consent decision (FHIR Consent reduced to one provision)."""

    status = models.CharField(max_length=16, choices=Status.choices)
    provision = models.CharField(max_length=8, choices=Provision.choices)
    data_class = models.CharField(max_length=16, choices=ConsentClass.choices)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField(null=True, blank=True,
                                      help_text="Exclusive; empty for a decision without end.")
    consent_text_version = models.CharField(max_length=32)
    recorded_at = models.DateTimeField(default=timezone.now)
    # Snapshots, not a foreign key: the history outlives accounts and must not change with them.
    recorded_by = models.CharField(max_length=150)
    actor_id = models.BigIntegerField(null=True, blank=True,
                                      help_text="User id of the person who recorded it, if any.")

    class Meta:
        abstract = True


class ConsentRecord(ConsentDecision):
    APPEND_ONLY = "consent records are append-only: record a new decision instead of changing one"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="consent_records")
    carried_over = models.BooleanField(
        default=False, help_text="Carried over from an earlier copy of the same data, where the "
                                 "person recorded it.")

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["patient", "purpose", "data_class", "recorded_at"],
                                name="consent_patient_purpose_idx")]
        constraints = _valid("consent_record")

    def __str__(self):
        return (f"{self.status} {self.provision} {self.data_class} for {self.purpose} "
                f"(patient {self.patient_id}, {self.recorded_at:%Y-%m-%d %H:%M} UTC)")


class PlaceConsentQuerySet(AppendOnlyQuerySet):
    def erase(self, place_key: str) -> None:
        """Erasure's delete (GDPR 17 outranks the append-only rule): the one way rows go."""
        models.QuerySet.delete(self.filter(place_key=place_key))


class PlaceConsent(ConsentDecision):
    """A decision a person recorded (``consent_give``, ``consent_withdraw``), kept by the
    patient's place in the cohort's data rather than by the Patient row."""

    APPEND_ONLY = "the consent decisions kept by place are append-only"

    place_key = models.CharField(max_length=64, db_index=True)

    objects = PlaceConsentQuerySet.as_manager()

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = _valid("place_consent")


class Tombstone(models.Model):
    """What remains of an erased patient (GDPR 17): the pseudonym, the place key (which keeps
    the patient out of later copies of the same data), when and by whom, and the training runs
    whose models learnt from the patient's data (they should be retrained)."""

    pseudonym = models.CharField(max_length=64, db_index=True)
    place_key = models.CharField(max_length=64, db_index=True)
    # Kept when the cohort row is deleted: the erasure must outlive every copy of the data.
    cohort = models.ForeignKey(Cohort, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="tombstones")
    erased_at = models.DateTimeField(default=timezone.now)
    # A snapshot, not a foreign key, like ConsentRecord.recorded_by.
    erased_by = models.CharField(max_length=150)
    affected_run_ids = models.JSONField(default=list, blank=True,
                                        help_text="Training runs whose training set included "
                                                  "the patient.")

    class Meta:
        ordering = ["-erased_at", "-id"]
        constraints = [models.CheckConstraint(condition=~Q(place_key=""),
                                              name="tombstone_has_place_key")]

    def __str__(self):
        return f"{self.pseudonym} (erased {self.erased_at:%Y-%m-%d %H:%M} UTC)"
