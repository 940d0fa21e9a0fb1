"""Training jobs: a training run carried out in a background thread of the web process, with its
progress written to the job's row so that a page can follow it.

A thread is enough for a teaching tool (one cohort, one run at a time, about half a minute for
the demo cohort); a job whose thread died with its process is recognised as stale and failed, so
it never blocks the next one. Jobs are started only by ``services.training_job_start``.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from django.db import connections
from django.utils import timezone

from .models import TrainingJob
from .services import STORING_LABEL, training_run_create

logger = logging.getLogger(__name__)

# Progress is written after every fitted model (a second or less each), so a job that has not
# moved for this long lost its thread (the server restarted or the process died).
STALE_AFTER = timedelta(minutes=10)
STALE_ERROR = "Interrupted: no progress for {minutes} minutes (the server was probably restarted)."
# Fractions of the bar: reading the cohort, fitting every model, storing them.
READ_SHARE, FIT_SHARE = 0.05, 0.90


def stale_at(job: TrainingJob) -> datetime:
    """When an active job that reports no more progress counts as stale: ``expire_stale_jobs``
    then fails it, and the cohort can be trained again."""
    return job.updated_at + STALE_AFTER


def expire_stale_jobs(cohort) -> int:
    """Fail the active jobs of ``cohort`` that stopped reporting progress; returns how many."""
    now = timezone.now()
    return (TrainingJob.objects
            .filter(cohort=cohort, status__in=TrainingJob.ACTIVE, updated_at__lt=now - STALE_AFTER)
            .update(status=TrainingJob.Status.FAILED, finished_at=now, updated_at=now,
                    message="Interrupted",
                    error=STALE_ERROR.format(minutes=int(STALE_AFTER.total_seconds() // 60))))


def start_in_background(job_id: int) -> threading.Thread:
    thread = threading.Thread(target=_thread_main, args=(job_id,), name=f"training-job-{job_id}",
                              daemon=True)
    thread.start()
    return thread


def _thread_main(job_id: int) -> None:
    try:
        run_training_job(job_id)
    finally:
        # The thread's own database connections; the request's are untouched.
        connections.close_all()


def _update(job: TrainingJob, **fields) -> None:
    for name, value in fields.items():
        setattr(job, name, value)
    job.updated_at = timezone.now()
    TrainingJob.objects.filter(pk=job.pk).update(updated_at=job.updated_at, **fields)


def progress_message(done: int, total: int, label: str) -> tuple[float, str]:
    """The bar's fraction and message after ``done`` of ``total`` models (``label``: the last)."""
    if label == STORING_LABEL or total == 0:
        return READ_SHARE + FIT_SHARE, "Storing the models in the registry"
    return (READ_SHARE + FIT_SHARE * done / total,
            f"Fitted {done} of {total} models (last: {label})")


def run_training_job(job_id: int) -> TrainingJob:
    """Carry out a queued job: train, store, and record the run or the error on the job."""
    job = TrainingJob.objects.select_related("cohort").get(pk=job_id)
    _update(job, status=TrainingJob.Status.RUNNING, progress=0.0,
            message="Reading the cohort's patients and their consent to model training")

    def progress(done: int, total: int, label: str) -> None:
        fraction, message = progress_message(done, total, label)
        _update(job, progress=round(min(max(fraction, 0.0), 1.0), 4), message=message[:200])

    try:
        run = training_run_create(cohort=job.cohort, progress=progress)
    except Exception as exc:  # the job page shows what went wrong; the log keeps the traceback
        logger.exception("Training job %s on cohort %s failed", job.pk, job.cohort_id)
        _update(job, status=TrainingJob.Status.FAILED, finished_at=timezone.now(),
                message="Training failed", error=f"{type(exc).__name__}: {exc}"[:2000])
        return job
    _update(job, status=TrainingJob.Status.DONE, progress=1.0, finished_at=timezone.now(), run=run,
            message=f"Done: training run {run.pk}, {run.models.count()} models, "
                    f"{run.duration_seconds:.1f} s")
    return job
