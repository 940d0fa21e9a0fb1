"""In Chromium, issue 15's class end to end: an educator creates a course and a join code; two
students join by the code, each making an account on the way; the educator makes a three-case
exercise with the model shown to half the class and opens it; the students answer on their own
pages; the live count reaches two; the educator reveals, downloads the CSV (one row per student
and case) and steps through presenter mode with the keyboard; each student sees their own result,
and nobody else's.

The course's cohort and its run are made by services once the course exists (training from the
page would tie the test to training speed). The run is small (300 patients, the ranking algorithm
only). The test waits on states (``expect``), never on speed: the live count is polled by the
page's script.
"""

import csv

import pytest
from django.core.cache import cache
from playwright.sync_api import Browser, Page, expect

from decision_support.cohorts.models import Patient
from decision_support.cohorts.services import cohort_generate
from decision_support.consent.selectors import consent_permitted_classes
from decision_support.courses.models import Course
from decision_support.exercises.models import ExerciseAssignment
from decision_support.lib.vocabulary import CONSENT_CLASSES, Purpose
from decision_support.registry import services
from models.ranking import RANKING_ALGORITHM
from tests.browser.conftest import sign_in
from tests.trained_runs import clear_model_caches, narrow_training

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASONS = {"ana": "Ana's private reason", "ben": "Ben's private reason"}


PASSWORD = "a-long-pass-phrase-77"


@pytest.fixture
def course_run(monkeypatch):
    """Factory: a 300-patient cohort of a course and a run of the ranking algorithm on it."""
    clear_model_caches()
    cache.clear()  # the join throttle's counts
    narrow_training(monkeypatch, algorithms=(RANKING_ALGORITHM,))

    def make(course):
        return services.training_run_create(cohort=cohort_generate(n_patients=300, seed=1,
                                                                   course=course), seed=1)

    yield make
    clear_model_caches()


def _join(page: Page, link: str, username: str) -> None:
    """A newcomer opens the join link and makes an account on the way in."""
    page.goto(link)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Display name (what the class sees)").fill(username.title())
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Join the course").click()
    expect(page.get_by_role("status").first).to_contain_text("as student")


def _answer_every_case(page: Page, reason: str) -> None:
    for _ in range(3):
        form = page.locator("#answer-form")
        form.locator("input[name=arm]").first.check()
        form.locator("input[name=confidence]").fill("65")
        form.locator("textarea[name=reason]").fill(reason)
        form.locator("button[type=submit]").click()
    expect(page.locator("#not-revealed")).to_contain_text("answered 3 cases")


def test_an_educator_runs_a_three_case_exercise_half_with_the_model(
        live_server, page: Page, browser: Browser, make_user, course_run):
    base = live_server.url
    educator = make_user("educator", username="teacher")  # teaches the demo course
    sign_in(page, base + "/courses/", educator)
    page.get_by_label("Course name").fill("Psychiatry 101")
    page.get_by_role("button", name="Create the course").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Psychiatry 101")
    page.get_by_label("Joins as").select_option("student")
    page.get_by_role("button", name="Create a code").click()
    code = page.locator("#code-table .join-code").first.inner_text()
    join_link = f"{base}/join/{code.replace('-', '')}/"

    run = course_run(Course.objects.get(name="Psychiatry 101"))
    everything = set(CONSENT_CLASSES)
    cases = [p for p in Patient.objects.filter(cohort=run.cohort).order_by("number")
             if consent_permitted_classes(p, purpose=Purpose.EDUCATION) == everything][:3]

    page.goto(base + "/exercises/")
    page.get_by_role("link", name=f"New exercise on {run.cohort.name}").click()
    page.get_by_label("Name").fill("Monday seminar")
    page.get_by_label("Cases: numbers or pseudonyms").fill(", ".join(str(p.number) for p in cases))
    page.get_by_label("A random half of the class with the model").check()
    page.get_by_role("button", name="Make the exercise").click()
    expect(page.locator("#exercise-state")).to_contain_text("Draft")
    page.get_by_role("button", name="Open it for answers").click()
    expect(page.locator("#exercise-state")).to_contain_text("Open for answers")
    answer_url = page.locator("#join-note a").get_attribute("href")
    expect(page.locator("#count-complete")).to_have_text("0")

    student_pages = {}
    for name in REASONS:
        own = browser.new_page()
        _join(own, join_link, name)
        own.goto(answer_url)
        expect(own.locator("#case-title")).to_contain_text(cases[0].case_label)
        _answer_every_case(own, REASONS[name])
        student_pages[name] = own

    # The live count, polled by the page's script, reaches both students without a reload.
    expect(page.locator("#count-complete")).to_have_text("2", timeout=20_000)
    page.get_by_role("button", name="Reveal the results").click()
    expect(page.locator("#exercise-state")).to_contain_text("Revealed")
    groups = sorted(ExerciseAssignment.objects.values_list("shows_model", flat=True))
    assert groups == [False, True]  # half the class with the model

    with page.expect_download() as download:
        page.locator("#csv-link").click()
    with open(download.value.path(), newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    assert len(rows) == len(REASONS) * 3
    assert {(r[0], r[2]) for r in rows} == {(s, p.case_label) for s in REASONS for p in cases}

    page.locator("#results-link").click()
    expect(page.locator("#scores-table")).to_contain_text("The truly best arm (oracle)")
    # Presenter mode: one case per screen, the keyboard moves between them.
    page.get_by_role("link", name="presenter mode").click()
    expect(page.locator("h1")).to_contain_text(f"{cases[0].case_label} (1 of 3)")
    page.wait_for_load_state()  # the page's keyboard script runs before "load"
    page.keyboard.press("ArrowRight")
    expect(page.locator("h1")).to_contain_text(f"{cases[1].case_label} (2 of 3)")
    page.wait_for_load_state()
    page.keyboard.press("n")
    expect(page.locator("#scores-table")).to_be_visible()  # the last screen sums up
    page.wait_for_load_state()
    page.keyboard.press("p")
    expect(page.locator("h1")).to_contain_text(f"{cases[1].case_label} (2 of 3)")

    for name, own in student_pages.items():
        own.goto(answer_url.replace("/answer/", "/my-result/"))
        expect(own.locator("#my-answers .my-answer")).to_have_count(3)
        expect(own.locator("#score-mine")).to_contain_text("%")
        expect(own.locator("#my-answers")).to_contain_text(REASONS[name])
        other = next(n for n in REASONS if n != name)
        expect(own.locator("main")).not_to_contain_text(REASONS[other])
        own.close()
