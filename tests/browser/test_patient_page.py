"""In Chromium: sign in, open the patient list, click a patient, open its explanations and see the
SHAP waterfalls."""

import re

import pytest
from playwright.sync_api import Page, expect


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_patient_page_shows_the_shap_waterfall(live_server, page: Page, trained_cohort, signed_in_user):
    console_errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error"
            and console_errors.append(f"{msg.text} ({msg.location.get('url')})"))
    page.on("pageerror", lambda exc: console_errors.append(f"uncaught: {exc}"))

    page.goto(live_server.url + f"/cohorts/{trained_cohort.pk}/patients/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.get_by_label("Username").fill(signed_in_user.username)
    page.get_by_label("Password").fill(signed_in_user.raw_password)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(rf"/cohorts/{trained_cohort.pk}/patients/$"))
    first = page.locator("#patient-table tbody a").first
    pseudonym = first.inner_text()
    first.click()

    expect(page).to_have_url(re.compile(rf"/patients/{pseudonym}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(pseudonym)
    expect(page.locator("#ranking-table tbody tr").first).to_be_visible()
    # The explanations wait in a closed section below the summary: opened from the keyboard,
    # their charts are drawn.
    summary = page.locator("summary", has=page.locator("#explanations"))
    summary.focus()
    page.keyboard.press("Enter")
    # Plotly marks the element it draws into with .js-plotly-plot.
    waterfalls = page.locator('[data-chart^="waterfall-"].js-plotly-plot')
    expect(waterfalls.first).to_be_visible()
    expect(waterfalls.first.locator(".waterfalllayer path").first).to_be_visible()
    n_ranked = page.locator("#ranking-table tbody tr").count()
    expect(waterfalls).to_have_count(n_ranked)
    expect(page.locator("#pgx-disclaimer")).to_contain_text("not a model prediction")
    page.wait_for_load_state("networkidle")

    assert console_errors == []
