"""Erasure (GDPR 17): delete every row of one patient's data, keep a pseudonymous tombstone.

What goes is found generically, the way Django's own delete finds it: every model in every
installed app that references the patient, directly or through other deleted rows, is walked
(``NestedObjects``), so tables added later are covered without changes here. A model states
what erasure does to its rows through ``on_delete``: ``CASCADE`` rows are erased with the
patient; ``SET_NULL`` rows stay, unlinked; ``PROTECT`` or ``RESTRICT`` blocks the erasure
(nothing is deleted, the page names the blocker).

A person is erased from every stored copy of the same data (cohorts with the same fingerprint,
whose patients share the place key), and the consent decisions kept by their place
(``PlaceConsent``) go too. What stays: a tombstone per copy, whose place key keeps the person out
of every later copy (``cohorts.services.cohort_store``), and the audit log, which refers to
patients by pseudonym.
"""

from dataclasses import dataclass

from django.contrib.admin.utils import NestedObjects
from django.db import router, transaction

from decision_support.audit.services import audit_record
from decision_support.cohorts.models import Patient
from decision_support.registry.models import TrainingRun

from decision_support.lib.vocabulary import Purpose
from .gate import permitted_classes
from .models import PlaceConsent, Tombstone
from .reads import in_model_training
from .selectors import patient_copies
from .services import AUDIT_PURPOSE, consent_version_raise, lock_copies

NO_ACTOR = "actor must be a signed-in user; got {value!r}"
BLOCKED = "erasure is blocked by rows that protect the patient: {blockers}"


class ErasureBlocked(Exception):
    """Raised when a model protects the patient's rows from deletion (``on_delete=PROTECT``)."""


@dataclass(frozen=True)
class ErasurePlan:
    """What erasing a patient would delete (rows per model) and what would block it."""

    deleted: dict[str, int]  # verbose name (plural) -> rows
    blocked_by: list[str]  # models whose rows protect the patient's data
    affected_runs: list[TrainingRun]
    other_copies: list[Patient]  # the same person in other copies of the data, erased too


def erasure_plan(patient: Patient) -> ErasurePlan:
    """The rows erasing ``patient`` deletes (in every copy of the data), found by walking every
    model's relations."""
    copies = list(patient_copies(patient).select_related("cohort"))
    collector = NestedObjects(using=router.db_for_write(Patient))
    collector.collect(copies)
    deleted = {str(model._meta.verbose_name_plural): len(rows)
               for model, rows in sorted(collector.model_objs.items(),
                                         key=lambda item: item[0]._meta.label)}
    blocked_by = sorted({str(row._meta.verbose_name_plural) for row in collector.protected})
    return ErasurePlan(deleted=deleted, blocked_by=blocked_by,
                       affected_runs=[run for copy in copies for run in runs_trained_on(copy)],
                       other_copies=[copy for copy in copies if copy.pk != patient.pk])


def runs_trained_on(patient: Patient) -> list[TrainingRun]:
    """The cohort's training runs whose training set included ``patient``: those at whose
    creation the patient's model-training consent put them in it (``reads.in_model_training``),
    a multi-site run's only at its development site."""
    records = list(patient.consent_records.filter(purpose=Purpose.MODEL_TRAINING))
    runs = TrainingRun.objects.filter(cohort_id=patient.cohort_id).order_by("pk")
    return [run for run in runs
            if run.development_site in ("", patient.site)
            and in_model_training(permitted_classes(
                [r for r in records if r.recorded_at <= run.created_at],
                purpose=Purpose.MODEL_TRAINING, now=run.created_at))]


@transaction.atomic
def patient_erase(patient: Patient, *, actor) -> Tombstone:
    """Delete ``patient`` and every row of their data; keep a tombstone and one audit entry
    (``patient.erase``).

    Raises
    ------
    ErasureBlocked
        If a model protects the patient's rows; nothing is deleted.
    """
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.pk is None:
        raise ValueError(NO_ACTOR.format(value=actor))
    copies = lock_copies(patient)
    patient = next(copy for copy in copies if copy.pk == patient.pk)
    plan = erasure_plan(patient)
    if plan.blocked_by:
        raise ErasureBlocked(BLOCKED.format(blockers=", ".join(plan.blocked_by)))
    tombstones = {copy.pk: Tombstone.objects.create(
        pseudonym=copy.pseudonym, place_key=copy.place_key, cohort_id=copy.cohort_id,
        erased_by=actor.get_username(), affected_run_ids=[run.pk for run in runs_trained_on(copy)])
        for copy in copies}
    _, deleted = Patient.objects.filter(pk__in=list(tombstones)).delete()
    PlaceConsent.objects.erase(patient.place_key)
    consent_version_raise(cohort_ids={copy.cohort_id for copy in copies})
    tombstone = tombstones[patient.pk]
    audit_record(actor=actor, purpose=AUDIT_PURPOSE, action="patient.erase",
                 outcome="allowed",
                 object_type="patient", object_ref=tombstone.pseudonym,
                 detail={"cohort": tombstone.cohort_id, "deleted": deleted,
                         "affected_run_ids": tombstone.affected_run_ids,
                         "other_copies": [{"cohort": t.cohort_id, "pseudonym": t.pseudonym,
                                           "affected_run_ids": t.affected_run_ids}
                                          for pk, t in tombstones.items() if pk != patient.pk]})
    return tombstone
