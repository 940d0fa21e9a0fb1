"""Background jobs: work asked for from a page, carried out by a task worker (django-tasks'
database backend), with its progress written to the job's row so that a page can follow it.

What every kind of job shares lives here: the row's fields (``Job``), writing progress
(``job_update``), the worker's heartbeat (``Heartbeat``) and failing the jobs whose worker
stopped sending it (``expire_stale``). Training jobs (``registry.jobs``) and cohort generation
jobs (``cohorts.jobs``) build on it.

A running job's worker touches its row every ``TRAINING_HEARTBEAT_SECONDS``; a job whose row is
older than ``TRAINING_STALE_AFTER_SECONDS`` lost its worker (killed, crashed, machine gone) and is
failed, so it never shows "running" forever. A queued job that no worker has taken yet is not
stale: it waits for a worker.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta

from django.conf import settings
from django.db import connections, models
from django.db.models import Q
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)


class Job(models.Model):
    """A job's state and progress; ``updated_at`` is the worker's heartbeat."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0, help_text="Fraction done, 0 to 1.")
    message = models.CharField(max_length=200, blank=True)
    started_by = models.CharField(max_length=150, help_text="Username at the time (a snapshot).")
    actor_id = models.BigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True,
                               help_text="The task engine's id of the task that carries it out.")
    worker = models.CharField(max_length=200, blank=True,
                              help_text="host:pid of the worker that took it; empty while queued.")
    began_at = models.DateTimeField(null=True, blank=True, help_text="When a worker began it.")

    class Meta:
        abstract = True
        ordering = ["-started_at", "-id"]

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def percent(self) -> int:
        return round(self.progress * 100)


def progress_in_range(name: str) -> models.CheckConstraint:
    """The database check that a job's ``progress`` is a fraction."""
    return models.CheckConstraint(condition=Q(progress__gte=0) & Q(progress__lte=1), name=name)


def started_by(actor) -> dict:
    """The fields naming who asked for a job: a user, or a command-line actor's string."""
    return {"started_by": actor.get_username() if hasattr(actor, "get_username") else str(actor),
            "actor_id": getattr(actor, "pk", None)}


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def job_update(job: Job, **fields) -> None:
    """Write ``fields`` to ``job``'s row (and the instance), touching its heartbeat."""
    fields["updated_at"] = timezone.now()
    for name, value in fields.items():
        setattr(job, name, value)
    type(job).objects.filter(pk=job.pk).update(**fields)


def stale_after() -> timedelta:
    return timedelta(seconds=settings.TRAINING_STALE_AFTER_SECONDS)


def expire_stale(model: type[Job], *, error: str) -> int:
    """Fail ``model``'s jobs whose worker stopped sending heartbeats, with ``error`` (formatted
    with ``seconds``, the stale limit); returns how many."""
    now = timezone.now()
    stale = model.objects.filter(status__in=model.ACTIVE).exclude(worker="").filter(
        updated_at__lt=now - stale_after())
    # Read first: on SQLite an UPDATE waits for the one writer (a cohort being stored) even when
    # nothing is stale, and every job page asks.
    if not stale.exists():
        return 0
    task_ids = list(stale.exclude(task_id="").values_list("task_id", flat=True))
    count = stale.update(
        status=Job.Status.FAILED, finished_at=now, updated_at=now, message="Interrupted",
        error=error.format(seconds=settings.TRAINING_STALE_AFTER_SECONDS))
    # The task engine leaves a killed worker's task "running"; say what became of it.
    DBTaskResult.objects.filter(id__in=task_ids, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED, finished_at=now)
    return count


class Heartbeat:
    """Touch the job's row every ``TRAINING_HEARTBEAT_SECONDS`` from a thread of its own (one
    step can take longer than the stale limit), and write the progress ``report`` is given from
    there too, at once: from its own connection, so that pages see it while the worker's
    transaction (a cohort being stored) is still open. Only an active job's row is written: a
    late report never undoes a job's end. 0 turns the thread off and ``report`` writes in the
    caller's connection (the tests' inline backend runs a job inside the request's transaction,
    where no other connection may write)."""

    def __init__(self, job: Job):
        self.job, self.rows = job, type(job).objects.filter(pk=job.pk, status__in=job.ACTIVE)
        self.every = settings.TRAINING_HEARTBEAT_SECONDS
        self.pending: dict = {}
        self.lock, self.wake, self.stop = threading.Lock(), threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"heartbeat-{job}", daemon=True)

    def __enter__(self):
        if self.every:
            self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop.set()
        self.wake.set()
        if self.every:
            self.thread.join()

    def report(self, **fields) -> None:
        """Write ``fields`` (progress, message) to the job's row."""
        if not self.every:
            job_update(self.job, **fields)
            return
        with self.lock:
            self.pending.update(fields)
        self.wake.set()

    def _beat(self) -> None:
        try:
            while not self.stop.is_set():
                self.wake.wait(self.every)
                self.wake.clear()
                self._write()
            self._write()  # what was reported while the last beat was written
        finally:
            connections.close_all()  # this thread's own connections

    def _write(self) -> None:
        with self.lock:
            fields, self.pending = self.pending, {}
        try:
            self.rows.update(updated_at=timezone.now(), **fields)
        except Exception:  # a busy database: the next beat tries again
            logger.warning("Heartbeat of %s failed", self.job, exc_info=True)
            with self.lock:
                self.pending = {**fields, **self.pending}


def carry_out(job: Job, work, *, failed: str, shut_down_error: str) -> bool:
    """Do ``work(report)`` for ``job`` in this worker, with a heartbeat (``report``: its
    ``Heartbeat.report``); returns whether it finished.

    An exception fails the job with it (the job's page shows it; the log keeps the traceback) and
    ``failed`` as its message; a worker told to stop now (Ctrl-C, SIGTERM) fails it with
    ``shut_down_error`` and stops. ``work`` marks the job done itself, in the transaction that
    stores what it made, so a job whose result is stored is never failed.
    """
    job_update(job, worker=worker_name())
    try:
        with Heartbeat(job) as heartbeat:
            work(heartbeat.report)
    except Exception as exc:
        logger.exception("%s failed", job)
        job_update(job, status=Job.Status.FAILED, finished_at=timezone.now(), message=failed,
                   error=f"{type(exc).__name__}: {exc}"[:2000])
        return False
    except BaseException:
        job_update(job, status=Job.Status.FAILED, finished_at=timezone.now(), message="Stopped",
                   error=shut_down_error)
        raise
    return True
