"""Lesson plans in the app: the list and each plan for every role, the answer key for educators
only (page and PDF), steps linked into the user's own cohorts, the PDF printed without a heading
stranded at the foot of a page, and the links to the plans from the navigation and the scenario
texts."""

import html
import io
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.urls import reverse
from pypdf import PdfReader

from decision_support.accounts.roles import Role
from decision_support.cohorts.services import cohort_generate
from decision_support.courses.models import Course
from decision_support.lessons.selectors import (COHORT_LINKS, NO_COHORT_ASK, NO_COHORT_CREATE,
                                                NO_RUN, NOT_FOR_YOUR_ROLE, PAGES, ShownPlan,
                                                ShownStep)
from decision_support.lib.printing import pdf_from_html
from synthetic_data import LESSON_PAGES, LESSON_PLANS, SCENARIOS, SITE_SCENARIOS
from tests.pdf_pages import page_break_faults, pdf_pages, printed

pytestmark = pytest.mark.django_db

E, S, R, D = Role.EDUCATOR, Role.STUDENT, Role.ETHICS_REVIEWER, Role.DATA_STEWARD
ROLES = [E, S, R, D]
PLANS = sorted(LESSON_PLANS)
LINK = re.compile(r'<a href="([^"]+)">Open: ')


def _page(client, make_user, role, name, **kwargs):
    client.force_login(make_user(role, **kwargs))
    response = client.get(reverse("lesson_detail", args=[name]))
    assert response.status_code == 200
    return response


def _squeezed(text: str) -> str:
    """Text without whitespace: a PDF wraps lines (and words at hyphens) where it likes."""
    return "".join(text.split())


def _pdf_pages(client, name) -> list[str]:
    response = client.get(reverse("lesson_pdf", args=[name]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages]


def test_every_symbolic_page_of_a_step_has_a_page_in_the_app():
    assert set(PAGES) == set(LESSON_PAGES)


@pytest.mark.parametrize("role", ROLES)
def test_the_navigation_and_the_list_lead_every_role_to_every_plan(client, make_user, role):
    client.force_login(make_user(role))
    home = html.unescape(client.get(reverse("lesson_list")).content.decode())
    assert f'<a href="{reverse("lesson_list")}">Lesson plans</a>' in home
    for name, plan in LESSON_PLANS.items():
        assert f'<a href="{reverse("lesson_detail", args=[name])}">{plan.title}</a>' in home


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", PLANS)
def test_each_plan_shows_its_lesson_and_the_answer_key_only_to_educators(client, make_user,
                                                                        name, role):
    plan = LESSON_PLANS[name]
    text = html.unescape(_page(client, make_user, role, name).content.decode())
    shown = [plan.title, *plan.objectives, *(step.activity for step in plan.steps),
             *plan.questions, plan.expected]
    assert all(part in text for part in shown)
    assert ("Answer key" in text) == (role == E)
    for answer in plan.answer_key:
        assert (answer in text) == (role == E), answer[:60]


@pytest.mark.parametrize("role", ROLES)
def test_the_pdf_holds_the_answer_key_only_for_educators(client, make_user, role):
    client.force_login(make_user(role))
    for name, plan in LESSON_PLANS.items():
        text = _squeezed("\n".join(_pdf_pages(client, name)))
        assert _squeezed(plan.title) in text and _squeezed(plan.questions[-1]) in text
        assert (_squeezed("Answer key") in text) == (role == E), name
        for answer in plan.answer_key:
            assert (_squeezed(answer) in text) == (role == E), (name, answer[:60])


@pytest.mark.parametrize("name", PLANS)
def test_no_pdf_page_ends_with_a_heading_or_is_left_mostly_blank(client, make_user, monkeypatch,
                                                                 name):
    """An educator's PDF is the longest (it has the answer key)."""
    client.force_login(make_user(E))
    faults = page_break_faults(*printed(client, monkeypatch, reverse("lesson_pdf", args=[name])))
    assert faults == [], "\n".join(faults)


def test_the_print_style_keeps_headings_with_what_follows_and_steps_whole():
    css = Path(finders.find("lessons/lesson.css")).read_text()
    rules = re.search(r"@media print \{(.*)\}\s*$", css, re.S).group(1)
    assert re.search(r"h1, h2, h3 \{[^}]*break-after: avoid", rules)
    assert re.search(r"\.step, \.answer \{[^}]*break-inside: avoid", rules)
    assert re.search(r"\.site-header[^{]*\{[^}]*display: none", rules)


def test_an_unknown_plan_is_not_found(client, make_user):
    client.force_login(make_user(S))
    assert client.get(reverse("lesson_detail", args=["no_such_plan"])).status_code == 404
    assert client.get(reverse("lesson_pdf", args=["no_such_plan"])).status_code == 404


# --- steps linked into the app -----------------------------------------------------------------


def _links(response) -> list[str]:
    return [html.unescape(url) for url in LINK.findall(response.content.decode())]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", ["introduction", "default"])
def test_steps_open_the_newest_cohort_of_the_scenario_and_every_link_opens(client, make_user,
                                                                          demo_cohort, name, role):
    newer = cohort_generate(n_patients=300, seed=2)
    response = _page(client, make_user, role, name)
    text = html.unescape(response.content.decode())
    assert COHORT_LINKS.format(name=newer.name) in text
    links = _links(response)
    assert links and all(f"/cohorts/{demo_cohort.pk}/" not in url for url in links)
    for url in links:
        assert client.get(url).status_code == 200, url
    # No training run yet: the model pages' steps open the cohort's overview and say why.
    model_steps = [s for s in LESSON_PLANS[name].steps if PAGES[s.page][2] == "run"]
    if role != D:
        assert (NO_RUN in text) == bool(model_steps)
    else:
        assert NO_RUN not in text and NOT_FOR_YOUR_ROLE in text


SCENARIO_PLANS = sorted(set(SCENARIOS) - {"default"}) + sorted(SITE_SCENARIOS)


@pytest.mark.parametrize("name", SCENARIO_PLANS)
def test_without_a_cohort_educators_are_led_to_create_one_and_others_told_to_ask(client, make_user,
                                                                                name):
    response = _page(client, make_user, E, name)
    assert NO_COHORT_CREATE.format(scenario=name) in html.unescape(response.content.decode())
    new_cohort = f"{reverse('cohort_create')}?scenario={name}"
    links = _links(response)
    assert new_cohort in links
    page = client.get(new_cohort).content.decode()
    assert re.search(rf'value="{name}" id="scenario-{name}" checked', page)
    for role in (S, R):
        response = _page(client, make_user, role, name, username=f"other_{role.value}")
        assert NO_COHORT_ASK.format(scenario=name) in html.unescape(response.content.decode())
        assert not any(url.startswith(reverse("cohort_create")) for url in _links(response))


@pytest.mark.parametrize("role", [E, S, R])
def test_a_cohort_of_another_course_is_not_linked(client, make_user, demo_cohort, role):
    other = Course.objects.create(name="Another class")
    response = _page(client, make_user, role, "default", username="outsider", course=other)
    assert all(f"/cohorts/{demo_cohort.pk}/" not in url for url in _links(response))
    assert demo_cohort.name not in response.content.decode()


def test_the_new_cohort_page_preselects_only_a_known_scenario(client, make_user):
    client.force_login(make_user(E))
    page = client.get(reverse("cohort_create"), {"scenario": "<script>"}).content.decode()
    assert re.search(r'value="default" id="scenario-default" checked', page)
    assert "<script>" not in page


def test_the_scenario_texts_link_their_lesson_plan(client, make_user, demo_cohort):
    client.force_login(make_user(E))
    create = client.get(reverse("cohort_create")).content.decode()
    for name in (*SCENARIOS, *SITE_SCENARIOS):
        assert f'<a href="{reverse("lesson_detail", args=[name])}" id="lesson-{name}">' in create
    for role in ROLES:
        client.force_login(make_user(role, username=f"reader_{role.value}"))
        overview = client.get(reverse("cohort_overview", args=[demo_cohort.pk])).content.decode()
        assert (f'<a href="{reverse("lesson_detail", args=["default"])}" id="scenario-lesson">'
                in overview)


def _long_plan() -> ShownPlan:
    """A plan long enough to fill pages, with steps of uneven length, so that without the print
    rules some heading would land at the foot of a page."""
    sentence = "Read the page in pairs and note what the model credits and why. "
    steps = tuple(ShownStep(minutes=number, activity=sentence * (1 + number * 7 % 9),
                            page="Cohort overview", url="http://testserver/cohorts/1/")
                  for number in range(1, 41))
    return ShownPlan(name="long", title="A long plan", scenario="default", multi_site=False,
                     teaching_note=sentence * 4, objectives=("One.", "Two.", "Three."),
                     steps=steps, questions=("A?", "B?", "C?"), expected=sentence * 3,
                     answer_key=(("A?", sentence * 5), ("B?", sentence * 5), ("C?", sentence)),
                     links="")


def test_a_plan_of_many_pages_leaves_no_heading_at_the_foot_of_one(db):
    plan = _long_plan()
    html = render_to_string("lessons/plan_pdf.html", {"plan": plan})
    pdf = pdf_from_html(html)
    assert len(pdf_pages(pdf)) >= 4
    assert page_break_faults(pdf, html) == []
    for number, page in enumerate(pdf_pages(pdf)[:-1], start=1):
        # A page ends where a step, an objective or an answer ends, never inside one.
        assert page.lines[-1].startswith("Open: ") or page.lines[-1].endswith("."), \
            f"page {number} splits a step: {page.lines[-1]!r}"
