"""In Chromium, a student reaches a lesson plan from the main navigation with the keyboard alone,
and the plan shows its steps linked to the class's cohort and no answer key. Every wait is on the
page's state, never on time."""

import re

import pytest
from playwright.sync_api import Page, expect

from decision_support.accounts.roles import Role
from synthetic_data import LESSON_PLANS
from tests.browser.conftest import sign_in, tab_to

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAX_TABS = 100  # more than the pages have focusable elements before the links pressed


def test_a_student_opens_a_lesson_plan_from_the_navigation_by_keyboard(live_server, page: Page,
                                                                       demo_cohort, make_user):
    sign_in(page, live_server.url + "/", make_user(Role.STUDENT))
    expect(page).to_have_url(re.compile(rf"/cohorts/{demo_cohort.pk}/$"))

    main_navigation = page.get_by_role("navigation", name="Main")
    tab_to(page, main_navigation.get_by_role("link", name="Lesson plans"), MAX_TABS)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lesson plans")

    plan = LESSON_PLANS["default"]
    tab_to(page, page.get_by_role("link", name=plan.title), MAX_TABS)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(plan.title)
    expect(page.locator(".step")).to_have_count(len(plan.steps))
    expect(page.locator("#step-1 a")).to_have_attribute("href", f"/cohorts/{demo_cohort.pk}/")
    expect(page.locator("#plan-questions li")).to_have_text(list(plan.questions))
    expect(page.locator("#plan-answer-key")).to_have_count(0)
    expect(page.get_by_text(plan.answer_key[0])).to_have_count(0)
