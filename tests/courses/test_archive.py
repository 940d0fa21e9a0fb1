"""Archiving a course after a class: one audited action, with the course's name typed in, after
which the course is read-only: every write path refuses with a clear message and writes nothing,
while reading, consent and erasure go on."""

import html

import pytest
from django.urls import reverse

from decision_support.audit.models import AuditEntry
from decision_support.cohorts.jobs import generation_job_start
from decision_support.cohorts.models import GenerationJob
from decision_support.cohorts.services import cohort_create
from decision_support.consent.services import consent_withdraw
from decision_support.courses.models import Course, JoinCode
from decision_support.courses.readonly import COURSE_ARCHIVED, CourseArchived
from decision_support.courses.reset import course_archive
from decision_support.courses.services import join_code_create
from decision_support.lib.vocabulary import Purpose
from decision_support.exercises.models import Exercise, ExerciseAnswer
from decision_support.exercises.services import exercise_answer, exercise_create, exercise_reveal
from decision_support.predictions.models import TreatmentDecision
from decision_support.predictions.services import decision_record
from decision_support.registry.jobs import training_job_start
from decision_support.registry.models import TrainingJob
from decision_support.seminar.models import Annotation, SeminarPack, SeminarPackCase
from decision_support.seminar.services import (annotation_create, seminar_pack_add_cases,
                                               seminar_pack_create)

from .conftest import COURSE_NAME, make_join_code

pytestmark = pytest.mark.django_db

RUBRIC = {"plausibility": 3, "actionability": 3, "fairness_concern": 3}
REFUSAL = COURSE_ARCHIVED.format(course=COURSE_NAME)


def _rows() -> dict:
    return {"decisions": TreatmentDecision.objects.count(), "reviews": Annotation.objects.count(),
            "exercises": list(Exercise.objects.values_list("pk", "state")),
            "answers": list(ExerciseAnswer.objects.values_list("pk", "arm")),
            "join_codes": JoinCode.objects.count(),
            "packs": SeminarPack.objects.count(), "pack_cases": SeminarPackCase.objects.count(), "jobs": TrainingJob.objects.count(),
            "generation_jobs": GenerationJob.objects.count(),
            "courses_cohorts": list(Course.objects.values_list("cohorts", flat=True))}


@pytest.fixture
def archived(classroom):
    course_archive(course=classroom.course, actor=classroom.educator, purpose=Purpose.EDUCATION)
    return classroom


def _patient(classroom):
    return classroom.first.patients.order_by("pk").first()


# Each write path as a page: (who, URL, form data).
PAGES = {
    "decision_record": lambda c: (c.student, reverse("decision_record", args=[_patient(c).pseudonym]),
                                  {"arm": "ssri", "reason": "because"}),
    "case_review": lambda c: (c.reviewer, reverse("case_review", args=[_patient(c).pseudonym]),
                              RUBRIC),
    "model_review": lambda c: (c.reviewer, reverse("model_review",
                                                   args=[c.first.training_runs.get().pk, "ssri"]),
                               {**RUBRIC, "algorithm": "logistic_regression", "variant": "full"}),
    "seminar_pack_create": lambda c: (c.educator, reverse("seminar_pack_create"),
                                      {"name": "After the class",
                                       "pseudonyms": _patient(c).pseudonym}),
    "cohort_train": lambda c: (c.educator, reverse("cohort_train", args=[c.first.pk]), {}),
}

# Each write service: a call into the course.
SERVICES = {
    "decision_record": lambda c: decision_record(patient=_patient(c), actor=c.student, arm="ssri",
                                                 reason="x", purpose=Purpose.EDUCATION),
    "annotation_create (case)": lambda c: annotation_create(actor=c.reviewer, purpose=Purpose.EDUCATION,
                                                            patient=_patient(c), **RUBRIC),
    "annotation_create (model)": lambda c: annotation_create(
        actor=c.reviewer, purpose=Purpose.EDUCATION,
        model=c.first.training_runs.get().models.get(), **RUBRIC),
    "seminar_pack_create": lambda c: seminar_pack_create(actor=c.educator, purpose=Purpose.EDUCATION,
                                                         name="After", patients=[_patient(c)]),
    "cohort_create": lambda c: cohort_create(actor=c.educator, purpose=Purpose.EDUCATION,
                                             scenario="default", n_patients=120, seed=5, name="",
                                             course=c.course),
    "generation_job_start": lambda c: generation_job_start(
        actor=c.educator, purpose=Purpose.EDUCATION, course=c.course, scenario="default",
        n_patients=120, seed=5, name=""),
    "training_job_start": lambda c: training_job_start(cohort=c.first, actor=c.educator,
                                                       purpose=Purpose.MODEL_TRAINING),
    "exercise_create": lambda c: exercise_create(actor=c.educator, purpose=Purpose.EDUCATION,
                                                 cohort=c.first, name="After", mode="with_model",
                                                 patients=list(c.first.patients.all()[:3])),
    "exercise_reveal": lambda c: exercise_reveal(actor=c.educator, purpose=Purpose.EDUCATION,
                                                 exercise=_exercise(c)),
    "exercise_answer": lambda c: exercise_answer(actor=c.student, purpose=Purpose.EDUCATION,
                                                 exercise=_exercise(c),
                                                 case=_exercise(c).cases.get(position=2),
                                                 arm="ssri", confidence=50, reason="x"),
    "seminar_pack_add_cases": lambda c: seminar_pack_add_cases(
        actor=c.educator, purpose=Purpose.EDUCATION, pack=c.packs["first only"],
        patients=[_patient(c)]),
    "join_code_create": lambda c: join_code_create(actor=c.educator, purpose=Purpose.EDUCATION,
                                                   course=c.course, role="student", days=7),
}


def _exercise(classroom):
    return Exercise.objects.get(course=classroom.course)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_write_page_of_an_archived_course_refuses_and_writes_nothing(client, archived,
                                                                           name):
    user, path, data = PAGES[name](archived)
    client.force_login(user)
    before, audit = _rows(), AuditEntry.objects.count()
    response = client.post(path, data)
    assert response.status_code == 403
    assert REFUSAL in html.unescape(response.content.decode())
    assert _rows() == before and AuditEntry.objects.count() == audit


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_write_service_refuses_an_archived_course(archived, name):
    before = _rows()
    with pytest.raises(CourseArchived, match="is archived, so it is read-only"):
        SERVICES[name](archived)
    assert _rows() == before


# (Decisions in an open course: tests/predictions/test_oversight.py; these runs hold no fitted model.)
@pytest.mark.parametrize("name", ["annotation_create (case)", "seminar_pack_create"])
def test_an_open_course_is_written_as_before(classroom, name):
    before = _rows()
    SERVICES[name](classroom)
    assert _rows() != before


def test_archiving_is_one_audited_action_that_revokes_join_codes(client, classroom):
    codes = [make_join_code(classroom.course, "SPRING1"), make_join_code(classroom.course, "SPRING2")]
    other = make_join_code(classroom.other_course, "OTHER1")
    client.force_login(classroom.educator)
    response = client.post(reverse("course_archive", args=[classroom.course.pk]),
                           {"confirm_name": COURSE_NAME})
    assert response.status_code == 302
    classroom.course.refresh_from_db()
    assert classroom.course.archived_at is not None
    assert all(c.__class__.objects.get(pk=c.pk).status() != "active" for c in codes)
    other.refresh_from_db()
    assert other.status() == "active"
    entry = AuditEntry.objects.get(action="course.archive")
    assert (entry.actor, entry.role, entry.object_ref, entry.detail["join_codes_revoked"]) == (
        "teacher", "educator", str(classroom.course.pk), 2)
    page = client.get(reverse("course_archive", args=[classroom.course.pk])).content.decode()
    assert "<strong>Archived</strong>" in page and 'id="archive-form"' not in page


@pytest.mark.parametrize("typed", ["", "spring class 2027", "Another class"])
def test_archiving_with_a_wrong_typed_name_answers_400_and_changes_nothing(client, classroom,
                                                                           typed):
    client.force_login(classroom.educator)
    audit = AuditEntry.objects.count()
    response = client.post(reverse("course_archive", args=[classroom.course.pk]),
                           {"confirm_name": typed})
    assert response.status_code == 400
    assert 'data-field="confirm_name"' in response.content.decode()
    classroom.course.refresh_from_db()
    assert classroom.course.archived_at is None and AuditEntry.objects.count() == audit


@pytest.mark.parametrize("action", ["course_reset", "course_archive"])
def test_an_archived_course_is_neither_reset_nor_archived_again(client, archived, action):
    client.force_login(archived.educator)
    before, audit = _rows(), AuditEntry.objects.count()
    response = client.post(reverse(action, args=[archived.course.pk]),
                           {"confirm_name": COURSE_NAME})
    assert response.status_code == 403
    assert _rows() == before and AuditEntry.objects.count() == audit


def test_an_archived_course_stays_readable_and_its_consent_can_still_change(client, archived,
                                                                            make_user):
    client.force_login(archived.student)
    assert client.get(reverse("patient_list", args=[archived.first.pk])).status_code == 200
    steward = make_user("data_steward", username="steward")
    consent_withdraw(patient=_patient(archived), data_class="genetic",
                     purpose=Purpose.EDUCATION, actor=steward)
    assert AuditEntry.objects.filter(action="consent.withdraw").count() == 1
