"""Making, opening, answering and revealing an exercise through its pages: bad input answers 400
naming the field and writes nothing; every write is audited; who sees the model is balanced and
fixed; a student never sees another student's answer."""

import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from decision_support.accounts.access import POLICIES
from decision_support.accounts.roles import Role
from decision_support.audit.models import AuditEntry
from decision_support.cohorts.models import Patient
from decision_support.consent.selectors import consent_permitted_classes
from decision_support.consent.services import consent_withdraw
from decision_support.courses.models import Course, Membership
from decision_support.exercises import services
from decision_support.exercises.models import Exercise, ExerciseAnswer, ExerciseAssignment
from decision_support.exercises.selectors import case_eligible_arms
from decision_support.exercises.services import exercise_answer, exercise_create, exercise_open
from decision_support.lib.vocabulary import CONSENT_CLASSES, ConsentClass, Purpose
from models.ranking import eligible_arms
from tests.exercises.test_reveal import answer

pytestmark = pytest.mark.django_db


def _written() -> tuple[int, int, int]:
    return (Exercise.objects.count(), ExerciseAnswer.objects.count(), AuditEntry.objects.count())


# --- making an exercise ----------------------------------------------------------------------


def test_an_educator_makes_opens_and_reveals_an_exercise_each_step_audited(
        client, run, case_patients, educator):
    client.force_login(educator)
    numbers = (", ".join(str(p.number) for p in case_patients[:2])
               + f"\n{case_patients[2].pseudonym}")  # numbers and a pseudonym, mixed
    response = client.post(reverse("exercise_create", args=[run.cohort.pk]),
                           {"name": "Monday", "cases": numbers, "mode": "with_model"})
    exercise = Exercise.objects.get(name="Monday")
    assert response.status_code == 302
    assert [c.patient for c in exercise.ordered_cases()] == case_patients[:3]
    assert (exercise.state, exercise.course, exercise.run) == ("draft", run.cohort.course, run)
    for action, state in (("open", "open"), ("reveal", "revealed")):
        assert client.post(reverse(f"exercise_{action}", args=[exercise.pk])).status_code == 302
        exercise.refresh_from_db()
        assert exercise.state == state
    assert list(AuditEntry.objects.filter(action__startswith="exercise.",
                                          object_ref=str(exercise.pk))
                .values_list("action", flat=True)) == [
        "exercise.create", "exercise.open", "exercise.reveal"]


def _cases(patients, kind):
    return {"numbers": ", ".join(str(p.number) for p in patients),
            "pseudonyms": "\n".join(p.pseudonym for p in patients)}[kind]


BAD_EXERCISES = {
    "no name": ({"name": ""}, "name"),
    "unknown mode": ({"mode": "everyone_sees_truth"}, "mode"),
    "two cases": ({"cases": lambda p: _cases(p[:2], "numbers")}, "cases"),
    "eleven cases": ({"cases": lambda p: ", ".join(str(n) for n in range(1, 12))}, "cases"),
    "no cases": ({"cases": " , "}, "cases"),
    "unknown number": ({"cases": lambda p: _cases(p[:2], "numbers") + ", 99999"}, "cases"),
    "unknown pseudonym": ({"cases": lambda p: _cases(p[:2], "pseudonyms") + "\nZZZZZZZZZZZZ"},
                          "cases"),
    "malformed": ({"cases": lambda p: _cases(p[:2], "numbers") + ", =1+1"}, "cases"),
}


@pytest.mark.parametrize("change, field", BAD_EXERCISES.values(), ids=BAD_EXERCISES)
def test_a_bad_exercise_is_refused_with_the_field_named_and_nothing_written(
        client, run, case_patients, educator, change, field):
    client.force_login(educator)
    data = {"name": "Monday", "cases": _cases(case_patients[:3], "numbers"), "mode": "with_model"}
    data.update({k: v(case_patients) if callable(v) else v for k, v in change.items()})
    before = _written()
    response = client.post(reverse("exercise_create", args=[run.cohort.pk]), data)
    assert response.status_code == 400
    assert f'id="error-{field}"' in response.content.decode()
    assert _written() == before


def test_a_case_without_a_ranking_is_refused(client, run, case_patients, educator, monkeypatch):
    monkeypatch.setattr(services, "patient_ranking", lambda patient, run: None)
    client.force_login(educator)
    before = _written()
    response = client.post(reverse("exercise_create", args=[run.cohort.pk]),
                           {"name": "x", "cases": _cases(case_patients[:3], "numbers"),
                            "mode": "with_model"})
    assert response.status_code == 400 and "has no model ranking" in response.content.decode()
    assert _written() == before


@pytest.mark.parametrize("action, state", [("open", "open"), ("reveal", "draft"),
                                           ("open", "revealed"), ("reveal", "revealed")])
def test_a_step_out_of_order_is_refused(client, make_exercise, educator, action, state):
    exercise = make_exercise(state=state)
    client.force_login(educator)
    before = _written()
    response = client.post(reverse(f"exercise_{action}", args=[exercise.pk]))
    assert response.status_code == 400 and 'id="error-state"' in response.content.decode()
    assert _written() == before


# --- answering -------------------------------------------------------------------------------


def test_a_student_answers_and_may_change_the_answer_until_the_reveal(
        client, make_exercise, students, educator):
    exercise = make_exercise()
    student, = students(1)
    client.force_login(student)
    case = exercise.ordered_cases()[0]
    first, second = case_eligible_arms(case.patient)[:2]
    response = answer(client, exercise, case, first, confidence=30)
    assert response["Location"].endswith("?case=2")
    answer(client, exercise, case, second, confidence=80)
    saved = ExerciseAnswer.objects.get()
    assert (saved.arm, saved.confidence) == (second, 80)
    entries = AuditEntry.objects.filter(action="exercise.answer")
    assert [e.detail["revised"] for e in entries] == [False, True]
    exercise.state, exercise.revealed_at = "revealed", exercise.opened_at
    exercise.save()
    assert answer(client, exercise, case, first).status_code == 400
    assert ExerciseAnswer.objects.get().arm == second


BAD_ANSWERS = {
    "confidence above 100": ({"confidence": "101"}, "confidence"),
    "negative confidence": ({"confidence": "-1"}, "confidence"),
    "confidence not a number": ({"confidence": "NaN"}, "confidence"),
    "no reason": ({"reason": "  "}, "reason"),
    "reason too long": ({"reason": "x" * 1001}, "reason"),
    "placebo": ({"arm": "placebo"}, "arm"),
    "unknown arm": ({"arm": "homeopathy"}, "arm"),
}


@pytest.mark.parametrize("change, field", BAD_ANSWERS.values(), ids=BAD_ANSWERS)
def test_a_bad_answer_is_refused_with_the_field_named_and_nothing_written(
        client, make_exercise, students, change, field):
    exercise = make_exercise()
    client.force_login(students(1)[0])
    case = exercise.ordered_cases()[0]
    client.get(reverse("exercise_answer", args=[exercise.pk]))
    before = _written()
    data = {"case": case.position, "arm": case_eligible_arms(case.patient)[0], "confidence": 50,
            "reason": "Because.", **change}
    response = client.post(reverse("exercise_answer", args=[exercise.pk]), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert f'id="error-{field}"' in body and "Nothing was saved" in body
    assert case.patient.pseudonym not in body  # the refusal carries no patient data
    assert _written() == before


def test_an_arm_the_patient_is_not_eligible_for_is_refused_by_the_service(
        client, make_exercise, students):
    exercise = make_exercise()
    client.force_login(students(1)[0])
    case = next((c for c in exercise.ordered_cases()
                 if "rtms" not in case_eligible_arms(c.patient)), None)
    if case is None:
        pytest.skip("every case is treatment-resistant")
    before = _written()
    assert answer(client, exercise, case, "rtms").status_code == 400
    assert _written() == before


def test_a_draft_exercise_does_not_exist_for_students(client, make_exercise, students):
    exercise = make_exercise(state=Exercise.State.DRAFT)
    client.force_login(students(1)[0])
    assert client.get(reverse("exercise_answer", args=[exercise.pk])).status_code == 404
    assert exercise.name not in client.get(reverse("exercise_list")).content.decode()


def test_only_the_course_students_answer(make_exercise, make_user):
    exercise = make_exercise()
    other = Course.objects.create(name="Other course")
    outsider = make_user("student", username="outsider", course=other)
    case = exercise.ordered_cases()[0]
    with pytest.raises(ValidationError) as error:
        exercise_answer(actor=outsider, purpose="TRAIN", exercise=exercise, case=case,
                        arm=case_eligible_arms(case.patient)[0], confidence=5, reason="x")
    assert "user" in error.value.message_dict
    assert not Membership.objects.filter(user=outsider, course=exercise.course).exists()


# --- who sees the model ---------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 5, 8])
def test_half_the_class_sees_the_model_balanced_and_fixed(client, make_exercise, students, n):
    exercise = make_exercise(mode=Exercise.Mode.HALF_WITH_MODEL)
    class_ = students(n)
    for student in class_:
        client.force_login(student)
        page = client.get(reverse("exercise_answer", args=[exercise.pk])).content.decode()
        shows = ExerciseAssignment.objects.get(exercise=exercise, user=student).shows_model
        assert ('id="model-section"' in page) is shows
        assert ('id="no-model-note"' in page) is not shows
        client.get(reverse("exercise_answer", args=[exercise.pk]))  # a second visit
    with_model = ExerciseAssignment.objects.filter(exercise=exercise, shows_model=True).count()
    assert ExerciseAssignment.objects.filter(exercise=exercise).count() == n
    assert abs(with_model - (n - with_model)) <= n % 2


@pytest.mark.parametrize("mode, shows", [("with_model", True), ("features_only", False)])
def test_fixed_modes_show_the_model_to_everyone_or_no_one(client, make_exercise, students,
                                                          mode, shows):
    exercise = make_exercise(mode=mode)
    for student in students(3):
        client.force_login(student)
        page = client.get(reverse("exercise_answer", args=[exercise.pk])).content.decode()
        assert ('id="model-section"' in page) is shows


def test_a_case_shows_no_treatment_received_nor_outcome(client, make_exercise, students):
    exercise = make_exercise(mode="with_model")
    client.force_login(students(1)[0])
    page = client.get(reverse("exercise_answer", args=[exercise.pk])).content.decode()
    assert 'id="values-clinical"' in page
    assert 'id="values-treatment"' not in page and 'id="values-outcome"' not in page


# --- privacy ---------------------------------------------------------------------------------

STUDENT_PAGES = sorted(name for name, policy in POLICIES.items()
                       if name.startswith("exercise_") and policy and Role.STUDENT in policy.roles)


@pytest.mark.parametrize("state", ["open", "revealed"])
def test_a_student_never_sees_another_students_answer(client, make_exercise, students,
                                                      educator, state):
    exercise = make_exercise()
    me, other = students(2)
    client.force_login(other)
    for case in exercise.ordered_cases():
        answer(client, exercise, case, case_eligible_arms(case.patient)[-1], confidence=77,
               reason="SECRET-OTHER-REASON")
    client.force_login(me)
    answer(client, exercise, exercise.ordered_cases()[0],
           case_eligible_arms(exercise.ordered_cases()[0].patient)[0], reason="my own reason")
    if state == "revealed":
        exercise.state, exercise.revealed_at = "revealed", exercise.opened_at
        exercise.save()
    assert STUDENT_PAGES == ["exercise_answer", "exercise_list", "exercise_my_result"]
    for name in STUDENT_PAGES:
        args = [] if name == "exercise_list" else [exercise.pk]
        for case in ["", *(str(c.position) for c in exercise.ordered_cases())]:
            body = client.get(reverse(name, args=args), {"case": case} if case else {})
            text = body.content.decode()
            assert "SECRET-OTHER-REASON" not in text and other.username not in text, name
            assert "77%" not in text, name
    for name in ("exercise_counts", "exercise_results", "exercise_detail", "exercise_csv"):
        assert client.get(reverse(name, args=[exercise.pk])).status_code == 404


def test_the_shared_screens_name_no_student(client, make_exercise, students, educator):
    exercise = make_exercise()
    class_ = students(2, prefix="named")
    for student in class_:
        client.force_login(student)
        case = exercise.ordered_cases()[0]
        answer(client, exercise, case, case_eligible_arms(case.patient)[0], reason="why not")
    client.force_login(educator)
    client.post(reverse("exercise_reveal", args=[exercise.pk]))
    pages = [reverse("exercise_detail", args=[exercise.pk]),
             reverse("exercise_counts", args=[exercise.pk]),
             reverse("exercise_results", args=[exercise.pk])]
    pages += [reverse("exercise_present", args=[exercise.pk]) + f"?case={c.position}"
              for c in exercise.ordered_cases()]
    for path in pages:
        text = client.get(path).content.decode()
        assert not any(s.username in text for s in class_), path
        assert "why not" not in text, path


@pytest.mark.parametrize("data_class", [ConsentClass.CLINICAL, ConsentClass.GENETIC])
def test_a_withdrawal_after_the_exercise_was_made_holds_on_its_pages(
        client, run, case_patients, students, educator, data_class):
    """Consent is read on every view: withheld values are absent, and without clinical data a
    treatment-resistant case is offered the first-line arms only (the second-line ones would
    reveal its prior failures)."""
    everything = set(CONSENT_CLASSES)
    resistant = next(p for p in Patient.objects.filter(cohort=run.cohort,
                                                       clinical__prior_failures__gte=2)
                     .order_by("number") if p not in case_patients[:2]
                     and consent_permitted_classes(p, purpose=Purpose.EDUCATION) == everything)
    exercise = exercise_open(actor=educator, purpose=Purpose.EDUCATION, exercise=exercise_create(
        actor=educator, purpose=Purpose.EDUCATION, cohort=run.cohort, name="Resistant first",
        mode="with_model", patients=[resistant, *case_patients[:2]]))
    case = exercise.ordered_cases()[0]
    assert "rtms" in case_eligible_arms(case.patient)
    consent_withdraw(patient=case.patient, data_class=data_class, purpose=Purpose.EDUCATION,
                     actor=educator)
    client.force_login(students(1)[0])
    page = client.get(reverse("exercise_answer", args=[exercise.pk])).content.decode()
    assert f'id="values-{data_class}"' not in page
    note = re.search(r'id="consent-note".*?</p>', page, re.S).group(0)
    assert f"{data_class.label}.</p>" in note and "data data" not in note  # the label says "data"
    offered = set(re.findall(r'name="arm" value="(\w+)"', page))
    if data_class == ConsentClass.CLINICAL:
        assert offered == set(eligible_arms(False))
        assert 'id="ranking-table"' not in page  # no clinical data: no model may be applied
    else:
        assert offered == set(case_eligible_arms(case.patient))


def test_the_live_counts_come_from_the_database_and_name_no_one(client, make_exercise, students,
                                                                educator):
    exercise = make_exercise()
    class_ = students(3)
    cases = exercise.ordered_cases()
    for i, student in enumerate(class_):
        client.force_login(student)
        for case in cases[:i + 1]:
            answer(client, exercise, case, case_eligible_arms(case.patient)[0])
    client.force_login(educator)
    counts = client.get(reverse("exercise_counts", args=[exercise.pk])).json()
    assert (counts["students"], counts["opened"], counts["answered"], counts["complete"]) == (
        3, 3, 3, 1)
    assert [c["answers"] for c in counts["cases"]] == [3, 2, 1]
    assert not any(s.username in json.dumps(counts) for s in class_)
