"""models.exercise_scoring: each number against a hand computation over small made-up cases."""

import pytest

from models.exercise_scoring import (Choice, ScoredCase, calibration, class_interval, class_rate,
                                     follow_rates, summary)

P = {"ssri": 0.30, "snri": 0.50, "cbt": 0.40, "rtms": 0.90}
FIRST_LINE = ("ssri", "snri", "cbt")


@pytest.mark.parametrize("eligible, best", [
    (FIRST_LINE, "snri"),  # rTMS is truly better but not eligible: never the best arm
    (FIRST_LINE + ("rtms",), "rtms"),
    (("ssri", "cbt"), "cbt"),
])
def test_the_best_arm_is_the_truly_best_eligible_one(eligible, best):
    case = ScoredCase(key="1", eligible=eligible, p_response=P, model_top="ssri")
    assert case.best_arm == best
    assert case.oracle == P[best]
    assert case.random == pytest.approx(sum(P[a] for a in eligible) / len(eligible))
    assert case.model_wrong is (best != "ssri")


def test_a_case_without_an_eligible_arm_is_refused():
    with pytest.raises(ValueError, match="no eligible arm"):
        ScoredCase(key="9", eligible=("esketamine",), p_response=P, model_top=None)


CASES = {"1": ScoredCase("1", FIRST_LINE, P, "ssri"),  # model wrong (best: snri)
         "2": ScoredCase("2", FIRST_LINE, {"ssri": 0.7, "snri": 0.2, "cbt": 0.1}, "ssri")}


def _choices(*rows):
    return [Choice(student=s, case=c, arm=a, confidence=conf, shows_model=m)
            for s, c, a, conf, m in rows]


def test_the_class_rate_weighs_each_case_the_same():
    choices = _choices(("a", "1", "snri", 90, True), ("b", "1", "ssri", 10, False),
                       ("c", "1", "ssri", 50, False), ("a", "2", "cbt", 30, True))
    # Case 1: (0.5 + 0.3 + 0.3) / 3; case 2: 0.1; then the mean of the two cases.
    assert class_rate(CASES, choices) == pytest.approx(((0.5 + 0.3 + 0.3) / 3 + 0.1) / 2)
    assert class_rate(CASES, []) is None


def test_the_class_interval_is_over_students_and_reproducible():
    choices = _choices(("a", "1", "snri", 90, True), ("b", "1", "ssri", 10, False),
                       ("a", "2", "ssri", 80, True), ("b", "2", "cbt", 20, False))
    low, high = class_interval(CASES, choices, random_state=0)
    # Resampling two students can only give a's rate, b's, or the class's.
    a = (0.5 + 0.7) / 2
    b = (0.3 + 0.1) / 2
    assert b <= low <= high <= a
    assert class_interval(CASES, choices, random_state=0) == (low, high)
    assert class_interval(CASES, choices[:1], random_state=0) is None  # one student


def test_follow_rates_split_by_group_and_by_whether_the_model_was_wrong():
    choices = _choices(("a", "1", "ssri", 90, True), ("a", "2", "ssri", 90, True),
                       ("b", "1", "snri", 50, True), ("c", "1", "ssri", 50, False),
                       ("c", "2", "cbt", 50, False))
    rows = {(r["shows_model"], r["model_wrong"]): r for r in follow_rates(CASES, choices)}
    assert (rows[True, True]["followed"], rows[True, True]["answers"]) == (1, 2)
    assert (rows[True, False]["followed"], rows[True, False]["answers"]) == (1, 1)
    assert (rows[False, True]["followed"], rows[False, True]["answers"]) == (1, 1)
    assert (rows[False, False]["followed"], rows[False, False]["share"]) == (0, 0.0)


def test_calibration_bands_hold_mean_confidence_and_the_share_right():
    choices = _choices(("a", "1", "snri", 95, True), ("b", "1", "ssri", 85, True),
                       ("c", "2", "ssri", 10, False))
    bands = {r["band"]: r for r in calibration(CASES, choices)}
    assert list(bands) == ["0–19", "20–39", "40–59", "60–79", "80–100"]
    assert bands["80–100"]["answers"] == 2
    assert bands["80–100"]["mean_confidence"] == pytest.approx(0.90)
    assert bands["80–100"]["best_share"] == pytest.approx(0.5)
    assert bands["0–19"]["best_share"] == 1.0
    assert bands["40–59"]["answers"] == 0 and bands["40–59"]["best_share"] is None


def test_the_summary_scores_all_policies_on_the_answered_cases_only():
    cases = {**CASES, "3": ScoredCase("3", FIRST_LINE, {"ssri": 0.9, "snri": 0.9, "cbt": 0.9},
                                      "cbt")}
    choices = _choices(("a", "1", "snri", 90, True), ("b", "2", "ssri", 40, False))
    scores = summary(cases, choices, random_state=0)
    assert scores["cases_answered"] == 2 and scores["students"] == 2
    assert scores["model"] == pytest.approx((0.3 + 0.7) / 2)
    assert scores["oracle"] == pytest.approx((0.5 + 0.7) / 2)
    assert scores["random"] == pytest.approx((0.4 + (0.7 + 0.2 + 0.1) / 3) / 2)
    assert scores["with_model"] == pytest.approx(0.5)
    assert scores["without_model"] == pytest.approx(0.7)
