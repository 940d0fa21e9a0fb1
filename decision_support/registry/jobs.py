"""Training jobs: a training run asked for from a page or the command line, carried out by a task
worker (django-tasks' database backend), with its progress written to the job's row so that a
page can follow it.

The job row and its task row are written in one transaction, so a job never waits for a task
that does not exist, and a queued job survives a restart of the web server: any worker sharing
the database takes it. At most ``TRAINING_MAX_CONCURRENT`` jobs train at once, whatever the
number of workers. A running job's worker writes a heartbeat, and a job whose worker went
silent is failed, so it never shows "running" forever (``lib.jobs``, as for every job). A run
is stored in one transaction, which also marks its job done, so a killed worker never leaves a
half-stored run, and a job whose run is stored is never failed as stale.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_tasks import task

from decision_support.audit.services import audit_record
from decision_support.cohorts.models import Cohort
from decision_support.courses.readonly import course_check_open
from decision_support.lib.jobs import carry_out, expire_stale, job_update, started_by
from models.training import Progress

from .models import TrainingJob, TrainingRun
from .services import EXTERNAL_LABEL, STORING_LABEL, training_run_create

STALE_ERROR = ("Interrupted: the worker training this job stopped (killed, crashed or its machine "
               "went away) and sent no sign of life for {seconds} s. No run was stored; the "
               "cohort's models are unchanged. Start training again.")
SHUT_DOWN_ERROR = ("Stopped: the worker was shut down during training. No run was stored; the "
                   "cohort's models are unchanged. Start training again.")
WAITING_FOR_SLOT = "Waiting for a free training slot (at most {limit} at a time)"
# Fractions of the bar: reading the cohort, fitting every model, storing them.
READ_SHARE, FIT_SHARE = 0.05, 0.90
# Any constant: the PostgreSQL advisory lock that makes counting the running jobs and claiming a
# slot one step (SQLite's IMMEDIATE transactions serialise it already).
SLOT_LOCK_KEY = 0x7472_6169_6E


def expire_stale_jobs() -> int:
    """Fail the training jobs whose worker went silent (``lib.jobs.expire_stale``); returns how
    many."""
    return expire_stale(TrainingJob, error=STALE_ERROR)


@dataclass(frozen=True)
class QueuePlace:
    ahead: int  # queued jobs that a worker takes before this one
    running: int  # jobs training now
    limit: int  # TRAINING_MAX_CONCURRENT


def queue_place(job: TrainingJob) -> QueuePlace:
    """Where a queued job stands: workers take jobs oldest first."""
    return QueuePlace(
        ahead=TrainingJob.objects.filter(status=TrainingJob.Status.QUEUED, pk__lt=job.pk).count(),
        running=TrainingJob.objects.filter(status=TrainingJob.Status.RUNNING).count(),
        limit=settings.TRAINING_MAX_CONCURRENT)


def training_job_start(*, cohort: Cohort, actor, purpose: str, seed: int | None = None,
                       foreground: bool = False,
                       progress: Progress | None = None) -> tuple[TrainingJob, bool]:
    """Ask for the model suite to be trained on ``cohort``; returns the job and whether this call
    started it.

    One queued or running job per cohort (a partial unique index enforces it against races): asking
    while one is active joins it (``(job, False)``). Otherwise a new job is queued for a task
    worker, or, with ``foreground`` (the command line), carried out here in this process, with
    ``progress`` called after every fitted model. Audited here, for every caller:
    ``training.start`` or ``training.join``. Refused (``CourseArchived``) in an archived course.
    """
    with transaction.atomic():
        course_check_open(cohort.course_id)
        expire_stale_jobs()
        job, started = _job_for(cohort, actor, seed)
        audit_record(actor=actor, purpose=purpose,
                     action="training.start" if started else "training.join",
                     object_type="cohort", object_ref=str(cohort.uid), outcome="allowed",
                     detail={"job": job.pk, "cohort": cohort.pk,
                             "foreground": foreground and started})
        if started and not foreground:
            TrainingJob.objects.filter(pk=job.pk).update(task_id=str(train_cohort.enqueue(job.pk).id))
    if started and foreground:
        job = run_training_job(job.pk, progress=progress)
    job.refresh_from_db()
    return job, started


def _job_for(cohort: Cohort, actor, seed: int | None) -> tuple[TrainingJob, bool]:
    active = TrainingJob.objects.filter(cohort=cohort, status__in=TrainingJob.ACTIVE).first()
    if active is not None:
        return active, False
    try:
        with transaction.atomic():
            return TrainingJob.objects.create(
                cohort=cohort, seed=seed, message="Waiting for a worker to take it",
                **started_by(actor)), True
    except IntegrityError:  # another request created it between our read and our write
        return TrainingJob.objects.get(cohort=cohort, status__in=TrainingJob.ACTIVE), False


@task()
def train_cohort(job_id: int) -> int | None:
    """The worker's side of a training job; returns the stored run's id (None if it failed)."""
    return run_training_job(job_id).run_id


def progress_message(done: int, total: int, label: str) -> tuple[float, str]:
    """The bar's fraction and message after ``done`` of ``total`` models (``label``: the last)."""
    if label == STORING_LABEL or total == 0:
        return READ_SHARE + FIT_SHARE, "Storing the models in the registry"
    if label == EXTERNAL_LABEL:
        return READ_SHARE + FIT_SHARE, EXTERNAL_LABEL.capitalize()
    return (READ_SHARE + FIT_SHARE * done / total,
            f"Fitted {done} of {total} models (last: {label})")


def run_training_job(job_id: int, *, progress: Progress | None = None) -> TrainingJob:
    """Carry out a queued job in this process: wait for a training slot, train, store, and record
    the run or the error on the job."""
    job = TrainingJob.objects.select_related("cohort").get(pk=job_id)
    if not job.is_active:  # failed as stale before a worker reached it
        return job

    def stored(run: TrainingRun) -> None:  # in the store's transaction: the run and its job's end
        job_update(job, status=TrainingJob.Status.DONE, progress=1.0,
                   finished_at=timezone.now(), run=run, error="",
                   message=f"Done: training run {run.pk}, {run.models.count()} models, "
                           f"{run.duration_seconds:.1f} s")

    def train(write) -> None:
        def report(done: int, total: int, label: str) -> None:
            fraction, message = progress_message(done, total, label)
            write(progress=round(min(max(fraction, 0.0), 1.0), 4), message=message[:200])
            if progress:
                progress(done, total, label)

        _wait_for_slot(job)
        training_run_create(cohort=job.cohort, seed=job.seed, progress=report, on_stored=stored)

    carry_out(job, train, failed="Training failed", shut_down_error=SHUT_DOWN_ERROR)
    return job


def _wait_for_slot(job: TrainingJob) -> None:
    limit = settings.TRAINING_MAX_CONCURRENT
    while not _claim_slot(job, limit):
        job_update(job, message=WAITING_FOR_SLOT.format(limit=limit))
        time.sleep(settings.TRAINING_SLOT_POLL_SECONDS)


def _claim_slot(job: TrainingJob, limit: int) -> bool:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SLOT_LOCK_KEY])
        expire_stale_jobs()
        if TrainingJob.objects.filter(status=TrainingJob.Status.RUNNING).count() >= limit:
            return False
        job_update(job, status=TrainingJob.Status.RUNNING, progress=0.0,
                   began_at=timezone.now(),
                   message="Reading the cohort's patients and their consent to model training")
        return True
