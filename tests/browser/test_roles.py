"""In Chromium, each demo role signs in and finds only the pages the README's matrix promises."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAVIGATION = {
    "educator": ["Courses", "Cohorts", "Models", "Seminar packs", "Exercises", "Reviews", "Data dictionary", "Primer", "Glossary", "Lesson plans", "API", "Pause predictions…"],
    "student": ["Courses", "Cohorts", "Models", "Seminar packs", "Exercises", "Data dictionary", "Primer", "Glossary", "Lesson plans", "API"],
    "ethics_reviewer": ["Courses", "Cohorts", "Models", "Seminar packs", "Reviews", "Data dictionary", "Primer", "Glossary", "Lesson plans", "Audit log", "API"],
    "data_steward": ["Courses", "Cohorts", "Data dictionary", "Primer", "Glossary", "Lesson plans", "Erasures", "Audit log", "API"],
}
AUDIT_LOG_ROLES = {"ethics_reviewer", "data_steward"}


@pytest.mark.parametrize("role", sorted(NAVIGATION))
def test_each_role_sees_its_own_navigation_and_nothing_more(live_server, page: Page, demo_cohort,
                                                           make_user, role):
    sign_in(page, live_server.url + "/accounts/login/", make_user(role))
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_text(NAVIGATION[role])
    expect(page.locator("#synthetic-banner")).to_contain_text("not for clinical use")
    status = page.goto(live_server.url + "/audit/").status
    assert status == (200 if role in AUDIT_LOG_ROLES else 404)
