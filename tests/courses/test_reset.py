"""Resetting a course after a class: one audited action, with the course's name typed in, that
removes what the class recorded and the extra cohorts, restores the seeded consent and keeps the
erasures, and leaves every other course alone."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from decision_support.audit.models import AuditEntry
from decision_support.cohorts.models import Cohort, Patient
from decision_support.cohorts.services import cohort_generate
from decision_support.consent.models import ConsentRecord, Tombstone
from decision_support.consent.selectors import permitted_classes_by_patient
from decision_support.consent.services import consent_give, consent_withdraw
from decision_support.consent.erasure import patient_erase
from decision_support.courses.reset import course_reset
from decision_support.courses.reset_forms import CONFIRM_MISMATCH
from decision_support.lib.vocabulary import PURPOSES, Purpose
from decision_support.exercises.models import Exercise, ExerciseAnswer
from decision_support.predictions.models import TreatmentDecision
from decision_support.registry.models import ModelArtifact, TrainingRun
from decision_support.seminar.models import Annotation, SeminarPack

from .conftest import COURSE_NAME

pytestmark = pytest.mark.django_db


def _consent(cohort) -> dict:
    ids = list(Patient.objects.filter(cohort=cohort).values_list("pk", flat=True))
    return {purpose: permitted_classes_by_patient(ids, purpose=purpose) for purpose in PURPOSES}


def _snapshot(classroom) -> dict:
    """What the database holds, per course: counted, not taken from the service's answer."""
    def of(course):
        return {
            "decisions": TreatmentDecision.objects.filter(patient__cohort__course=course).count(),
            "reviews": (Annotation.objects.filter(patient__cohort__course=course).count()
                        + Annotation.objects.filter(model__run__cohort__course=course).count()),
            "cohorts": sorted(Cohort.objects.filter(course=course).values_list("pk", flat=True)),
            "runs": TrainingRun.objects.filter(cohort__course=course).count(),
            "exercises": Exercise.objects.filter(course=course).count(),
            "answers": ExerciseAnswer.objects.filter(exercise__course=course).count(),
            "packs": {p.name: sorted(p.cases.values_list("patient_id", flat=True))
                      for p in SeminarPack.objects.filter(course=course)},
        }
    return {"course": of(classroom.course), "other": of(classroom.other_course),
            "artifacts": set(ModelArtifact.objects.values_list("sha256", flat=True)),
            "consent_records": ConsentRecord.objects.count(),
            "audit": AuditEntry.objects.count()}


@pytest.fixture
def steward(make_user):
    return make_user("data_steward", username="steward")


@pytest.fixture
def changed_consent(classroom, steward):
    """The seeded consent of the first cohort, then a steward's changes after it: withdrawals,
    a give where the seed denied, a give that lapses; and an erasure."""
    seeded = _consent(classroom.first)
    patients = list(classroom.first.patients.order_by("pk")[:40])
    consent_withdraw(patient=patients[0], data_class="genetic", purpose=Purpose.EDUCATION,
                     actor=steward)
    consent_withdraw(patient=patients[1], data_class="clinical", purpose=Purpose.MODEL_TRAINING,
                     actor=steward)
    declined = next(p for p in patients if "genetic" not in seeded[Purpose.EDUCATION][p.pk])
    consent_give(patient=declined, data_class="genetic", purpose=Purpose.EDUCATION, actor=steward)
    lapsing = next(p for p in patients[5:] if "biomarker" in seeded[Purpose.RESEARCH_EXPORT][p.pk])
    consent_give(patient=lapsing, data_class="biomarker", purpose=Purpose.RESEARCH_EXPORT,
                 actor=steward, period_end=timezone.now() + timedelta(days=1))
    erased = patients[-1]
    patient_erase(erased, actor=steward)
    return {"seeded": seeded, "erased": erased, "changes": 4}


def _seeded(changed_consent) -> dict:
    """The seeded consent of the patients still stored (the erased one is gone)."""
    erased = changed_consent["erased"].pk
    return {purpose: {pk: classes for pk, classes in by_patient.items() if pk != erased}
            for purpose, by_patient in changed_consent["seeded"].items()}


def _reset(client, classroom, name=COURSE_NAME):
    client.force_login(classroom.educator)
    return client.post(reverse("course_reset", args=[classroom.course.pk]),
                       {"confirm_name": name})


def test_a_reset_removes_what_the_class_recorded_and_the_extra_cohorts(client, classroom):
    before = _snapshot(classroom)
    assert before["course"]["decisions"] == 4 and before["course"]["reviews"] == 3
    assert before["course"]["exercises"] == 1 and before["course"]["answers"] == 1
    response = _reset(client, classroom)
    assert response.status_code == 302
    after = _snapshot(classroom)
    assert after["course"]["decisions"] == 0 and after["course"]["reviews"] == 0
    assert after["course"]["exercises"] == after["course"]["answers"] == 0
    assert after["course"]["cohorts"] == [classroom.first.pk]
    assert after["course"]["runs"] == 1  # the first cohort's
    first_cases = set(classroom.first.patients.values_list("pk", flat=True))
    assert after["course"]["packs"] == {
        name: [pk for pk in cases if pk in first_cases]
        for name, cases in before["course"]["packs"].items() if name != "extra only"}
    # The extra run's own artifact went; the one a remaining model shares stayed.
    assert before["artifacts"] - after["artifacts"] == {"b" * 64}
    assert after["other"] == before["other"]


def test_the_reset_page_counts_beforehand_what_the_reset_then_removes(client, classroom):
    client.force_login(classroom.educator)
    page = client.get(reverse("course_reset", args=[classroom.course.pk]))
    assert page.status_code == 200
    preview = page.context["preview"]
    assert preview == {"decisions": 4, "reviews": 3, "exercises": 1, "cohorts": 1, "training_runs": 1,
                       "seminar_packs": 1, "consent_restored": 0}
    _reset(client, classroom)
    entry = AuditEntry.objects.get(action="course.reset")
    assert {k: entry.detail[k] for k in preview} == preview


def test_a_reset_brings_every_patients_consent_back_to_the_seed_and_keeps_erasures(
        client, classroom, changed_consent):
    assert _consent(classroom.first) != changed_consent["seeded"]
    records = ConsentRecord.objects.filter(patient__cohort=classroom.first).count()
    _reset(client, classroom)
    erased = changed_consent["erased"]
    assert _consent(classroom.first) == _seeded(changed_consent)
    # Restored by appending: the history is all there, plus one decision per change.
    assert (ConsentRecord.objects.filter(patient__cohort=classroom.first).count()
            == records + changed_consent["changes"])
    assert not Patient.objects.filter(pk=erased.pk).exists()
    assert Tombstone.objects.filter(pseudonym=erased.pseudonym).exists()
    restores = AuditEntry.objects.filter(action="consent.restore")
    assert restores.count() == changed_consent["changes"]
    assert set(restores.values_list("actor", flat=True)) == {"teacher"}
    assert AuditEntry.objects.get(action="course.reset").detail["consent_restored"] == 4


def test_the_restored_permit_no_longer_lapses(classroom, changed_consent):
    course_reset(course=classroom.course, actor=classroom.educator, purpose=Purpose.EDUCATION)
    ids = list(classroom.first.patients.values_list("pk", flat=True))
    later = timezone.now() + timedelta(days=2)
    assert (permitted_classes_by_patient(ids, purpose=Purpose.RESEARCH_EXPORT, now=later)
            == _seeded(changed_consent)[Purpose.RESEARCH_EXPORT])


def test_a_second_reset_changes_nothing_more(classroom, changed_consent):
    course_reset(course=classroom.course, actor=classroom.educator, purpose=Purpose.EDUCATION)
    records = ConsentRecord.objects.count()
    counts = course_reset(course=classroom.course, actor=classroom.educator,
                          purpose=Purpose.EDUCATION)
    assert set(counts.values()) == {0} and ConsentRecord.objects.count() == records


def test_a_reset_is_audited_once_with_its_counts(client, classroom):
    _reset(client, classroom)
    entry = AuditEntry.objects.get(action="course.reset")
    assert (entry.actor, entry.role, entry.outcome, entry.object_type, entry.object_ref) == (
        "teacher", "educator", "allowed", "course", str(classroom.course.pk))
    assert entry.detail["kept_cohorts"] == [classroom.first.pk]
    assert (entry.detail["decisions"], entry.detail["reviews"], entry.detail["cohorts"]) == (4, 3, 1)


@pytest.mark.parametrize("typed", ["", "spring class 2027", "Spring class", "Another class",
                                   "Spring  class 2027", "x" * 300])
def test_a_wrong_typed_name_answers_400_naming_the_field_and_changes_nothing(client, classroom,
                                                                            typed):
    before = _snapshot(classroom)
    response = _reset(client, classroom, name=typed)
    assert response.status_code == 400
    assert 'data-field="confirm_name"' in response.content.decode()
    assert _snapshot(classroom) == before
    assert not AuditEntry.objects.filter(action="course.reset").exists()


def test_the_expected_name_is_said_when_the_typed_one_is_wrong(client, classroom):
    response = _reset(client, classroom, name="nope")
    assert CONFIRM_MISMATCH.format(name=COURSE_NAME).replace("'", "&#x27;") in response.content.decode()


@pytest.mark.parametrize("demo_scenarios", [["default"], ["default", "trial_to_clinic"]])
def test_a_reset_keeps_every_demo_cohort_of_the_course(classroom, demo_scenarios):
    """seed_demo's cohorts (the default demo and the multi-site lesson) are what a course began
    with: a reset keeps them all, and only them, whichever was created first."""
    demos = [cohort_generate(n_patients=30, seed=3, is_demo=True, course=classroom.course,
                             **({"site_scenario": name} if name != "default" else {}))
             for name in demo_scenarios]
    course_reset(course=classroom.course, actor=classroom.educator, purpose=Purpose.EDUCATION)
    assert (sorted(Cohort.objects.filter(course=classroom.course).values_list("pk", flat=True))
            == sorted(cohort.pk for cohort in demos))
    entry = AuditEntry.objects.get(action="course.reset")
    assert entry.detail["kept_cohorts"] == sorted(cohort.pk for cohort in demos)
    assert entry.detail["cohorts"] == 2  # the classroom's first and extra cohorts
