"""Lesson plans beside the scenarios: every scenario and multi-site lesson brings a 50-minute plan
whose discussion questions and expectation are the scenario's, and a malformed plan is refused."""

from dataclasses import replace

import pytest

from synthetic_data import (LESSON_MINUTES, LESSON_PAGES, LESSON_PLANS, SCENARIOS, SITE_SCENARIOS,
                            LessonPlan, Step)
from synthetic_data.lessons import (BAD_ANSWER_KEY, BAD_MINUTES, BAD_OBJECTIVES, INTRODUCTION,
                                    OWN_QUESTIONS, _check)

LESSONS = {**SCENARIOS, **SITE_SCENARIOS}


def test_every_scenario_and_multi_site_lesson_has_a_plan():
    missing = set(LESSONS) - set(LESSON_PLANS)
    assert not missing, f"add a lesson plan to synthetic_data/lessons.py for: {sorted(missing)}"
    assert set(LESSON_PLANS) == set(LESSONS) | {INTRODUCTION}


@pytest.mark.parametrize("name", sorted(LESSON_PLANS))
def test_each_plan_takes_fifty_minutes_in_steps_on_known_pages(name):
    plan = LESSON_PLANS[name]
    assert sum(step.minutes for step in plan.steps) == LESSON_MINUTES == 50
    assert all(step.minutes > 0 and step.activity for step in plan.steps)
    assert {step.page for step in plan.steps} <= set(LESSON_PAGES)
    assert 3 <= len(plan.objectives) <= 4


@pytest.mark.parametrize("name", sorted(LESSONS))
def test_a_scenarios_plan_asks_its_questions_and_expects_what_it_expects(name):
    plan, scenario = LESSON_PLANS[name], LESSONS[name]
    assert plan.questions == scenario.questions and len(plan.questions) == 3
    assert plan.expected == scenario.expected
    assert plan.cohort_scenario == name
    assert len(plan.answer_key) == len(plan.questions)
    assert all(answer and answer not in scenario.teaching_note for answer in plan.answer_key)


def test_the_introduction_opens_default_cohorts_with_its_own_questions():
    plan = LESSON_PLANS[INTRODUCTION]
    assert plan.lesson is None and plan.cohort_scenario == "default"
    assert len(plan.questions) == len(plan.answer_key) == 3 and plan.expected


def _steps(*minutes):
    return tuple(Step(m, "Do something.", "cohort_overview") for m in minutes)


GOOD = LESSON_PLANS["default"]
MINUTES = BAD_MINUTES.format(name="default", total=50, minutes="{}")
OBJECTIVES = BAD_OBJECTIVES.format(name="default", low=3, high=4, n="{}")
BAD_PLANS = {
    "too few minutes": (replace(GOOD, steps=_steps(10, 10, 10)), MINUTES.format(30)),
    "too many minutes": (replace(GOOD, steps=_steps(30, 30)), MINUTES.format(60)),
    "two objectives": (replace(GOOD, objectives=GOOD.objectives[:2]), OBJECTIVES.format(2)),
    "five objectives": (replace(GOOD, objectives=GOOD.objectives + ("a", "b")),
                        OBJECTIVES.format(5)),
    "an answer missing": (replace(GOOD, answer_key=GOOD.answer_key[:2]),
                          BAD_ANSWER_KEY.format(name="default", n=3, answers=2)),
    "a scenario's plan with its own questions": (
        replace(GOOD, own_questions=("a?", "b?", "c?")), OWN_QUESTIONS.format(name="default")),
    "a plan of no scenario without questions": (
        LessonPlan(name="extra", title="Extra", objectives=GOOD.objectives, steps=GOOD.steps,
                   answer_key=GOOD.answer_key, scenario="default"),
        OWN_QUESTIONS.format(name="extra")),
    "a plan of no scenario opening an unknown scenario": (
        replace(LESSON_PLANS[INTRODUCTION], name="extra", scenario="nowhere"),
        OWN_QUESTIONS.format(name="extra")),
}


@pytest.mark.parametrize("case", sorted(BAD_PLANS))
def test_a_malformed_plan_is_refused(case):
    plan, message = BAD_PLANS[case]
    with pytest.raises(ValueError) as refused:
        _check(plan)
    assert str(refused.value) == message


def test_a_step_on_an_unknown_page_is_refused():
    with pytest.raises(ValueError, match="step page must be one of .* got 'nowhere'"):
        Step(5, "Look.", "nowhere")
