"""Cohort generation jobs: a cohort asked for from its page, generated and stored by a task worker
(django-tasks' database backend), with its phase and progress written to the job's row so that
the job's page can follow it (``lib.jobs``: the heartbeat, failing jobs whose worker went silent).

The job row, the audit entry of its start (``cohort.create_start``) and its task row are written
in one transaction. The cohort is stored in one transaction (``services.cohort_create``, audited
``cohort.create`` as done by the user who asked) that also marks the job done: a job that fails
or whose worker is killed leaves no cohort, and a job whose cohort is stored is never failed.
``manage.py generate_cohort`` stores a cohort in the foreground, without a job.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from decision_support.audit.services import audit_record
from decision_support.courses.models import Course
from decision_support.courses.readonly import course_check_open
from decision_support.lib.jobs import carry_out, expire_stale, job_update, started_by

from .models import GenerationJob
from .services import GENERATING, SEEDING_CONSENT, STORING, cohort_create

STALE_ERROR = ("Interrupted: the worker generating this cohort stopped (killed, crashed or its "
               "machine went away) and sent no sign of life for {seconds} s. Nothing was stored. "
               "Create the cohort again.")
SHUT_DOWN_ERROR = ("Stopped: the worker was shut down while generating the cohort. Nothing was "
                   "stored. Create the cohort again.")
FAILED = "Generating the cohort failed"
WAITING = "Waiting for a worker to take it"
# Where each phase starts on the bar and how much of it it takes: drawing the patients, storing
# them batch by batch, seeding their consent.
SHARES = {GENERATING: (0.0, 0.3), STORING: (0.3, 0.6), SEEDING_CONSENT: (0.9, 0.1)}
MESSAGES = {GENERATING: "Generating {total:,} patients",
            STORING: "Storing the patients: {done:,} of {total:,}",
            SEEDING_CONSENT: "Seeding the consent decisions of {total:,} patients"}


def expire_stale_generation_jobs() -> int:
    """Fail the generation jobs whose worker went silent (``lib.jobs.expire_stale``); returns how
    many."""
    return expire_stale(GenerationJob, error=STALE_ERROR)


def active_generation_jobs(course_ids) -> list[GenerationJob]:
    """The queued and running generation jobs of ``course_ids``, the oldest first, once those
    whose worker went silent are failed (``expire_stale_generation_jobs``): what the cohort list
    shows the courses' educators, so a job left behind can be followed again."""
    if not course_ids:
        return []
    expire_stale_generation_jobs()
    return list(GenerationJob.objects.filter(course_id__in=course_ids,
                                             status__in=GenerationJob.ACTIVE)
                .order_by("started_at", "pk"))


def generation_job_start(*, actor, purpose: str, course: Course, scenario: str, n_patients: int,
                         seed: int | None, name: str,
                         site_scenario: str | None = None) -> GenerationJob:
    """Queue a cohort of ``scenario`` (``n_patients``, per site for a multi-site scenario) in
    ``course`` for a task worker; audited (``cohort.create_start``). Refused
    (``CourseArchived``) in an archived course. ``site_scenario`` is ``scenario`` when that is a
    multi-site scenario (``forms.CohortCreateForm``); the job reads it from ``scenario``."""
    with transaction.atomic():
        course_check_open(course.pk)
        expire_stale_generation_jobs()
        job = GenerationJob.objects.create(course=course, scenario=scenario,
                                           n_patients=n_patients, seed=seed, name=name,
                                           purpose=purpose, message=WAITING, **started_by(actor))
        audit_record(actor=actor, purpose=purpose, action="cohort.create_start",
                     object_type="course", object_ref=str(course.pk), outcome="allowed",
                     detail={"job": job.pk, "course": course.pk, "scenario": scenario,
                             "multi_site": site_scenario is not None, "n_patients": n_patients,
                             "seed": seed})
        GenerationJob.objects.filter(pk=job.pk).update(
            task_id=str(generate_cohort.enqueue(job.pk).id))
    job.refresh_from_db()
    return job


@task()
def generate_cohort(job_id: int) -> int | None:
    """The worker's side of a generation job; returns the stored cohort's id (None if it
    failed)."""
    return run_generation_job(job_id).cohort_id


def progress_message(phase: str, done: int, total: int) -> tuple[float, str]:
    """The bar's fraction and message in ``phase`` after ``done`` of ``total`` patients."""
    start, share = SHARES[phase]
    return (round(start + share * (done / total if total else 1.0), 4),
            MESSAGES[phase].format(done=done, total=total))


def run_generation_job(job_id: int) -> GenerationJob:
    """Carry out a queued job in this process: generate and store the cohort, and record it or
    the error on the job."""
    job = GenerationJob.objects.select_related("course").get(pk=job_id)
    if not job.is_active:  # failed as stale before a worker reached it
        return job
    # The user who asked, for the audit entry (their name as then, if the account is gone).
    actor = get_user_model().objects.filter(pk=job.actor_id).first() or job.started_by
    # Said before the store's transaction begins: on SQLite, the one writer, what the worker
    # reports inside it shows once it commits (on PostgreSQL at once, ``lib.jobs.Heartbeat``).
    fraction, message = progress_message(GENERATING, 0, job.total_patients)
    job_update(job, status=GenerationJob.Status.RUNNING, began_at=timezone.now(),
               progress=fraction, message=message)

    def generate(write) -> None:
        def report(phase: str, done: int, total: int) -> None:
            fraction, message = progress_message(phase, done, total)
            write(progress=fraction, message=message)

        with transaction.atomic():
            cohort = cohort_create(actor=actor, purpose=job.purpose, scenario=job.scenario,
                                   n_patients=job.n_patients, seed=job.seed, name=job.name,
                                   course=job.course, site_scenario=job.site_scenario,
                                   progress=report)
            job_update(job, status=GenerationJob.Status.DONE, progress=1.0,
                       finished_at=timezone.now(), cohort=cohort, error="",
                       message=f"Done: {cohort.n_patients:,} patients stored")

    carry_out(job, generate, failed=FAILED, shut_down_error=SHUT_DOWN_ERROR)
    return job
