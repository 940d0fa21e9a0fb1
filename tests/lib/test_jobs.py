"""What every background job shares (``lib.jobs``): the heartbeat thread writes the progress it is
given from its own connection, and never undoes a job's end."""

import time

import pytest

from decision_support.cohorts.models import GenerationJob
from decision_support.courses.models import Course
from decision_support.lib.jobs import Heartbeat, job_update
from decision_support.lib.vocabulary import Purpose

pytestmark = pytest.mark.django_db(transaction=True)

BOUND = 60  # seconds; only a report that is never written reaches it


@pytest.fixture
def job(settings):
    settings.TRAINING_HEARTBEAT_SECONDS = 0.05
    course, _ = Course.objects.get_or_create(is_default=True, defaults={"name": "Default"})
    return GenerationJob.objects.create(course=course, scenario="default", n_patients=300,
                                        purpose=Purpose.EDUCATION, started_by="someone",
                                        status=GenerationJob.Status.RUNNING)


def _row(job):
    return GenerationJob.objects.values("status", "progress", "message").get(pk=job.pk)


def test_a_report_reaches_the_row_from_the_heartbeat_thread(job):
    with Heartbeat(job) as heartbeat:
        heartbeat.report(progress=0.5, message="Storing the patients: 150 of 300")
        deadline = time.monotonic() + BOUND
        while _row(job)["progress"] != 0.5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert heartbeat.thread.is_alive()
    assert _row(job) == {"status": "running", "progress": 0.5,
                         "message": "Storing the patients: 150 of 300"}


def test_a_late_report_never_undoes_the_job_s_end(job):
    with Heartbeat(job) as heartbeat:
        job_update(job, status=GenerationJob.Status.DONE, progress=1.0, message="Done")
        heartbeat.report(progress=0.3, message="Storing the patients: 0 of 300")
    assert _row(job) == {"status": "done", "progress": 1.0, "message": "Done"}
