"""Consent history: one row per consent decision, never edited, never deleted on its own.

A row is a FHIR Consent reduced to one provision: patient, status, permit or deny, one data class,
one purpose, the period it covers, the consent-text version shown and when (UTC) and by whom it
was recorded. The current state of (patient, data class, purpose) is its newest row (see
``gate``). Changing one's mind appends a row, so the history proves what was permitted when.

Rows refuse ``save()`` once stored, ``delete()``, and queryset ``update()`` and ``delete()``.
Erasure still works: deleting the Patient removes its rows through the foreign key's cascade,
which Django runs as a delete query on the table without calling either ``delete()`` method.

``Tombstone`` is what erasure (``erasure.patient_erase``) keeps of a patient.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from decision_support.appendonly import AppendOnlyModel
from decision_support.cohorts.models import Cohort, Patient

from .constants import ConsentClass, Provision, Purpose, Status

def _in_choices(field: str, choices: type[models.TextChoices]) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}),
                                  name=f"consent_record_{field}_valid")


class ConsentRecord(AppendOnlyModel):
    APPEND_ONLY = "consent records are append-only: record a new decision instead of changing one"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="consent_records")
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
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["patient", "purpose", "data_class", "recorded_at"],
                                name="consent_patient_purpose_idx")]
        constraints = [
            _in_choices("status", Status),
            _in_choices("provision", Provision),
            _in_choices("data_class", ConsentClass),
            _in_choices("purpose", Purpose),
            models.CheckConstraint(condition=Q(period_end__isnull=True)
                                   | Q(period_end__gt=models.F("period_start")),
                                   name="consent_record_period_ends_after_start"),
        ]

    def __str__(self):
        return (f"{self.status} {self.provision} {self.data_class} for {self.purpose} "
                f"(patient {self.patient_id}, {self.recorded_at:%Y-%m-%d %H:%M} UTC)")


class Tombstone(models.Model):
    """What remains of an erased patient (GDPR 17): the pseudonym, when and by whom, and the
    training runs whose models learnt from the patient's data (they should be retrained)."""

    pseudonym = models.CharField(max_length=64, db_index=True)
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="tombstones")
    erased_at = models.DateTimeField(default=timezone.now)
    # A snapshot, not a foreign key, like ConsentRecord.recorded_by.
    erased_by = models.CharField(max_length=150)
    affected_run_ids = models.JSONField(default=list, blank=True,
                                        help_text="Training runs whose training set included "
                                                  "the patient.")

    class Meta:
        ordering = ["-erased_at", "-id"]

    def __str__(self):
        return f"{self.pseudonym} (erased {self.erased_at:%Y-%m-%d %H:%M} UTC)"
