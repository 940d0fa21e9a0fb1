"""In Chromium, the ethics-seminar lesson end to end: an educator creates an `underrepresented`
cohort (a lesson the page offers at 600 patients), trains on it, opens a patient and sees the SHAP
chart, opens the fairness page, where the African-ancestry group is flagged, and exports a case
packet; an ethics reviewer then annotates the case.

Creating the cohort and training go through the real task queue: each click only queues a job,
and the test runs a worker itself until the queue is empty, then waits on the job's state, never
on its speed."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from decision_support.cohorts.models import GenerationJob
from decision_support.registry.models import TrainingJob
from decision_support.seminar.models import Annotation
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def task_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_underrepresentation_lesson_from_cohort_to_review(live_server, page: Page, make_user,
                                                          task_queue):
    base = live_server.url
    sign_in(page, base + "/cohorts/new/", make_user("educator"))
    page.locator("#scenario-underrepresented").check()
    page.get_by_label("Size (patients)").fill("600")
    page.get_by_label("Seed").fill("3")
    page.get_by_role("button", name="Create the cohort").click()
    expect(page.locator("#job-status")).to_have_text("Queued")
    generation_url = page.url
    page.goto("about:blank")
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    generation = GenerationJob.objects.get()
    assert generation.status == "done", generation.error
    page.goto(generation_url)  # the page the form opened moves on to the stored cohort
    expect(page.locator("#message-1")).to_contain_text("Cohort created")
    expect(page.locator("main")).to_contain_text("underrepresented")

    page.get_by_role("button", name="Train models on this cohort").click()
    expect(page.locator("#job-status")).to_have_text("Queued")
    job_url = page.url
    page.goto("about:blank")  # no page refreshes while the worker uses the test's database
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    job = TrainingJob.objects.get()
    assert job.status == "done", job.error
    page.goto(job_url)
    expect(page.locator("#job-done")).to_be_visible()
    page.locator("#job-done a").click()
    cohort_id = re.search(r"/cohorts/(\d+)/models/", page.url).group(1)
    page.goto(base + f"/cohorts/{cohort_id}/patients/")
    page.locator("#patient-table tbody a").first.click()
    page.locator("summary", has=page.locator("#explanations")).click()  # a closed section
    waterfall = page.locator('[data-chart^="waterfall-"].js-plotly-plot').first
    expect(waterfall.locator(".waterfalllayer path").first).to_be_visible()
    patient_url = page.url

    page.goto(base + f"/cohorts/{cohort_id}/models/")
    page.locator("main a[href*='/arms/']").first.click()
    page.locator("#fairness-link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile("fairness", re.I))
    expect(page.locator("table").first).to_be_visible()
    # Flagged as a small group, named as absent or too few to compare, whichever held-out set the
    # ranking model has (exactly one of these; the note on hidden sizes may name it as well).
    named = page.locator("#flagged-ancestry, #absent-ancestry, #imprecise-ancestry")
    expect(named.filter(has_text="AFR")).to_have_count(1)
    expect(page.locator("#fairness-ancestry mark").first).to_be_visible()  # a flagged group

    page.goto(patient_url)
    page.locator("#case-packet-link").click()
    with page.expect_download() as download:
        page.locator("#packet-pdf").click()
    pdf = download.value
    assert pdf.suggested_filename.startswith("case-") and pdf.suggested_filename.endswith(".pdf")
    with open(pdf.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"

    sign_in(page, patient_url, make_user("ethics_reviewer"))
    form = page.locator("#review-form")
    for legend in ("Plausibility of the explanation", "Actionability for a clinician",
                   "Fairness concern"):
        form.locator("fieldset", has_text=legend).get_by_label("4").check()
    form.get_by_label("Comment").fill("Too few AFR patients to trust this for them.")
    form.get_by_role("button", name="Record this review").click()
    expect(page.locator("#review-table")).to_contain_text("Too few AFR patients")
    assert Annotation.objects.count() == 1
