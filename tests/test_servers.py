"""The servers of ``make run`` and ``make serve``, each started as they start it, in a subprocess
on a migrated, empty SQLite database: debug is off (the site's own 404 and 500 pages, no
traceback; static files still served) and a request thread runs its OpenMP and BLAS pools on one
thread.

``make run``: the last command ``make -n run`` prints (``scripts/run``: runserver and a task
worker, with whatever environment the Makefile gives them), run through the shell; seeding and
training are left out, no page here needs them, but for the test of its worker. ``make serve``: gunicorn with ``decision_support/gunicorn.conf.py``, as ``scripts/serve``
execs it (its collectstatic is for production mode only). Both load
``tests.server_probe.settings``: the site plus two diagnostic pages."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest
from django.contrib.staticfiles import finders

ROOT = Path(__file__).resolve().parent.parent
STARTUP_BOUND = 300  # seconds; only a server that never answers fails on it
# Patients per generated cohort: these test the workers and servers, not the training, and a
# cohort this small trains in about two thirds of the time of 300 (arms with too few responders
# are skipped), every job still ending with a run.
COHORT_PATIENTS = "150"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# What Django's debug pages show: the traceback, the URL patterns, the settings, our code.
DEBUG_MARKERS = ("Traceback", "URLconf", "DEBUG = True", "RuntimeError", "server_probe")

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(data_dir: Path) -> dict:
    """This process's environment without the settings a developer or this test run may have set
    (pytest imported the project, which sets the thread variables)."""
    clean = {name: value for name, value in os.environ.items()
             if not name.startswith(("DJANGO_", "PG", "DATABASE_URL", "AUDIT_", "GUNICORN_"))
             and name not in (*THREAD_VARIABLES, "WEB_CONCURRENCY", "PORT")}
    return {**clean, "DATA_DIR": str(data_dir),
            "DJANGO_SETTINGS_MODULE": "tests.server_probe.settings"}


def _make_run_server_command(port: int) -> list[str]:
    # Run as a make of its own, not a sub-make of `make test` (which would add its flags and print
    # "Entering directory" lines).
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    printed = subprocess.run(
        ["make", "--no-print-directory", "--dry-run", "--old-file=install", "run",
         f"BIN={Path(sys.executable).parent}", "HOST=127.0.0.1", f"PORT={port}"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=60).stdout
    server = printed.strip().splitlines()[-1]
    assert "scripts/run" in server, printed
    return ["sh", "-c", server]


def _gunicorn_command(port: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--config", "decision_support/gunicorn.conf.py",
            "--bind", f"127.0.0.1:{port}", "--workers", "1"]


def _wait_for(process, port: int, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_BOUND
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the server did not listen within {STARTUP_BOUND} s:\n{log.read_text()}")


@pytest.fixture(scope="module", params=["make run", "make serve"])
def server(request, tmp_path_factory):
    """The base URL of a running server, started as ``make run`` or ``make serve`` starts it."""
    data_dir = tmp_path_factory.mktemp("server")
    port = _free_port()
    command = (_make_run_server_command if request.param == "make run" else _gunicorn_command)(port)
    env = _environment(data_dir)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env,
                   capture_output=True, check=True, timeout=STARTUP_BOUND)
    log = data_dir / "server.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for(process, port, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urlopen(url, timeout=STARTUP_BOUND) as response:
            return response.status, response.read()
    except HTTPError as error:
        return error.code, error.read()


def test_every_request_thread_runs_one_openmp_and_one_blas_thread(server):
    """runserver answers each request on a new thread; gunicorn's sync worker on its own."""
    for _ in range(3):
        status, body = _get(f"{server}/probe/threads/")
        assert status == 200, body
        pools = json.loads(body)["pools"]
        assert {pool["user_api"] for pool in pools} >= {"openmp", "blas"}, pools
        assert [pool for pool in pools if pool["num_threads"] != 1] == []


@pytest.mark.parametrize("path", ["/no-such-page/", "/accounts/no-such-page/",
                                  "/static/no-such-file.css"])
def test_an_unknown_address_gets_the_sites_own_404_page(server, path):
    status, content = _get(server + path)
    body = content.decode()
    assert status == 404
    assert "<h1>Not found</h1>" in body
    assert [marker for marker in DEBUG_MARKERS if marker in body] == []


def test_an_error_gets_the_sites_own_500_page_without_a_traceback(server):
    status, content = _get(f"{server}/probe/error/")
    body = content.decode()
    assert status == 500
    assert "<h1>Something went wrong</h1>" in body
    assert [marker for marker in DEBUG_MARKERS if marker in body] == []


@pytest.mark.parametrize("path", ["css/app.css", "js/charts.js", "favicon.svg",
                                  "vendor/plotly/plotly.min.js"])
def test_static_files_are_served(server, path):
    status, content = _get(f"{server}/static/{path}")
    assert status == 200
    assert content == Path(finders.find(path)).read_bytes()


def _job(data_dir: Path) -> tuple[str, str]:
    with sqlite3.connect(f"file:{data_dir / 'db.sqlite3'}?mode=ro", uri=True, timeout=30) as db:
        return db.execute("SELECT status, error FROM registry_trainingjob ORDER BY id DESC"
                          ).fetchone() or ("", "")


def _wait_for_job(data_dir: Path, statuses: tuple[str, ...], log: Path) -> tuple[str, str]:
    deadline = time.monotonic() + STARTUP_BOUND * 2
    while (job := _job(data_dir))[0] not in statuses:
        if time.monotonic() > deadline:
            pytest.fail(f"the job never became {statuses}: {job}\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return job


@contextmanager
def _make_run(data_dir: Path, log: Path):
    """make run's servers on a migrated site with a small cohort and a queued training job."""
    port, env = _free_port(), _environment(data_dir)
    for arguments in (["migrate", "--noinput"],
                      ["generate_cohort", "--patients", COHORT_PATIENTS, "--seed", "1"],
                      ["train_models", "--enqueue", "--seed", "1"]):
        subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env=env,
                       capture_output=True, check=True, timeout=STARTUP_BOUND)
    with log.open("w") as output:
        process = subprocess.Popen(_make_run_server_command(port), cwd=ROOT, env=env, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for(process, port, log)
        yield process, port
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=60)


def _gone(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return True
    return False


def test_make_run_trains_in_its_worker_and_ctrl_c_stops_everything(tmp_path):
    """A queued job is carried out by the worker ``make run`` starts beside the web server; Ctrl-C
    (SIGINT to the terminal's process group) then stops every process it started."""
    log = tmp_path / "server.log"
    with _make_run(tmp_path, log) as (process, port):
        assert _wait_for_job(tmp_path, ("done", "failed"), log) == ("done", "")
        assert _get(f"http://127.0.0.1:{port}/probe/threads/")[0] == 200
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=STARTUP_BOUND) != 0
        deadline = time.monotonic() + 60
        while not _gone(process.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _gone(process.pid)


def test_killing_make_runs_web_server_does_not_stop_a_training(tmp_path):
    log = tmp_path / "server.log"
    with _make_run(tmp_path, log) as (process, port):
        _wait_for_job(tmp_path, ("running",), log)
        web = subprocess.run(["pgrep", "-g", str(process.pid), "-f", "runserver"],
                             capture_output=True, text=True, check=True).stdout.split()
        assert len(web) == 1
        os.kill(int(web[0]), signal.SIGKILL)
        assert _wait_for_job(tmp_path, ("done", "failed"), log) == ("done", "")
        process.wait(timeout=STARTUP_BOUND)  # then make run stops its worker too
