"""Training jobs carried out by real task workers (``manage.py db_worker``) in processes of their
own, on the app's real settings and a SQLite file, as ``make run`` runs them: a killed worker's
job ends failed and nothing half-stored shows; a restarted worker takes the next job; at most
``TRAINING_MAX_CONCURRENT`` jobs train at once whatever the number of workers.

Every wait is on the database's state, with a generous bound that only a stuck job reaches.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
BOUND = 600  # seconds; only a job that never gets there fails on it
# TRAINING_STALE_AFTER_SECONDS for these workers: short, so the test waits little for a killed
# worker's job to count as stale; longer than any one write on a busy machine (a run's store holds
# SQLite's write lock, and with it the heartbeats, while it lasts).
STALE_AFTER = 15
# Patients per generated cohort: these test the workers and servers, not the training, and a
# cohort this small trains in about two thirds of the time of 300 (arms with too few responders
# are skipped), every job still ending with a run.
COHORT_PATIENTS = "150"

pytestmark = pytest.mark.slow


@pytest.fixture
def site(tmp_path):
    """A migrated SQLite site in ``tmp_path``; returns (environment, database path)."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("PG", "AUDIT_", "DJANGO_", "TRAINING_"))
           and name != "DATABASE_URL"}
    env.update(DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="decision_support.settings",
               TRAINING_HEARTBEAT_SECONDS="1", TRAINING_STALE_AFTER_SECONDS=str(STALE_AFTER))
    _manage(env, "migrate", "--noinput")
    return env, tmp_path / "db.sqlite3"


def _manage(env, *arguments, check=True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *arguments, "-v", "0"], cwd=REPO, env=env,
                          check=check, capture_output=True, text=True, timeout=BOUND)


@contextmanager
def _worker(env, log: Path):
    with log.open("a") as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay",
             "--interval", "0.2"], cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)


def _rows(database: Path, query: str, *parameters) -> list[tuple]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as connection:
        return connection.execute(query, parameters).fetchall()


def _jobs(database: Path) -> dict[int, dict]:
    columns = ("status", "progress", "error", "run_id", "worker", "began_at", "finished_at",
               "task_id")
    rows = _rows(database, f"SELECT id, {', '.join(columns)} FROM registry_trainingjob")
    return {row[0]: dict(zip(columns, row[1:], strict=True)) for row in rows}


def _wait_until(condition, what: str, log: Path):
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen within {BOUND} s:\n{log.read_text()[-3000:]}")


def _enqueue(env, cohort: int) -> subprocess.CompletedProcess:
    return _manage(env, "train_models", "--cohort", str(cohort), "--enqueue", "--seed", "1",
                   check=False)


def test_a_killed_worker_leaves_its_job_failed_and_no_run_then_a_new_worker_trains(site, tmp_path):
    env, database = site
    log = tmp_path / "worker.log"
    _manage(env, "generate_cohort", "--patients", COHORT_PATIENTS, "--seed", "1")
    assert _enqueue(env, 1).returncode == 0
    with _worker(env, log) as worker:
        _wait_until(lambda: (job := _jobs(database).get(1)) and job["status"] == "running"
                    and job["progress"] > 0.05, "fitting the first models", log)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=60)
    killed_at = time.monotonic()
    assert _rows(database, "SELECT count(*) FROM registry_trainingrun") == [(0,)]
    assert _rows(database, "SELECT count(*) FROM registry_trainedmodel") == [(0,)]
    time.sleep(max(0.0, killed_at + STALE_AFTER + 1 - time.monotonic()))
    assert _enqueue(env, 1).returncode == 0  # the silent job was failed: a new one is queued
    failed = _jobs(database)[1]
    assert failed["status"] == "failed" and failed["run_id"] is None
    assert "the worker training this job stopped" in failed["error"]
    assert _rows(database, "SELECT status FROM django_tasks_database_dbtaskresult WHERE id = ?",
                 failed["task_id"].replace("-", "")) == [("FAILED",)]

    with _worker(env, log):
        done = _wait_until(lambda: (job := _jobs(database).get(2))
                           and job["status"] in ("done", "failed") and job, "the second job", log)
    assert done["error"] == ""
    assert _jobs(database)[1]["status"] == "failed"
    assert _rows(database, "SELECT id FROM registry_trainingrun") == [(done["run_id"],)]
    assert _rows(database, "SELECT count(*) FROM registry_trainedmodel")[0][0] > 0


@pytest.mark.parametrize("limit", [1])
def test_two_workers_never_train_more_jobs_at_once_than_the_limit(site, tmp_path, limit):
    env, database = site
    env = {**env, "TRAINING_MAX_CONCURRENT": str(limit)}
    log = tmp_path / "workers.log"
    for cohort in (1, 2):  # two jobs for two workers: without the limit both would train at once
        _manage(env, "generate_cohort", "--patients", COHORT_PATIENTS, "--seed", str(cohort))
        assert _enqueue(env, cohort).returncode == 0
    with _worker(env, log), _worker(env, log):
        jobs = _wait_until(lambda: (jobs := _jobs(database)) and len(jobs) == 2 and all(
            job["status"] in ("done", "failed") for job in jobs.values()) and jobs,
            "both jobs ending", log)
    assert [job["error"] for job in jobs.values()] == ["", ""]
    spans = sorted((job["began_at"], job["finished_at"]) for job in jobs.values())
    for (_, finished), (began, _) in zip(spans, spans[1:]):
        assert finished <= began, spans
