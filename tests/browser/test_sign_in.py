"""In Chromium: sign in and see the cohort overview, with no console errors and no CDN."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_shows_cohort_overview(live_server, page: Page, demo_cohort, signed_in_user):
    console_errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error"
            and console_errors.append(f"{msg.text} ({msg.location.get('url')})"))
    page.on("pageerror", lambda exc: console_errors.append(f"uncaught: {exc}"))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(live_server.url + "/")

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.locator("#synthetic-banner")).to_contain_text("Synthetic data, not for clinical use")
    page.get_by_label("Username").fill(signed_in_user.username)
    page.get_by_label("Password").fill(signed_in_user.raw_password)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(rf"/cohorts/{demo_cohort.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(demo_cohort.name)
    expect(page.locator("#count-patients")).to_have_text("300")
    arm_rows = page.locator("#arm-table tbody tr")
    expect(arm_rows.first).to_be_visible()
    assert arm_rows.count() >= 2
    expect(page.locator(".plot .main-svg, .js-plotly-plot").first).to_be_visible()
    page.wait_for_load_state("networkidle")

    assert console_errors == []
    server = urlsplit(live_server.url).netloc
    elsewhere = [url for url in requested
                 if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).netloc != server]
    assert elsewhere == [], "requests to hosts other than the live server (a CDN?)"
    assert any(url.endswith("/plotly.min.js") for url in requested)
