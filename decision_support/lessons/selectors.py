"""Reads for the lesson-plan pages: a plan as a role may see it, its steps linked into the app.

The plans are data beside the scenarios (``synthetic_data.lessons``). The answer key is like the
simulation's truth: ``shown_plan`` drops it, here and only here, for every role outside
``accounts.access.ANSWER_KEY_ROLES``, so no page or PDF can show a key it was never given.

A step names its page symbolically; it opens the newest cohort of the plan's scenario in the
user's courses (or that cohort's newest training run). Without such a cohort it opens the
new-cohort page with the scenario chosen (for those who may create one), and says so; without a
training run, the cohort's overview, where models are trained.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from decision_support.accounts.access import ANSWER_KEY_ROLES, POLICIES, can
from decision_support.cohorts.selectors import visible_cohorts
from decision_support.registry.selectors import latest_run
from synthetic_data import ARMS, LESSON_PLANS, get_lesson_plan

COHORT, RUN = "cohort", "run"
# Symbolic page of a step -> (URL name, label, the object its URL needs).
PAGES = {
    "cohort_overview": ("cohort_overview", "Cohort overview", COHORT),
    "patient_list": ("patient_list", "Patient list", COHORT),
    "cohort_compare": ("cohort_compare", "Compare cohorts", COHORT),
    "run_overview": ("run_overview", "Models of the cohort", COHORT),
    "model_detail": ("model_detail", "Model page", RUN),
    "model_fairness": ("model_fairness", "Fairness audit", RUN),
    "model_card": ("model_card", "Model card", RUN),
    "run_travel": ("run_travel", "Does it travel?", RUN),
    "cohort_create": ("cohort_create", "New cohort", None),
    "data_dictionary": ("data_dictionary", "Data dictionary", None),
    "seminar_packs": ("seminar_pack_list", "Seminar packs", None),
    "exercises": ("exercise_list", "Exercises", None),
}

NOT_FOR_YOUR_ROLE = "This page is not open to your role."
COHORT_LINKS = "The links open the cohort {name}, the newest of the scenario in your courses."
NO_COHORT_CREATE = ("No cohort of the scenario {scenario} in your courses yet: the links to its "
                    "pages open the new-cohort page with the scenario chosen.")
NO_COHORT_ASK = ("No cohort of the scenario {scenario} in your courses yet: ask an educator to "
                 "create one.")
NO_RUN = ("No models trained on this cohort yet: the link opens its overview, where an educator "
          "trains them.")


@dataclass(frozen=True)
class ShownStep:
    minutes: int
    activity: str
    page: str  # the page's label
    url: str | None
    note: str = ""


@dataclass(frozen=True)
class ShownPlan:
    """A plan as one user may see it: ``answer_key`` holds (question, answer) pairs for
    ``ANSWER_KEY_ROLES`` and is empty for everyone else."""

    name: str
    title: str
    scenario: str
    multi_site: bool
    teaching_note: str
    objectives: tuple[str, ...]
    steps: tuple[ShownStep, ...]
    questions: tuple[str, ...]
    expected: str
    answer_key: tuple[tuple[str, str], ...]
    links: str  # what the steps' links open

    @property
    def minutes(self) -> int:
        return sum(step.minutes for step in self.steps)


def lesson_plan_list() -> list[dict]:
    """Every plan's name, title and scenario, in the order they were registered."""
    return [{"name": plan.name, "title": plan.title, "scenario": plan.cohort_scenario,
             "multi_site": plan.multi_site} for plan in LESSON_PLANS.values()]


def shown_plan(name: str, *, roles, course_ids) -> ShownPlan:
    """The plan ``name`` for these roles, its steps linked to the newest cohort of its scenario
    in ``course_ids`` (``request.course_ids``); raises ValueError for an unknown plan."""
    plan = get_lesson_plan(name)
    scenario = plan.cohort_scenario
    cohort = visible_cohorts(course_ids).filter(scenario=scenario).first()
    run = latest_run(cohort) if cohort is not None else None
    arms = set(run.models.values_list("arm", flat=True)) if run is not None else set()
    steps = tuple(_step(step, roles=roles, scenario=scenario, cohort=cohort, run=run, arms=arms)
                  for step in plan.steps)
    if cohort is not None:
        links = COHORT_LINKS.format(name=cohort.name)
    elif can(roles, POLICIES["cohort_create"].roles):
        links = NO_COHORT_CREATE.format(scenario=scenario)
    else:
        links = NO_COHORT_ASK.format(scenario=scenario)
    key = (tuple(zip(plan.questions, plan.answer_key, strict=True))
           if can(roles, ANSWER_KEY_ROLES) else ())
    return ShownPlan(name=plan.name, title=plan.title, scenario=scenario,
                     multi_site=plan.multi_site,
                     teaching_note=plan.lesson.teaching_note if plan.lesson else "",
                     objectives=plan.objectives, steps=steps, questions=plan.questions,
                     expected=plan.expected, answer_key=key, links=links)


def _step(step, *, roles, scenario, cohort, run, arms) -> ShownStep:
    url_name, label, needs = PAGES[step.page]
    shown = {"minutes": step.minutes, "activity": step.activity, "page": label}
    if not can(roles, POLICIES[url_name].roles):
        return ShownStep(**shown, url=None, note=NOT_FOR_YOUR_ROLE)
    if needs is None:
        return ShownStep(**shown, url=reverse(url_name))
    if cohort is None:  # the plan says so once, above its steps
        create = can(roles, POLICIES["cohort_create"].roles)
        return ShownStep(**shown, url=_new_cohort_url(scenario) if create else None)
    if url_name == "cohort_compare":  # the cohort as A; B is the default scenario's newest
        return ShownStep(**shown, url=reverse(url_name) + "?" + urlencode({"a": cohort.pk}))
    if needs == COHORT:
        return ShownStep(**shown, url=reverse(url_name, args=[cohort.pk]))
    if run is None:
        return ShownStep(**shown, url=reverse("cohort_overview", args=[cohort.pk]), note=NO_RUN)
    if url_name == "run_travel":
        return ShownStep(**shown, url=reverse(url_name, args=[run.pk]))
    arm = step.arm if step.arm in arms else next(a for a in ARMS if a in arms)
    return ShownStep(**shown, url=reverse(url_name, args=[run.pk, arm]))


def _new_cohort_url(scenario: str) -> str:
    return reverse("cohort_create") + "?" + urlencode({"scenario": scenario})
