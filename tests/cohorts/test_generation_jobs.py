"""Creating a cohort from its page: a generation job with its phase and progress; tasks run inline
in tests (``tests/conftest.py``), a real worker takes the job in
``tests/browser/test_seminar_walkthrough.py``."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from decision_support.audit.models import AuditEntry
from decision_support.cohorts import jobs, services
from decision_support.cohorts.models import Cohort, GenerationJob, Patient
from decision_support.consent.models import ConsentRecord
from decision_support.courses.models import Course
from decision_support.lib.jobs import stale_after
from decision_support.lib.vocabulary import Purpose

pytestmark = pytest.mark.django_db

SCENARIO = "default"


@pytest.fixture
def educator(client, make_user):
    user = make_user("educator", username="test_educator")
    client.force_login(user)
    client.user = user
    return client


def _create(client, **fields):
    return client.post(reverse("cohort_create"),
                       {"scenario": SCENARIO, "n_patients": "300", "seed": "11", **fields})


def _job_page(client, job, **query) -> str:
    response = client.get(reverse("generation_job", args=[job.pk]), query)
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def _job(status, **fields) -> GenerationJob:
    return GenerationJob.objects.create(course=Course.objects.default(), scenario=SCENARIO,
                                        n_patients=300, purpose=Purpose.EDUCATION,
                                        started_by="someone", status=status, **fields)


def test_the_form_queues_a_job_whose_page_moves_on_to_the_stored_cohort(educator):
    response = _create(educator)
    job = GenerationJob.objects.get()
    assert response.status_code == 303
    assert response["Location"] == reverse("generation_job", args=[job.pk]) + "?follow=1"
    assert (job.status, job.progress, job.error) == ("done", 1.0, "")
    assert job.cohort == Cohort.objects.get() and job.cohort.n_patients == 300
    assert job.started_by == "test_educator" and job.finished_at >= job.began_at >= job.started_at
    overview = educator.get(response["Location"], follow=True)
    assert overview.redirect_chain == [(reverse("cohort_overview", args=[job.cohort.pk]), 302)]
    assert "Cohort created: 300 patients of the scenario default, seed 11." in (
        overview.content.decode())


def test_a_finished_job_s_page_opened_again_links_its_cohort(educator):
    _create(educator, name="Week 3")
    job = GenerationJob.objects.get()
    page = _job_page(educator, job)
    assert 'id="job-status" class="status-done">Done<' in page
    assert (f'id="job-done">Done: <a href="{reverse("cohort_overview", args=[job.cohort.pk])}">'
            f'Week 3</a>, 300 patients, is stored.') in page
    assert 'http-equiv="refresh"' not in page and 'value="100"' in page


def test_the_job_reports_each_phase_as_the_page_shows_it(educator, monkeypatch):
    """What the job's row says each time the service reports: generating, storing batch by
    batch, seeding consent (read from the row, as the page reads it)."""
    seen = []
    create = services.cohort_create

    def observed(**kwargs):
        report = kwargs["progress"]

        def progress(phase, done, total):
            report(phase, done, total)
            job = GenerationJob.objects.get()
            seen.append((job.status, job.progress, job.message))
        return create(**{**kwargs, "progress": progress})

    monkeypatch.setattr(services, "STORE_BATCH_SIZE", 100)
    monkeypatch.setattr(jobs, "cohort_create", observed)
    _create(educator)
    assert seen == [
        ("running", 0.0, "Generating 300 patients"),
        ("running", 0.3, "Storing the patients: 0 of 300"),
        ("running", 0.5, "Storing the patients: 100 of 300"),
        ("running", 0.7, "Storing the patients: 200 of 300"),
        ("running", 0.9, "Storing the patients: 300 of 300"),
        ("running", 0.9, "Seeding the consent decisions of 300 patients"),
    ]
    assert GenerationJob.objects.get().message == "Done: 300 patients stored"


@pytest.mark.parametrize("status", ["queued", "running"])
def test_an_active_job_s_page_shows_its_progress_and_refreshes_itself(educator, status):
    job = _job(status, progress=0.42, message="Storing the patients: <b>")
    page = _job_page(educator, job, follow="1")
    assert f'class="status-{status}">{status.capitalize()}<' in page
    assert '<progress id="job-progress" max="100" value="42">' in page
    assert "Storing the patients: &lt;b&gt;" in page
    assert '<meta http-equiv="refresh" content="2">' in page
    assert ("make run" in page) == (status == "queued")


def test_a_failed_job_says_why_and_that_nothing_was_stored(educator, monkeypatch):
    """It fails after its patients were written: they roll back with the cohort."""
    def broken(**kwargs):
        assert Patient.objects.count() == 300
        raise RuntimeError("disk <full>")

    monkeypatch.setattr(services, "consent_carry_over", broken)
    response = _create(educator)
    job = GenerationJob.objects.get()
    assert (job.status, job.cohort, job.error) == ("failed", None, "RuntimeError: disk <full>")
    assert not Cohort.objects.exists() and not Patient.objects.exists()
    assert not ConsentRecord.objects.exists()
    assert not AuditEntry.objects.filter(action="cohort.create").exists()
    page = " ".join(educator.get(response["Location"]).content.decode().split())  # no move
    assert "Generating the cohort failed: RuntimeError: disk &lt;full&gt;" in page
    assert "Nothing was stored: no cohort was created." in page
    assert 'http-equiv="refresh"' not in page


def test_starting_and_storing_are_audited_as_the_educator_in_the_course(educator):
    _create(educator, seed="")
    job = GenerationJob.objects.get()
    start, created = (AuditEntry.objects.get(action=action)
                      for action in ("cohort.create_start", "cohort.create"))
    for entry in (start, created):
        assert (entry.actor, entry.role, entry.purpose, entry.outcome) == (
            "test_educator", "educator", Purpose.EDUCATION, "allowed")
    assert start.sequence < created.sequence
    assert (start.object_type, start.object_ref) == ("course", str(job.course_id))
    assert start.detail == {"job": job.pk, "course": job.course_id, "scenario": SCENARIO,
                            "multi_site": False, "n_patients": 300, "seed": None}
    assert created.object_ref == str(job.cohort.uid)
    assert created.detail["course"] == job.course_id and created.detail["seed_drawn"] is True


def test_a_job_whose_worker_went_silent_fails_with_nothing_stored(educator):
    job = _job("running", worker="elsewhere:123")
    GenerationJob.objects.filter(pk=job.pk).update(
        updated_at=timezone.now() - stale_after() - dt.timedelta(seconds=1))
    page = _job_page(educator, job, follow="1")
    job.refresh_from_db()
    assert job.status == "failed" and "the worker generating this cohort stopped" in job.error
    assert "Nothing was stored" in page and not Cohort.objects.exists()


def test_a_queued_job_no_worker_has_taken_waits_however_long(educator):
    job = _job("queued")
    GenerationJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - dt.timedelta(days=2))
    _job_page(educator, job)
    job.refresh_from_db()
    assert job.status == "queued"


@pytest.mark.parametrize("role", ["student", "ethics_reviewer", "data_steward"])
def test_only_educators_see_a_job(client, make_user, role):
    job = _job("done")
    client.force_login(make_user(role))
    assert client.get(reverse("generation_job", args=[job.pk])).status_code == 404


def test_an_educator_of_another_course_gets_404(client, make_user):
    other = Course.objects.create(name="Another course")
    job = _job("running")
    client.force_login(make_user("educator", course=other))
    assert client.get(reverse("generation_job", args=[job.pk])).status_code == 404
    client.force_login(make_user("educator", username="insider"))
    assert client.get(reverse("generation_job", args=[job.pk])).status_code == 200


def _cohort_list(client) -> str:
    response = client.get(reverse("cohort_list"))
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def _job_link(job) -> str:
    return f'href="{reverse("generation_job", args=[job.pk])}"'


def test_the_cohort_list_shows_its_educators_every_job_under_way(educator):
    queued, running = _job("queued", name="Morning class"), _job("running", progress=0.42)
    finished, failed = _job("done"), _job("failed")
    page = _cohort_list(educator)
    assert "Being generated" in page
    assert "Morning class</a>: 300 patients, queued" in page
    assert f'{_job_link(running)}>default</a>: 300 patients, running' in page
    assert f'<progress max="100" value="42" aria-label="Progress of job {running.pk}">' in page
    assert page.index(_job_link(queued)) < page.index(_job_link(running))  # oldest first
    assert _job_link(finished) not in page and _job_link(failed) not in page


def test_a_job_whose_worker_went_silent_leaves_the_cohort_list_failed(educator):
    job = _job("running", worker="elsewhere:123")
    GenerationJob.objects.filter(pk=job.pk).update(
        updated_at=timezone.now() - stale_after() - dt.timedelta(seconds=1))
    page = _cohort_list(educator)
    assert _job_link(job) not in page and "Being generated" not in page
    job.refresh_from_db()
    assert job.status == "failed"


@pytest.mark.parametrize("role", ["student", "ethics_reviewer", "data_steward"])
def test_the_cohort_list_shows_jobs_only_to_those_who_may_follow_them(client, make_user, role):
    job = _job("running")
    client.force_login(make_user(role))
    assert _job_link(job) not in _cohort_list(client)
    client.force_login(make_user("educator", course=Course.objects.create(name="Another course"),
                                 username="elsewhere"))
    assert _job_link(job) not in _cohort_list(client)
    client.force_login(make_user("educator", username="insider"))
    assert _job_link(job) in _cohort_list(client)
