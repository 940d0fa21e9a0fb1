"""After a class: reset a course to how it began, or archive it (read-only).

A reset, in one transaction, removes what the class recorded (``COURSE_RECORDS``: treatment
decisions, reviews, exercises with their answers), brings the consent of the
course's patients back to what the seed drew (``consent.services.consent_restore_seeded``:
appended decisions, never deleted history; erasures stay), and removes every cohort but the
course's demo cohorts (else its first cohort), with their training runs, jobs and the model
artifacts nothing else uses. Seminar packs stay, unless every case they had went with a removed
cohort. An archive makes the course read-only (``readonly.course_check_open``) and revokes its join
codes. Both are audited (``course.reset``, ``course.archive``) with counts of what changed.

``reset_preview`` counts what a reset would change, from the same plan (``reset_plan``) the reset
carries out.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from decision_support.audit.services import audit_record
from decision_support.cohorts.models import Cohort, Patient
from decision_support.consent.selectors import consent_departures_from_seed
from decision_support.consent.services import consent_restore_seeded
from decision_support.exercises.models import Exercise
from decision_support.predictions.models import TreatmentDecision
from decision_support.registry.models import ModelArtifact, TrainedModel, TrainingRun
from decision_support.seminar.models import Annotation, SeminarPack

from .models import Course
from .readonly import course_check_open

# What the class recorded, deleted by a reset: (name in the counts, the course's rows). The
# exercises app adds its rows here.
COURSE_RECORDS: tuple[tuple[str, Callable[[Course], QuerySet]], ...] = (
    ("decisions", lambda course: TreatmentDecision.objects.filter(patient__cohort__course=course)),
    ("reviews", lambda course: Annotation.objects.filter(
        Q(patient__cohort__course=course) | Q(model__run__cohort__course=course))),
    ("exercises", lambda course: Exercise.objects.filter(course=course)),
)


@dataclass(frozen=True)
class ResetPlan:
    kept_cohorts: list[Cohort]  # the course's demo cohorts, else its first cohort
    removed_cohorts: QuerySet  # every other cohort of the course
    records: dict[str, QuerySet]  # COURSE_RECORDS for this course

    def kept_patients(self) -> QuerySet:
        return Patient.objects.filter(cohort__in=self.kept_cohorts)

    def removals(self) -> dict[str, int]:
        """What a reset would remove, by kind."""
        return {
            **{name: rows.count() for name, rows in self.records.items()},
            "cohorts": self.removed_cohorts.count(),
            "training_runs": TrainingRun.objects.filter(cohort__in=self.removed_cohorts).count(),
            "seminar_packs": _packs_left_empty(self).count(),
        }


def reset_plan(course: Course) -> ResetPlan:
    cohorts = Cohort.objects.filter(course=course)
    kept = list(cohorts.filter(is_demo=True)) or list(cohorts.order_by("created_at", "pk")[:1])
    return ResetPlan(kept_cohorts=kept,
                     removed_cohorts=cohorts.exclude(pk__in=[cohort.pk for cohort in kept]),
                     records={name: rows(course) for name, rows in COURSE_RECORDS})


def reset_preview(course: Course) -> dict[str, int]:
    """What a reset of ``course`` would remove, and how many consent decisions it would
    restore (``consent_restored``)."""
    plan = reset_plan(course)
    return {**plan.removals(), "consent_restored": len(consent_departures_from_seed(
        plan.kept_patients().values_list("pk", flat=True)))}


def _packs_left_empty(plan: ResetPlan) -> QuerySet:
    """The course's seminar packs whose every case is in a removed cohort."""
    packs = SeminarPack.objects.filter(cases__patient__cohort__in=plan.removed_cohorts)
    return packs.exclude(cases__patient__cohort__in=Cohort.objects.exclude(
        pk__in=plan.removed_cohorts.values("pk"))).distinct()


def _locked(course: Course) -> Course:
    course = Course.objects.select_for_update().get(pk=course.pk)
    course_check_open(course.pk)
    return course


@transaction.atomic
def course_reset(*, course: Course, actor, purpose: str) -> dict[str, int]:
    """Reset ``course`` after a class (see the module); returns the counts, which its audit entry
    (``course.reset``) carries. Refused (``CourseArchived``) for an archived course."""
    course = _locked(course)
    plan = reset_plan(course)
    counts = plan.removals()
    packs = list(_packs_left_empty(plan).values_list("pk", flat=True))
    for rows in plan.records.values():
        rows.delete()
    artifacts = set(TrainedModel.objects.filter(run__cohort__in=plan.removed_cohorts)
                    .values_list("artifact_id", flat=True))
    plan.removed_cohorts.delete()  # their patients, runs, models, jobs and packs' cases go along
    # Content-addressed: an artifact a remaining model shares stays.
    ModelArtifact.objects.filter(sha256__in=artifacts).exclude(
        sha256__in=TrainedModel.objects.values("artifact_id")).delete()
    SeminarPack.objects.filter(pk__in=packs).delete()
    counts["consent_restored"] = consent_restore_seeded(patients=list(plan.kept_patients()),
                                                        actor=actor)
    audit_record(actor=actor, purpose=purpose, action="course.reset", object_type="course",
                 object_ref=str(course.pk), outcome="allowed",
                 detail={**counts, "kept_cohorts": sorted(c.pk for c in plan.kept_cohorts)})
    return counts


@transaction.atomic
def course_archive(*, course: Course, actor, purpose: str) -> dict[str, int]:
    """Make ``course`` read-only from now on and revoke its join codes; returns the counts, which
    its audit entry (``course.archive``) carries. Refused (``CourseArchived``) if already
    archived."""
    course = _locked(course)
    now = timezone.now()
    counts = {"join_codes_revoked": course.join_codes.filter(revoked_at__isnull=True)
              .update(revoked_at=now)}
    course.archived_at = now
    course.save(update_fields=["archived_at"])
    audit_record(actor=actor, purpose=purpose, action="course.archive", object_type="course",
                 object_ref=str(course.pk), outcome="allowed", detail=counts)
    return counts
