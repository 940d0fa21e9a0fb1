"""The reveal's numbers, derived here by hand from the stored truth (the true probability of
response by arm, GroundTruth's ``p_response_<arm>``, and the prior failures), never from observed
outcomes; a student's own result; the CSV and the PDF."""

import csv
import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from decision_support.audit.models import AuditEntry
from decision_support.cohorts.models import GroundTruth, Patient
from decision_support.exercises.models import Exercise
from decision_support.exercises.selectors import CSV_COLUMNS, class_results, student_result
from decision_support.exercises.services import exercise_reveal
from decision_support.lib.vocabulary import Purpose
from synthetic_data import ARM_LABELS, ARMS, FIRST_LINE_ARMS, TREATMENT_RESISTANT_ARMS
from tests.pdf_pages import page_break_faults, printed

pytestmark = pytest.mark.django_db


def _eligible(patient) -> list[str]:
    arms = [a for a in FIRST_LINE_ARMS if a != "placebo"]
    return arms + list(TREATMENT_RESISTANT_ARMS) if patient.clinical.prior_failures >= 2 else arms


def _truth(patient) -> dict:
    truth = GroundTruth.objects.get(patient=patient)
    return {arm: getattr(truth, f"p_response_{arm}") for arm in ARMS}


def answer(client, exercise, case, arm, *, confidence=60, reason="Because."):
    return client.post(reverse("exercise_answer", args=[exercise.pk]),
                       {"case": case.position, "arm": arm, "confidence": confidence,
                        "reason": reason})


def _play(client, exercise, students, picks):
    """Each student answers every case with ``picks(student index, eligible arms, truth)``."""
    for i, student in enumerate(students):
        client.force_login(student)
        for case in exercise.ordered_cases():
            arm = picks(i, _eligible(case.patient), _truth(case.patient))
            assert answer(client, exercise, case, arm, confidence=20 + 30 * i).status_code == 302


def _reveal(exercise, educator):
    return exercise_reveal(actor=educator, purpose=Purpose.EDUCATION, exercise=exercise)


PICKS = {
    "the best arm": lambda i, arms, p: max(arms, key=p.get),
    "the worst arm": lambda i, arms, p: min(arms, key=p.get),
    "one best, one first": lambda i, arms, p: max(arms, key=p.get) if i == 0 else arms[0],
}


@pytest.mark.parametrize("picks", PICKS.values(), ids=PICKS)
def test_the_reveal_numbers_follow_the_stored_truth(client, make_exercise, students, educator,
                                                    picks):
    exercise = make_exercise()
    class_ = students(2)
    _play(client, exercise, class_, picks)
    exercise = _reveal(exercise, educator)
    results = class_results(exercise, random_state=0)
    cases = exercise.ordered_cases()
    per_case_class, oracle, model, random = [], [], [], []
    for case in cases:
        p, arms = _truth(case.patient), _eligible(case.patient)
        chosen = [picks(i, arms, p) for i in range(len(class_))]
        per_case_class.append(sum(p[a] for a in chosen) / len(chosen))
        oracle.append(max(p[a] for a in arms))
        model.append(p[case.model_top_arm])
        random.append(sum(p[a] for a in arms) / len(arms))
        row = next(r for r in results["cases"] if r["case"] == case)
        assert row["best"] == max(arms, key=p.get)
        assert {a["arm"]: a["count"] for a in row["arms"] if a["count"]} == {
            arm: chosen.count(arm) for arm in chosen}
    scores = results["scores"]
    assert scores["class"] == pytest.approx(sum(per_case_class) / len(cases))
    assert scores["oracle"] == pytest.approx(sum(oracle) / len(cases))
    assert scores["model"] == pytest.approx(sum(model) / len(cases))
    assert scores["random"] == pytest.approx(sum(random) / len(cases))
    client.force_login(educator)
    page = client.get(reverse("exercise_results", args=[exercise.pk])).content.decode()
    for value in (scores["class"], scores["oracle"], scores["model"], scores["random"]):
        assert f"{value * 100:.1f}%" in page


def test_the_scores_come_from_true_probabilities_not_observed_outcomes(
        client, make_exercise, students, educator):
    exercise = make_exercise()
    _play(client, exercise, students(2), PICKS["one best, one first"])
    exercise = _reveal(exercise, educator)
    before = class_results(exercise, random_state=0)["scores"]
    patients = [c.patient.pk for c in exercise.ordered_cases()]
    for patient in Patient.objects.filter(pk__in=patients):
        patient.response, patient.remission = not patient.response, False
        patient.save()
    assert class_results(exercise, random_state=0)["scores"] == before
    for truth in GroundTruth.objects.filter(patient__in=patients):
        for arm in ARMS:
            setattr(truth, f"p_response_{arm}", round(1 - getattr(truth, f"p_response_{arm}"), 6))
        truth.save()
    assert class_results(exercise, random_state=0)["scores"]["class"] != before["class"]


def test_each_student_sees_their_own_result_after_the_reveal(client, make_exercise, students,
                                                             educator):
    exercise = make_exercise()
    best, first = students(2)
    _play(client, exercise, [best, first], PICKS["one best, one first"])
    client.force_login(best)
    before = client.get(reverse("exercise_my_result", args=[exercise.pk])).content.decode()
    assert 'id="not-revealed"' in before and "my-answers" not in before
    exercise = _reveal(exercise, educator)
    for student, picker in ((best, 0), (first, 1)):
        client.force_login(student)
        page = client.get(reverse("exercise_my_result", args=[exercise.pk])).content.decode()
        result = student_result(exercise, student)
        mine = [PICKS["one best, one first"](picker, _eligible(c.patient), _truth(c.patient))
                for c in exercise.ordered_cases()]
        expected = sum(_truth(c.patient)[a] for c, a in zip(exercise.ordered_cases(), mine)) / 3
        assert result["mine"] == pytest.approx(expected)
        assert f"{expected * 100:.1f}%" in page
        assert [r["answer"].arm for r in result["rows"]] == mine
        assert page.count('class="my-answer"') == 3


def test_the_csv_has_one_row_per_student_and_case(client, make_exercise, students, educator):
    exercise = make_exercise()
    class_ = students(3)
    _play(client, exercise, class_, PICKS["one best, one first"])
    client.force_login(class_[0])
    answer(client, exercise, exercise.ordered_cases()[0], _eligible(
        exercise.ordered_cases()[0].patient)[0], reason='=HYPERLINK("http://x")')
    client.force_login(educator)
    early = client.get(reverse("exercise_csv", args=[exercise.pk]))
    assert early.status_code == 302  # nothing to grade before the reveal
    exercise = _reveal(exercise, educator)
    response = client.get(reverse("exercise_csv", args=[exercise.pk]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == CSV_COLUMNS
    assert len(rows) - 1 == len(class_) * 3
    assert {(r[0], r[2]) for r in rows[1:]} == {(s.username, c.patient.case_label)
                                                for s in class_ for c in exercise.ordered_cases()}
    for row in rows[1:]:
        case = next(c for c in exercise.ordered_cases() if c.patient.case_label == row[2])
        assert float(row[10]) == pytest.approx(_truth(case.patient)[row[4]], abs=1e-4)
        assert row[8] == case.model_top_arm
    assert any(r[6] == "'=HYPERLINK(\"http://x\")" for r in rows[1:])
    assert AuditEntry.objects.filter(action="exercise.export").count() == 1


def test_the_pdf_summary_is_one_page_without_names_and_breaks_nowhere(
        client, monkeypatch, make_exercise, students, educator):
    exercise = make_exercise()
    class_ = students(2, prefix="pupil")
    _play(client, exercise, class_, PICKS["the best arm"])
    exercise = _reveal(exercise, educator)
    client.force_login(educator)
    content, html = printed(client, monkeypatch, reverse("exercise_pdf", args=[exercise.pk]))
    assert page_break_faults(content, html) == []
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) == 1
    assert exercise.name in text and "not for clinical use" in text
    assert not any(s.username in text for s in class_)
    assert ARM_LABELS[exercise.ordered_cases()[0].model_top_arm] in text


def test_results_wait_for_the_reveal(client, make_exercise, educator):
    exercise = make_exercise(state=Exercise.State.OPEN)
    client.force_login(educator)
    page = client.get(reverse("exercise_results", args=[exercise.pk])).content.decode()
    assert 'id="not-revealed"' in page and "scores-table" not in page
    assert client.get(reverse("exercise_pdf", args=[exercise.pk])).status_code == 302
