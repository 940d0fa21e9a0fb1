"""In Chromium: an educator creates a course and a join code; a newcomer joins by typing the code
and makes an account on the way; a roster gives one-time set-password links, downloaded as CSV
and used once. No console errors (the CSP holds)."""

import csv
import io
import re
from pathlib import Path

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from decision_support.accounts.roles import Role
from decision_support.courses.models import Course
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-pass-phrase-77"


def test_a_class_enrols_by_code_and_by_roster(live_server, page: Page, make_user):
    cache.clear()  # the join throttle's counts
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    educator = make_user(Role.EDUCATOR, username="teacher", course=Course.objects.default())

    sign_in(page, live_server.url + "/courses/", educator)
    page.get_by_role("link", name="Courses").first.click()
    page.get_by_label("Course name").fill("Evening seminar")
    page.get_by_role("button", name="Create the course").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Evening seminar")
    page.get_by_label("Joins as").select_option("student")
    page.get_by_role("button", name="Create a code").click()
    code = page.locator("#code-table .join-code").first.inner_text()
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}", code)
    expect(page.locator("#code-table")).to_contain_text(f"/join/{code.replace('-', '')}/")

    # A newcomer types the code (in lower case, from the projector) and makes an account.
    page.context.clear_cookies()
    page.goto(live_server.url + "/join/")
    page.get_by_label("Course code").fill(code.lower())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Join Evening seminar")
    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("Display name (what the class sees)").fill("New Comer")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Join the course").click()
    expect(page.get_by_role("status").first).to_contain_text("You joined Evening seminar as student")
    expect(page.locator("#member-table")).to_contain_text("New Comer (you)")
    expect(page.locator("#member-table")).to_contain_text("teacher")

    # The educator enrols two more from a roster and downloads their links.
    sign_in(page, live_server.url + "/courses/", educator)
    page.get_by_role("link", name="Evening seminar").click()
    page.get_by_role("link", name="Enrol students from a roster (CSV)").click()
    page.get_by_label("Roster (CSV: username,display_name)").set_input_files(files=[{
        "name": "roster.csv", "mimeType": "text/csv",
        "buffer": b"username,display_name\r\nada,Ada Lovelace\r\nalan,Alan Turing\r\n"}])
    page.get_by_role("button", name="Enrol").click()
    expect(page.locator("#link-table tbody tr")).to_have_count(2)
    with page.expect_download() as download:
        page.locator("#links-csv").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    links = {row["username"]: row["set_password_link"] for row in rows}
    assert set(links) == {"ada", "alan"}

    # Ada opens her link, sets a password, and is in the course; the link then is dead.
    page.context.clear_cookies()
    page.goto(links["ada"])
    page.get_by_label("New password", exact=True).fill(PASSWORD)
    page.get_by_label("New password again").fill(PASSWORD)
    page.get_by_role("button", name="Set the password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My courses")
    expect(page.locator("#course-table")).to_contain_text("Evening seminar")
    assert errors == []
    page.context.clear_cookies()
    page.goto(links["ada"])
    expect(page.locator("#dead-link")).to_be_visible()  # answered with 400
