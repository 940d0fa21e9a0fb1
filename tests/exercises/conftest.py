"""Fixtures of the case-exercise tests.

- ``run``: 300 patients and a run of the ranking algorithm only, committed for the module.
- ``case_patients``: five patients of that cohort whose education consent covers every class
  (so each has a ranking), in patient order.
- ``make_exercise``: ``make_exercise(mode=..., state=...)`` -> an exercise on the first three
  of them, made (and opened, revealed) through the services by an educator of the course.
- ``students``: ``students(n)`` -> n students of the default course.
"""

import pytest

from decision_support.cohorts.models import Patient
from decision_support.consent.selectors import consent_permitted_classes
from decision_support.exercises.models import Exercise
from decision_support.exercises.services import exercise_create, exercise_open, exercise_reveal
from decision_support.lib.vocabulary import CONSENT_CLASSES, Purpose
from models.ranking import RANKING_ALGORITHM
from tests.trained_runs import committed_run


@pytest.fixture(scope="module")
def run(django_db_setup, django_db_blocker):
    with committed_run(django_db_blocker, n_patients=300,
                       algorithms=(RANKING_ALGORITHM,)) as run:
        yield run


@pytest.fixture
def case_patients(run) -> list[Patient]:
    everything = set(CONSENT_CLASSES)
    return [p for p in Patient.objects.filter(cohort=run.cohort).order_by("number")
            if consent_permitted_classes(p, purpose=Purpose.EDUCATION) == everything][:5]


@pytest.fixture
def educator(make_user):
    return make_user("educator", username="teacher")


@pytest.fixture
def students(make_user):
    def make(n: int, prefix: str = "student"):
        return [make_user("student", username=f"{prefix}{i}") for i in range(n)]
    return make


@pytest.fixture
def make_exercise(run, case_patients, educator):
    def make(mode=Exercise.Mode.HALF_WITH_MODEL, state=Exercise.State.OPEN, n_cases=3):
        exercise = exercise_create(actor=educator, purpose=Purpose.EDUCATION, cohort=run.cohort,
                                   name="Three cases", mode=mode,
                                   patients=case_patients[:n_cases])
        if state != Exercise.State.DRAFT:
            exercise = exercise_open(actor=educator, purpose=Purpose.EDUCATION, exercise=exercise)
        if state == Exercise.State.REVEALED:
            exercise = exercise_reveal(actor=educator, purpose=Purpose.EDUCATION,
                                       exercise=exercise)
        return exercise
    return make
