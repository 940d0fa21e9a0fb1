"""Training from a page: a job per cohort with its progress; tasks run inline in tests
(``tests/conftest.py``), the workers themselves in ``test_training_workers.py``."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from decision_support.audit.models import AuditEntry
from decision_support.cohorts.services import cohort_generate
from decision_support.consent.models import Tombstone
from decision_support.lib.jobs import stale_after
from decision_support.lib.vocabulary import Purpose
from decision_support.registry import jobs, services
from decision_support.registry.jobs import training_job_start
from decision_support.registry.models import TrainingJob, TrainingRun
from tests.trained_runs import clear_model_caches

pytestmark = pytest.mark.django_db


@pytest.fixture
def educator_client(client, make_user):
    client.force_login(make_user("educator", username="test_educator"))
    return client


@pytest.fixture
def fake_training(monkeypatch):
    """A stand-in for the slow suite: reports progress like ``train_suite`` and stores a run."""
    calls = []

    def train(*, cohort, progress=None, seed=None, on_stored=None):
        for done in (1, 2, 3):
            progress(done, 3, f"ssri logistic_regression variant {done}")
            calls.append(TrainingJob.objects.get(cohort=cohort, status="running").progress)
        progress(3, 3, services.STORING_LABEL)
        run = TrainingRun.objects.create(cohort=cohort, scenario=cohort.scenario, seed=1,
                                         n_patients=cohort.n_patients, library_versions={},
                                         duration_seconds=0.5)
        on_stored(run)
        return run

    monkeypatch.setattr(jobs, "training_run_create", train)
    return calls


def _train(client, cohort):
    return client.post(reverse("cohort_train", args=[cohort.pk]))


def test_training_from_the_page_finishes_with_a_run(educator_client, demo_cohort):
    """The real suite, inline: the job ends done with the run it stored (300 patients)."""
    response = _train(educator_client, demo_cohort)
    job = TrainingJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("training_job", args=[job.pk])
    assert (job.status, job.error) == ("done", "") and job.progress == 1.0
    assert job.run == TrainingRun.objects.get(cohort=demo_cohort)
    assert job.run.models.exists() and job.started_by == "test_educator"
    assert job.finished_at >= job.started_at
    page = educator_client.get(response.url).content.decode()
    assert 'id="job-status" class="status-done">Done<' in page
    assert f"training run {job.run.pk}" in page and 'http-equiv="refresh"' not in page
    # The stored rows roll back with the test; the per-process model caches do not.
    clear_model_caches()


def test_progress_is_reported_per_fitted_model(educator_client, demo_cohort, fake_training):
    _train(educator_client, demo_cohort)
    assert fake_training == pytest.approx([0.05 + 0.9 / 3, 0.05 + 0.9 * 2 / 3, 0.95])
    job = TrainingJob.objects.get()
    assert job.status == "done" and job.message.startswith("Done: training run")


@pytest.mark.parametrize("status", ["queued", "running"])
def test_the_job_page_shows_progress_and_refreshes_itself_while_active(educator_client,
                                                                        demo_cohort, status):
    job = TrainingJob.objects.create(cohort=demo_cohort, status=status, progress=0.42,
                                     message="Fitted 26 of 63 models <b>", started_by="someone")
    response = educator_client.get(reverse("training_job", args=[job.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert f'class="status-{status}">{status.capitalize()}<' in page
    assert '<progress id="job-progress" max="100" value="42">' in page
    assert "Fitted 26 of 63 models &lt;b&gt;" in page
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "<script>" not in page  # the CSP forbids inline script: the refresh is a meta tag


def test_a_failed_job_shows_its_error(educator_client, demo_cohort, monkeypatch):
    def broken(*, cohort, progress=None, seed=None, on_stored=None):
        raise RuntimeError("out of <memory>")

    monkeypatch.setattr(jobs, "training_run_create", broken)
    _train(educator_client, demo_cohort)
    job = TrainingJob.objects.get()
    assert (job.status, job.run, job.error) == ("failed", None, "RuntimeError: out of <memory>")
    page = educator_client.get(reverse("training_job", args=[job.pk])).content.decode()
    assert "out of &lt;memory&gt;" in page and 'http-equiv="refresh"' not in page
    assert not TrainingRun.objects.filter(cohort=demo_cohort).exists()


@pytest.mark.parametrize("status", ["queued", "running"])
def test_asking_again_while_a_job_is_active_joins_it(educator_client, make_user, demo_cohort,
                                                     fake_training, status):
    active = TrainingJob.objects.create(cohort=demo_cohort, status=status, started_by="someone")
    response = _train(educator_client, demo_cohort)
    assert response.status_code == 302 and response.url == reverse("training_job", args=[active.pk])
    page = educator_client.get(response.url).content.decode()
    assert f"you joined job {active.pk}, started by someone" in page
    job, started = training_job_start(cohort=demo_cohort, actor=make_user(username="cli"),
                                      purpose=Purpose.MODEL_TRAINING)
    assert (job, started) == (active, False)
    assert TrainingJob.objects.count() == 1 and fake_training == []
    assert not AuditEntry.objects.filter(action="training.start").exists()
    assert [e.actor for e in AuditEntry.objects.filter(action="training.join")] == [
        "test_educator", "cli"]


def test_the_database_refuses_two_active_jobs_for_one_cohort(demo_cohort):
    TrainingJob.objects.create(cohort=demo_cohort, status="queued", started_by="a")
    with pytest.raises(IntegrityError), transaction.atomic():
        TrainingJob.objects.create(cohort=demo_cohort, status="running", started_by="b")
    TrainingJob.objects.create(cohort=demo_cohort, status="done", started_by="c")


@pytest.mark.parametrize("status", ["queued", "running"])
def test_a_job_whose_worker_went_silent_fails_and_no_longer_blocks_training(
        educator_client, demo_cohort, fake_training, status):
    stale = TrainingJob.objects.create(cohort=demo_cohort, status=status, started_by="someone",
                                       worker="elsewhere:123")
    long_ago = timezone.now() - stale_after() - dt.timedelta(seconds=1)
    TrainingJob.objects.filter(pk=stale.pk).update(updated_at=long_ago)
    assert _train(educator_client, demo_cohort).status_code == 302
    stale.refresh_from_db()
    assert stale.status == "failed" and "the worker training this job stopped" in stale.error
    assert TrainingJob.objects.filter(status="done").count() == 1


def test_a_queued_job_no_worker_has_taken_waits_however_long(educator_client, demo_cohort):
    queued = TrainingJob.objects.create(cohort=demo_cohort, status="queued", started_by="someone")
    TrainingJob.objects.filter(pk=queued.pk).update(
        updated_at=timezone.now() - dt.timedelta(days=2))
    page = educator_client.get(reverse("training_job", args=[queued.pk])).content.decode()
    queued.refresh_from_db()
    assert queued.status == "queued" and 'id="job-queue"' in page


@pytest.mark.parametrize("limit", [1, 2])
def test_the_job_page_says_where_a_queued_job_stands(educator_client, demo_cohort, settings,
                                                     limit):
    settings.TRAINING_MAX_CONCURRENT = limit
    others = [cohort_generate(n_patients=20, seed=seed) for seed in (2, 3)]
    TrainingJob.objects.create(cohort=demo_cohort, status="running", started_by="a", worker="w:1")
    first = TrainingJob.objects.create(cohort=others[0], status="queued", started_by="b")
    second = TrainingJob.objects.create(cohort=others[1], status="queued", started_by="c")

    def place(job):
        page = educator_client.get(reverse("training_job", args=[job.pk])).content.decode()
        return " ".join(page.split('id="job-queue">', 1)[1].split("</p>", 1)[0].split())

    assert place(first).startswith(f"Next in the queue; 1 training now, at most {limit} at a time.")
    assert place(second).startswith(
        f"1 job ahead of this one in the queue; 1 training now, at most {limit} at a time.")


def test_starting_a_job_is_audited(educator_client, demo_cohort, fake_training):
    _train(educator_client, demo_cohort)
    entry = AuditEntry.objects.get(action="training.start")
    assert (entry.actor, entry.role, entry.purpose, entry.outcome) == (
        "test_educator", "educator", Purpose.MODEL_TRAINING, "allowed")
    assert (entry.object_type, entry.object_ref) == ("cohort", str(demo_cohort.uid))
    assert entry.detail["job"] == TrainingJob.objects.get().pk


@pytest.mark.parametrize("role", ["student", "ethics_reviewer", "data_steward"])
def test_only_educators_train(client, make_user, demo_cohort, role):
    client.force_login(make_user(role))
    assert _train(client, demo_cohort).status_code == 404
    job = TrainingJob.objects.create(cohort=demo_cohort, status="done", started_by="someone")
    assert client.get(reverse("training_job", args=[job.pk])).status_code == 404
    assert TrainingJob.objects.count() == 1


def test_training_needs_a_post(educator_client, demo_cohort):
    assert educator_client.get(reverse("cohort_train", args=[demo_cohort.pk])).status_code == 405
    assert not TrainingJob.objects.exists()


def test_the_run_overview_offers_training_again_to_educators_only(educator_client, client,
                                                                  make_user, demo_cohort,
                                                                  fake_training):
    url = reverse("run_overview", args=[demo_cohort.pk])
    assert ">Train models</button>" in educator_client.get(url).content.decode()
    _train(educator_client, demo_cohort)
    assert ">Train again</button>" in educator_client.get(url).content.decode()
    client.force_login(make_user("student"))
    assert 'id="train-form"' not in client.get(url).content.decode()


def test_the_run_overview_links_the_job_in_progress(educator_client, demo_cohort):
    job = TrainingJob.objects.create(cohort=demo_cohort, status="running", started_by="someone")
    page = educator_client.get(reverse("run_overview", args=[demo_cohort.pk])).content.decode()
    assert 'id="training-in-progress"' in page and 'id="train-form"' not in page
    assert reverse("training_job", args=[job.pk]) in page


def test_the_run_overview_counts_patients_erased_since_the_run(educator_client, demo_cohort,
                                                              fake_training):
    _train(educator_client, demo_cohort)
    run = TrainingRun.objects.get(cohort=demo_cohort)
    url = reverse("run_overview", args=[demo_cohort.pk])
    assert 'id="erased-since-run"' not in educator_client.get(url).content.decode()
    for pseudonym in ("gone-1", "gone-2"):
        Tombstone.objects.create(pseudonym=pseudonym, place_key=f"place-of-{pseudonym}",
                                 cohort=demo_cohort, erased_by="steward",
                                 affected_run_ids=[run.pk])
    text = " ".join(educator_client.get(url).content.decode().split())
    assert "2 patients whose data trained this run have since been erased: retrain" in text
