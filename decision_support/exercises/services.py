"""Writes of a case exercise: create, open, reveal (educators); the assignment of who sees the
model and an answer (students).

Each write and its audit entry commit together (``exercise.create``, ``exercise.open``,
``exercise.reveal``, ``exercise.answer``); reason texts stay out of the audit log, which outlives
erasure. A student's assignment is written when they first open the exercise; that page's one
audit entry (the access gate's) records it, so a sensitive read still writes exactly one entry.
"""

import secrets

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from decision_support.accounts.roles import Role
from decision_support.audit.services import audit_record
from decision_support.cohorts.models import Cohort, GroundTruth, Patient
from decision_support.consent.reads import consented_patient
from decision_support.courses.models import Membership
from decision_support.courses.readonly import course_check_open
from decision_support.predictions.selectors import patient_ranking
from decision_support.registry.selectors import latest_run
from synthetic_data import ARM_LABELS

from .models import CASE_COUNT, Exercise, ExerciseAnswer, ExerciseAssignment, ExerciseCase
from .selectors import case_eligible_arms

NO_RUN = "This cohort has no training run yet: train its models before making an exercise."
NO_TRUTH = ("{case} has no simulated truth (an imported cohort): an exercise is scored against "
            "the truth, so it needs a generated cohort.")
NO_RANKING = ("{case} has no model ranking (its consent withholds clinical data, or predictions "
              "are paused): choose another case.")
WRONG_STATE = "This exercise is {state}: it cannot be {action}."
NOT_OPEN = "This exercise is not open for answers (it is {state})."
NOT_A_STUDENT = "Only the course's students answer an exercise."
NOT_A_CASE = "No such case in this exercise."
ARM_NOT_ELIGIBLE = "{arm} is not an arm this patient is eligible for; choose one of: {arms}."


def exercise_create(*, actor, purpose: str, cohort: Cohort, name: str, mode: str,
                    patients: list[Patient]) -> Exercise:
    """A draft exercise on ``patients`` (in order) of ``cohort``, showing the ranking of the
    cohort's latest training run. Every case must have a simulated truth and a ranking; the
    model's top arm of each is kept. Raises ``ValidationError`` keyed by field and writes
    nothing on bad input."""
    course_check_open(cohort.course_id)
    if not Exercise.MIN_CASES <= len(patients) <= Exercise.MAX_CASES:
        raise ValidationError({"cases": CASE_COUNT.format(
            low=Exercise.MIN_CASES, high=Exercise.MAX_CASES, count=len(patients))})
    run = latest_run(cohort)
    if run is None:
        raise ValidationError({"cases": NO_RUN})
    with_truth = set(GroundTruth.objects.filter(patient__in=patients)
                     .values_list("patient_id", flat=True))
    tops = []
    for patient in patients:
        if patient.pk not in with_truth:
            raise ValidationError({"cases": NO_TRUTH.format(case=patient.case_label)})
        ranking = patient_ranking(consented_patient(patient, purpose=purpose), run)
        if ranking is None or not len(ranking):
            raise ValidationError({"cases": NO_RANKING.format(case=patient.case_label)})
        tops.append(str(ranking["arm"].iloc[0]))
    exercise = Exercise(name=(name or "").strip(), course_id=cohort.course_id, cohort=cohort,
                        run=run, mode=mode, seed=secrets.randbelow(2**31),
                        created_by=actor.get_username(), created_at=timezone.now())
    exercise.full_clean()
    with transaction.atomic():
        exercise.save()
        ExerciseCase.objects.bulk_create(
            ExerciseCase(exercise=exercise, patient=patient, position=i, model_top_arm=top)
            for i, (patient, top) in enumerate(zip(patients, tops), start=1))
        audit_record(actor=actor, purpose=purpose, action="exercise.create",
                     object_type="exercise", object_ref=str(exercise.pk), outcome="allowed",
                     detail={"cases": [p.pseudonym for p in patients], "mode": mode,
                             "run": run.pk, "course": cohort.course_id})
    return exercise


def _advance(*, actor, purpose: str, exercise: Exercise, source: str, target: str,
             action: str, stamp: str) -> Exercise:
    course_check_open(exercise.course_id)
    locked = Exercise.objects.select_for_update().get(pk=exercise.pk)
    if locked.state != source:
        raise ValidationError({"state": WRONG_STATE.format(state=locked.get_state_display().lower(),
                                                           action=action)})
    locked.state = target
    setattr(locked, stamp, timezone.now())
    locked.save(update_fields=["state", stamp])
    audit_record(actor=actor, purpose=purpose, action=f"exercise.{action}",
                 object_type="exercise", object_ref=str(locked.pk), outcome="allowed",
                 detail={"answers": locked.answers.count()})
    return locked


@transaction.atomic
def exercise_open(*, actor, purpose: str, exercise: Exercise) -> Exercise:
    """Open a draft exercise for answers. Audited ``exercise.open``."""
    return _advance(actor=actor, purpose=purpose, exercise=exercise, source=Exercise.State.DRAFT,
                    target=Exercise.State.OPEN, action="open", stamp="opened_at")


@transaction.atomic
def exercise_reveal(*, actor, purpose: str, exercise: Exercise) -> Exercise:
    """Close an open exercise to answers and release its results. Audited ``exercise.reveal``."""
    return _advance(actor=actor, purpose=purpose, exercise=exercise, source=Exercise.State.OPEN,
                    target=Exercise.State.REVEALED, action="reveal", stamp="revealed_at")


def _shows_model(exercise: Exercise, arrival: int) -> bool:
    """Half with the model: each pair of arrivals is split, in a seeded random order, so the two
    groups never differ by more than one student."""
    if exercise.mode != Exercise.Mode.HALF_WITH_MODEL:
        return exercise.mode == Exercise.Mode.WITH_MODEL
    first_with = bool(np.random.default_rng([exercise.seed, arrival // 2]).integers(2))
    return first_with if arrival % 2 == 0 else not first_with


@transaction.atomic
def exercise_assignment(*, actor, exercise: Exercise) -> ExerciseAssignment:
    """The student's assignment (whether they see the model), made on their first visit."""
    existing = ExerciseAssignment.objects.filter(exercise=exercise, user=actor).first()
    if existing is not None:
        return existing
    # The lock orders concurrent first visits, so arrivals count up without gaps.
    Exercise.objects.select_for_update().filter(pk=exercise.pk).first()
    arrival = ExerciseAssignment.objects.filter(exercise=exercise).count()
    return ExerciseAssignment.objects.create(exercise=exercise, user=actor, arrival=arrival,
                                             shows_model=_shows_model(exercise, arrival))


@transaction.atomic
def exercise_answer(*, actor, purpose: str, exercise: Exercise, case: ExerciseCase, arm: str,
                    confidence: int, reason: str) -> ExerciseAnswer:
    """Record (or, before the reveal, change) one student's choice for one case: an arm the
    patient is eligible for, a confidence from 0 to 100 and a reason. Raises ``ValidationError``
    keyed by field and writes nothing on bad input. Audited ``exercise.answer``."""
    course_check_open(exercise.course_id)
    locked = Exercise.objects.select_for_update().get(pk=exercise.pk)
    if locked.state != Exercise.State.OPEN:
        raise ValidationError({"state": NOT_OPEN.format(state=locked.get_state_display().lower())})
    if not Membership.objects.filter(user=actor, course_id=locked.course_id,
                                     role=Role.STUDENT).exists():
        raise ValidationError({"user": NOT_A_STUDENT})
    if case.exercise_id != locked.pk:
        raise ValidationError({"case": NOT_A_CASE})
    eligible = case_eligible_arms(case.patient)
    if arm not in eligible:
        raise ValidationError({"arm": ARM_NOT_ELIGIBLE.format(
            arm=ARM_LABELS.get(arm, arm), arms=", ".join(ARM_LABELS[a] for a in eligible))})
    answer = (ExerciseAnswer.objects.filter(case=case, user=actor).first()
              or ExerciseAnswer(exercise=locked, case=case, user=actor))
    revised = answer.pk is not None
    answer.arm, answer.confidence = arm, confidence
    answer.reason, answer.submitted_at = (reason or "").strip(), timezone.now()
    answer.full_clean(validate_unique=False)
    answer.save()
    audit_record(actor=actor, purpose=purpose, action="exercise.answer",
                 object_type="exercise", object_ref=str(locked.pk), outcome="allowed",
                 detail={"case": case.position, "pseudonym": case.patient.pseudonym, "arm": arm,
                         "confidence": confidence, "revised": revised})
    return answer
