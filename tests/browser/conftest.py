"""Shared by the browser tests: a trained cohort and signing in through the form."""

import pytest
from playwright.sync_api import Page

from decision_support.cohorts.services import cohort_generate
from decision_support.registry import services
from tests.trained_runs import clear_model_caches, narrow_training


def train_cohort(monkeypatch, n_patients=300, **suite_options):
    """A cohort (seed 1) and its training run (``cohort.run``), the training narrowed by
    ``narrow_training(**suite_options)``."""
    clear_model_caches()
    narrow_training(monkeypatch, **suite_options)
    cohort = cohort_generate(n_patients=n_patients, seed=1)
    cohort.run = services.training_run_create(cohort=cohort, seed=1)
    return cohort


@pytest.fixture
def trained_cohort(db, monkeypatch):
    """Every algorithm and variant, as the pages compare them (``train_cohort``)."""
    yield train_cohort(monkeypatch)
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
