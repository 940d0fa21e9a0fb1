"""In Chromium, as a steward then an educator: withdraw a patient's genetic consent for education,
see the patient's predictions move to the `no_genetic` model with a note, and the audit chain hold."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from decision_support.audit.verify import verify_chain
from decision_support.cohorts.models import Patient
from decision_support.consent.selectors import consent_permitted_classes
from decision_support.lib.vocabulary import CONSENT_CLASSES, Purpose
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_withdrawing_genetic_consent_switches_the_model(live_server, page: Page, trained_cohort,
                                                        make_user, capsys):
    patient = next(p for p in Patient.objects.filter(cohort=trained_cohort).order_by("pk")
                   if consent_permitted_classes(p, purpose=Purpose.EDUCATION) == set(CONSENT_CLASSES))
    steward, educator = make_user("data_steward"), make_user("educator")

    sign_in(page, live_server.url + "/accounts/login/", educator)
    page.goto(live_server.url + f"/patients/{patient.pseudonym}/")
    expect(page.locator("#consent-note")).to_have_count(0)

    sign_in(page, live_server.url + "/accounts/login/", steward)
    page.goto(live_server.url + f"/cohorts/{trained_cohort.pk}/patients/")
    page.get_by_role("link", name=patient.pseudonym).click()
    expect(page).to_have_url(re.compile(rf"/patients/{patient.pseudonym}/consent/$"))
    cell = page.locator(f"#cell-genetic-{Purpose.EDUCATION}")
    expect(cell.locator(".state")).to_have_text(re.compile("permitted", re.I))
    cell.get_by_role("button", name="Withdraw").click()
    expect(page.locator(f"#cell-genetic-{Purpose.EDUCATION} .state")).to_have_text(re.compile("denied", re.I))
    # The steward has no patient page.
    assert page.goto(live_server.url + f"/patients/{patient.pseudonym}/").status == 404

    sign_in(page, live_server.url + "/accounts/login/", educator)
    page.goto(live_server.url + f"/patients/{patient.pseudonym}/")
    expect(page.locator("#consent-note")).to_contain_text("Genetic and epigenetic data")
    expect(page.locator("#consent-note")).to_contain_text("no_genetic")
    expect(page.locator("#pgx-withheld")).to_be_visible()

    assert verify_chain().ok
    call_command("verify_audit")
    assert "OK" in capsys.readouterr().out
