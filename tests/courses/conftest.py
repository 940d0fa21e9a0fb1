"""Courses, people in them, and join codes; the join throttle's counts start empty in each test.

``classroom``: a course after a class: two cohorts (the first and an extra one), a training run on
each (model rows only; nothing is fitted), decisions, reviews, seminar packs, changed consent and
an erasure; and another course that a reset or archive must leave alone."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from decision_support.accounts.roles import Role
from decision_support.cohorts.models import Cohort, Patient
from decision_support.cohorts.services import cohort_generate
from decision_support.courses.models import Course, JoinCode
from decision_support.courses.services import join_code_create
from decision_support.exercises.models import Exercise, ExerciseAnswer, ExerciseCase
from decision_support.lib.vocabulary import Purpose
from decision_support.predictions.services import decision_record
from decision_support.registry.models import ModelArtifact, TrainedModel, TrainingRun
from decision_support.seminar.models import Annotation, SeminarPack, SeminarPackCase

COURSE_NAME = "Spring class 2027"
N_PATIENTS = 120


def _run(cohort: Cohort, artifact: ModelArtifact) -> TrainingRun:
    run = TrainingRun.objects.create(cohort=cohort, scenario=cohort.scenario, seed=1,
                                     n_patients=cohort.n_patients, library_versions={},
                                     duration_seconds=1.0)
    TrainedModel.objects.create(run=run, arm="ssri", algorithm="logistic_regression", variant="full",
                                artifact=artifact, features=[], metrics={}, evaluation={},
                                explanation={})
    return run


def _artifact(tag: str) -> ModelArtifact:
    return ModelArtifact.objects.create(sha256=tag * 64, data=b"x", size_bytes=1)


def _pack(name: str, patients: list[Patient], course: Course) -> SeminarPack:
    pack = SeminarPack.objects.create(name=name, course=course, created_by="fixture")
    for position, patient in enumerate(patients, start=1):
        SeminarPackCase.objects.create(pack=pack, patient=patient, position=position)
    return pack


def _review(reviewer, **target) -> Annotation:
    return Annotation.objects.create(reviewer=reviewer.username, actor_id=reviewer.pk,
                                     plausibility=3, actionability=3, fairness_concern=3, **target)


@dataclass
class ClassRoom:
    course: Course
    other_course: Course
    first: Cohort
    extra: Cohort
    other: Cohort  # the other course's cohort
    educator: object
    student: object
    reviewer: object
    packs: dict


@pytest.fixture
def classroom(make_user):
    course = Course.objects.create(name=COURSE_NAME)
    other_course = Course.objects.create(name="Another class")
    educator = make_user(Role.EDUCATOR, username="teacher", course=course)
    student = make_user(Role.STUDENT, username="pupil", course=course)
    reviewer = make_user(Role.ETHICS_REVIEWER, username="ethicist", course=course)
    outsider = make_user(Role.STUDENT, username="elsewhere", course=other_course)
    first = cohort_generate(n_patients=N_PATIENTS, seed=11, course=course)
    extra = cohort_generate(n_patients=N_PATIENTS, seed=12, course=course)
    other = cohort_generate(n_patients=N_PATIENTS, seed=13, course=other_course)
    f, e, o = (list(c.patients.order_by("pk")[:3]) for c in (first, extra, other))
    # Recorded before the runs exist: the runs' models are rows without a fitted model.
    for patient in (f[0], f[1], e[0]):
        decision_record(patient=patient, actor=student, arm="ssri", reason="",
                        purpose=Purpose.EDUCATION)
    decision_record(patient=f[0], actor=educator, arm="snri", reason="", purpose=Purpose.EDUCATION)
    decision_record(patient=o[0], actor=outsider, arm="ssri", reason="", purpose=Purpose.EDUCATION)
    shared = _artifact("a")
    kept_run, extra_run = _run(first, shared), _run(extra, _artifact("b"))
    TrainedModel.objects.create(run=extra_run, arm="snri", algorithm="logistic_regression",
                                variant="full", artifact=shared, features=[], metrics={}, evaluation={},
                                explanation={})
    other_run = _run(other, _artifact("c"))
    for exercise_course, cohort, run, patients, answerer in (
            (course, first, kept_run, f, student), (other_course, other, other_run, o, outsider)):
        exercise = Exercise.objects.create(name="Predict, then reveal", course=exercise_course,
                                           cohort=cohort, run=run, mode="features_only",
                                           state="open", opened_at=timezone.now(), seed=1,
                                           created_by="fixture")
        cases = [ExerciseCase.objects.create(exercise=exercise, patient=patient, position=i,
                                             model_top_arm="ssri")
                 for i, patient in enumerate(patients, start=1)]
        ExerciseAnswer.objects.create(exercise=exercise, case=cases[0], user=answerer, arm="snri",
                                      confidence=60, reason="fixture")
    _review(reviewer, patient=f[0])
    _review(reviewer, model=kept_run.models.get())
    _review(reviewer, model=extra_run.models.first())
    _review(reviewer, patient=o[0])
    packs = {"extra only": _pack("extra only", [e[0], e[1]], course),
             "mixed": _pack("mixed", [f[0], e[0]], course),
             "first only": _pack("first only", [f[1]], course),
             "other course": _pack("other course", [o[0]], other_course)}
    return ClassRoom(course=course, other_course=other_course, first=first, extra=extra,
                     other=other, educator=educator, student=student, reviewer=reviewer,
                     packs=packs)


def make_join_code(course: Course, code: str) -> JoinCode:
    return JoinCode.objects.create(course=course, code=code, created_by="fixture",
                                   expires_at=timezone.now() + timedelta(days=7))


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def course(db):
    return Course.objects.create(name="Psychiatry 101", created_by="fixture")


@pytest.fixture
def other_course(db):
    return Course.objects.create(name="Pharmacology 202", created_by="fixture")


@pytest.fixture
def educator(make_user, course):
    return make_user(Role.EDUCATOR, username="teacher", course=course)


@pytest.fixture
def join_code(educator, course):
    """An active student code of ``course``."""
    return join_code_create(actor=educator, purpose="TRAIN", course=course, role=Role.STUDENT,
                            days=7)


@pytest.fixture
def dead_code(educator, course):
    """Factory: a code of ``course`` that cannot be used for ``reason`` (expired, revoked,
    archived)."""

    def make(reason: str) -> JoinCode:
        code = join_code_create(actor=educator, purpose="TRAIN", course=course,
                                role=Role.STUDENT, days=1)
        if reason == "expired":
            JoinCode.objects.filter(pk=code.pk).update(
                created_at=timezone.now() - timedelta(days=3),
                expires_at=timezone.now() - timedelta(days=2))
        elif reason == "revoked":
            JoinCode.objects.filter(pk=code.pk).update(revoked_at=timezone.now())
        elif reason == "archived":
            Course.objects.filter(pk=course.pk).update(archived_at=timezone.now())
        return code

    return make
