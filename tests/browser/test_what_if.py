"""In Chromium, as an educator: open a patient's what-if explorer from the patient page, change
CRP, and see the SSRI prediction and its SHAP waterfall change beside the original (no inline
script: the charts come from the page's JSON and static scripts)."""

import re

import pytest
from playwright.sync_api import Page, expect

from decision_support.cohorts.models import Patient
from decision_support.consent.reads import consented_patient
from decision_support.consent.selectors import consent_permitted_classes
from decision_support.lib.vocabulary import CONSENT_CLASSES, Purpose
from decision_support.predictions.selectors import patient_ranking
from tests.browser.conftest import sign_in, train_cohort
from tests.trained_runs import clear_model_caches

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def trained_cohort(db, monkeypatch):
    """800 patients: enough for the ranking model to have learnt what CRP does to SSRI response
    (trained on 300, it can be flat in CRP for the patient chosen)."""
    yield train_cohort(monkeypatch, n_patients=800)
    clear_model_caches()


def _patient_with_ssri(cohort):
    for patient in Patient.objects.filter(cohort=cohort).order_by("pk"):
        if consent_permitted_classes(patient, purpose=Purpose.EDUCATION) != set(CONSENT_CLASSES):
            continue
        consented = consented_patient(patient, purpose=Purpose.EDUCATION)
        ranking = patient_ranking(consented, cohort.run)
        if ranking is not None and "ssri" in set(ranking["arm"]):
            return patient, float(consented.values["crp_mg_l"])
    pytest.fail("no fully consented patient with SSRI ranked")


def test_changing_crp_changes_the_ssri_prediction_and_waterfall(live_server, page: Page,
                                                                 trained_cohort, make_user):
    patient, crp = _patient_with_ssri(trained_cohort)
    console_errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and console_errors.append(msg.text))
    page.on("pageerror", lambda exc: console_errors.append(f"uncaught: {exc}"))

    sign_in(page, live_server.url + f"/patients/{patient.pseudonym}/", make_user("educator"))
    page.get_by_role("link", name="What if…?").click()
    expect(page).to_have_url(re.compile(rf"/patients/{patient.pseudonym}/what-if/$"))
    expect(page.locator("#immutable-ancestry")).to_have_text("immutable")
    ssri = page.locator("#what-if-ssri")
    expect(ssri.locator(".difference")).to_have_text("+0.0")
    original = ssri.locator(".original").inner_text()

    page.get_by_label("Explain").select_option(label="SSRI")
    page.get_by_label("hs-CRP", exact=False).fill("0.05" if crp > 5 else "60")
    page.get_by_role("button", name="Show what if").click()

    expect(page.locator("#changed-summary")).to_contain_text("CRP")
    expect(ssri.locator(".original")).to_have_text(original)
    expect(ssri.locator(".changed")).not_to_have_text(original)
    expect(ssri.locator(".difference")).not_to_have_text(re.compile(r"^[+-]0\.0$"))
    for when in ("before", "after"):
        chart = page.locator(f'[data-chart="{when}-waterfall-ssri"].js-plotly-plot')
        expect(chart.locator(".waterfalllayer path").first).to_be_visible()
    tables = page.locator(".what-if-waterfall .chart-table")
    expect(tables).to_have_count(2)
    # The tables sit in closed <details>: compare their text, not what is rendered.
    assert tables.nth(0).text_content() != tables.nth(1).text_content()
    expect(page.locator("#what-if-truth")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert console_errors == []
