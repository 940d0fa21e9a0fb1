"""In Chromium, "Does it travel?": from the run overview of a small stored multi-site run
(trial_to_clinic) to the page, its internal-vs-external table, the calibration and SHAP-shift
charts drawn, and the recalibration form filled and sent from the keyboard; a student sees the
page without the truth. Every wait is on the page's state, never on time."""

import pytest
from playwright.sync_api import Page, expect

from decision_support.accounts.roles import Role
from decision_support.cohorts.services import cohort_generate
from decision_support.registry import services
from models.ranking import RANKING_ALGORITHM
from tests.browser.conftest import sign_in, tab_to
from tests.trained_runs import clear_model_caches, narrow_training

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAX_TABS = 300  # more than the page has focusable elements before the form


@pytest.fixture
def travel_run(db, monkeypatch):
    """A trial_to_clinic cohort of 400 patients per site, trained (logistic regression only) at
    the trial and validated at the clinic."""
    clear_model_caches()
    narrow_training(monkeypatch, algorithms=(RANKING_ALGORITHM,))
    cohort = cohort_generate(n_patients=400, seed=5, site_scenario="trial_to_clinic")
    yield services.training_run_create(cohort=cohort, seed=1)
    clear_model_caches()


def _errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    return errors


def test_an_educator_follows_the_run_to_the_travel_page_and_recalibrates_by_keyboard(
        live_server, page: Page, make_user, travel_run):
    errors = _errors(page)
    sign_in(page, live_server.url + f"/cohorts/{travel_run.cohort_id}/models/",
            make_user(Role.EDUCATOR))
    page.locator("#travel-link a").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Does it travel?")

    table = page.locator("#travel-table-clinic")
    expect(table).to_be_visible()
    expect(table.locator("thead")).to_contain_text("ROC AUC internal")
    expect(table.locator("thead")).to_contain_text("ROC AUC external")
    expect(table.locator("tbody tr").first).to_be_visible()
    # Plotly marks the element it draws into with .js-plotly-plot.
    calibration = page.locator('[data-chart^="calibration-clinic-"].js-plotly-plot').first
    expect(calibration.locator(".scatterlayer .trace").first).to_be_visible()
    shap_shift = page.locator('[data-chart^="shap-shift-clinic-"].js-plotly-plot').first
    expect(shap_shift.locator(".barlayer .point").first).to_be_visible()
    expect(page.locator("#travel-truth")).to_be_visible()
    expect(page.locator("#recalibration-table-clinic")).to_have_count(0)

    page.locator("h1").focus()
    size = page.get_by_label("Local sample size")
    tab_to(page, size, MAX_TABS)
    page.keyboard.press("Control+A")
    page.keyboard.type("60")
    page.keyboard.press("Enter")

    recalibrated = page.locator("#recalibration-table-clinic")
    expect(recalibrated).to_be_visible()
    expect(recalibrated).to_contain_text("60 patients")
    expect(recalibrated.locator('tr[data-figure="calibration_in_the_large"]').first).to_be_visible()
    assert "n_local=60" in page.url
    page.wait_for_load_state("networkidle")
    assert errors == []


def test_a_student_sees_the_travel_page_without_the_truth(live_server, page: Page, make_user,
                                                          travel_run):
    sign_in(page, live_server.url + f"/runs/{travel_run.pk}/travel/", make_user(Role.STUDENT))
    expect(page.locator("#travel-table-clinic")).to_be_visible()
    expect(page.locator('[data-chart^="calibration-clinic-"].js-plotly-plot').first).to_be_visible()
    expect(page.locator("#recalibration-form")).to_be_visible()
    expect(page.locator("#travel-truth")).to_have_count(0)
    expect(page.locator("#travel-policy-clinic")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("The truth")
