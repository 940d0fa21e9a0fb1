"""In Chromium, as a steward then an educator: withdraw a patient's genetic consent for education,
see the patient's predictions move to the `no_genetic` model with a note, and the audit chain hold."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from decision_support.audit.verify import verify_chain
from decision_support.cohorts.models import Patient
from decision_support.cohorts.services import cohort_generate
from decision_support.consent.constants import CONSENT_CLASSES, Purpose
from decision_support.consent.selectors import consent_permitted_classes
from decision_support.predictions import services
from decision_support.predictions.services import training_run_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def trained_cohort(db):
    services.load_artifact.cache_clear()
    services._fitted_model.cache_clear()
    cohort = cohort_generate(n_patients=400, seed=1)
    training_run_create(cohort=cohort, seed=1)
    yield cohort
    services.load_artifact.cache_clear()
    services._fitted_model.cache_clear()


def _sign_in(page: Page, base: str, user) -> None:
    page.context.clear_cookies()
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(user.raw_password)
    page.get_by_role("button", name="Sign in").click()


def test_withdrawing_genetic_consent_switches_the_model(live_server, page: Page, trained_cohort,
                                                        make_user, capsys):
    patient = next(p for p in Patient.objects.filter(cohort=trained_cohort).order_by("pk")
                   if consent_permitted_classes(p, purpose=Purpose.EDUCATION) == set(CONSENT_CLASSES))
    steward, educator = make_user("data_steward"), make_user("educator")

    _sign_in(page, live_server.url, educator)
    page.goto(live_server.url + f"/patients/{patient.pseudonym}/")
    expect(page.locator("#consent-note")).to_have_count(0)

    _sign_in(page, live_server.url, steward)
    page.goto(live_server.url + f"/cohorts/{trained_cohort.pk}/patients/")
    page.get_by_role("link", name=patient.pseudonym).click()
    expect(page).to_have_url(re.compile(rf"/patients/{patient.pseudonym}/consent/$"))
    cell = page.locator(f"#cell-genetic-{Purpose.EDUCATION}")
    expect(cell.locator(".state")).to_have_text(re.compile("permitted", re.I))
    cell.get_by_role("button", name="Withdraw").click()
    expect(page.locator(f"#cell-genetic-{Purpose.EDUCATION} .state")).to_have_text(re.compile("denied", re.I))
    # The steward has no patient page.
    assert page.goto(live_server.url + f"/patients/{patient.pseudonym}/").status == 404

    _sign_in(page, live_server.url, educator)
    page.goto(live_server.url + f"/patients/{patient.pseudonym}/")
    expect(page.locator("#consent-note")).to_contain_text("Genetic and epigenetic data")
    expect(page.locator("#consent-note")).to_contain_text("no_genetic")
    expect(page.locator("#pgx-withheld")).to_be_visible()

    assert verify_chain().ok
    call_command("verify_audit")
    assert "OK" in capsys.readouterr().out
