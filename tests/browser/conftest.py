"""Shared by the browser tests: a trained cohort and signing in through the form."""

import pytest
from playwright.sync_api import Page

from decision_support.cohorts.services import cohort_generate
from decision_support.registry.services import training_run_create
from tests.trained_runs import clear_model_caches


@pytest.fixture
def trained_cohort(db):
    """An 800-patient cohort and its training run (``trained_cohort.run``)."""
    clear_model_caches()
    cohort = cohort_generate(n_patients=800, seed=1)
    cohort.run = training_run_create(cohort=cohort, seed=1)
    yield cohort
    clear_model_caches()


def tab_to(page: Page, target, max_tabs: int) -> None:
    """Press Tab until an element of ``target`` (a locator) has the focus: it is reachable by
    keyboard within ``max_tabs`` presses."""
    for _ in range(max_tabs):
        if target.evaluate_all("elements => elements.includes(document.activeElement)"):
            return
        page.keyboard.press("Tab")
    pytest.fail(f"{target} cannot be reached in {max_tabs} presses of the Tab key")


def sign_in(page: Page, url: str, user) -> None:
    """Open ``url`` signed out, and sign in as ``user`` on the form it leads to."""
    page.context.clear_cookies()
    page.goto(url)
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(user.raw_password)
    page.get_by_role("button", name="Sign in").click()
