"""A class browsing while two trainings and a 20,000-patient generation run: errors and page times.

    .venv/bin/python benchmarks/bench_class_during_training.py                     # SQLite, make run
    scripts/with-postgres .venv/bin/python benchmarks/bench_class_during_training.py --setup postgres
    scripts/with-postgres .venv/bin/python benchmarks/bench_class_during_training.py --setup both

Students are Python threads speaking plain HTTP (``http.client``, one connection a request, their
own cookies): each signs in through the login form with its CSRF token, then opens patient,
what-if, model and patient-list pages (random pseudonyms of the demo cohort) with a think time
uniform in --wait seconds, for --duration seconds. As the browsing starts, two educators each open
a cohort's models page and click "Train models" (``POST /cohorts/<id>/train/``) on two different
cohorts, then follow their job page every 2 s (as its refresh does) until it says done or failed;
a third educator creates a 20,000-patient cohort on the cohort-create page (``POST /cohorts/new/``,
synchronous: the request returns when the cohort is stored).

Set-ups (--setup, each on a temporary DATA_DIR):

- ``sqlite``: ``make run``'s steps: ``migrate``, ``seed_demo --patients N``, ``train_models
  --if-missing --seed 1``, then ``scripts/run`` itself (runserver --noreload and one db_worker,
  debug off, TRAINING_MAX_CONCURRENT at its SQLite default of 1).
- ``postgres``: a fresh database ``bench_train_<pid>_<hex>`` on the server of PGHOST/PGPORT/PGUSER
  (``scripts/with-postgres`` sets them), production mode behind a pretend TLS proxy as in
  bench_class_load.py, ``scripts/serve`` (gunicorn, WEB_CONCURRENCY=--gunicorn-workers) and
  ``manage.py db_worker`` task workers, TRAINING_MAX_CONCURRENT=2. The test runs once per
  --workers count (default 1 and 2), on the same database and gunicorn; each run starts its
  task workers and stops them after its trainings end.

Before the server starts (not timed as part of the test): the demo cohort's first run, a second
cohort of the same size for the second training, the students' and educators' accounts.

Prints per page type: requests, 5xx (listed), responses whose body says "Traceback" or "database
is locked" (a debug page or a lock error; counted whatever the status), other unexpected statuses,
p50/p95/max ms; each training's time from the click to "done" on its job page (and when the page
first said "running"), the generation's request time; the server's and task workers' logs
searched for tracebacks and "database is locked". Asserts nothing: shared machine, see the load
averages.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.metadata
import json
import os
import random
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from _common import REPO_ROOT, environment_lines, print_table

PYTHON = sys.executable
GENERATION_PATIENTS = 20_000
PAGE_WEIGHTS = {"patient page": 4, "what-if page": 2, "model page": 2, "patient list": 2}
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
JOB_STATUS = re.compile(r'id="job-status" class="status-(\w+)"')
BAD_BODY = ("Traceback", "database is locked")
LOG_MARKERS = ("Traceback", "database is locked", "Internal Server Error")

SETUP_SCRIPT = r"""
import json, os, random, secrets
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from decision_support.cohorts.models import Cohort
from decision_support.courses.models import Course, Membership
from decision_support.predictions.selectors import PATIENTS_PER_PAGE
students, plan_path = int(os.environ["BENCH_STUDENTS"]), os.environ["BENCH_PLAN"]
User = get_user_model()

def account(username, role):
    password = secrets.token_urlsafe(16)
    user = User.objects.create(username=username)
    user.set_password(password)
    user.save()
    if role == "data_steward":
        user.groups.add(Group.objects.get(name=role))
    else:
        Membership.objects.create(user=user, course=Course.objects.default(), role=role)
    return [username, password]

demo = Cohort.objects.get(is_demo=True)
second = Cohort.objects.exclude(pk=demo.pk).get()
run = demo.training_runs.order_by("-pk").first()
pseudonyms = list(demo.patients.values_list("pseudonym", flat=True))
random.Random(20261205).shuffle(pseudonyms)
plan = {"students": [account(f"bench_student_{i:03d}", "student") for i in range(students)],
        "educators": [account(f"bench_educator_{i}", "educator") for i in range(3)],
        "cohorts": [demo.pk, second.pk], "cohort": demo.pk, "run": run.pk,
        "arms": sorted(set(run.models.values_list("arm", flat=True))),
        "pseudonyms": pseudonyms[:500],
        "list_pages": list(range(1, -(-len(pseudonyms) // PATIENTS_PER_PAGE) + 1))}
json.dump(plan, open(plan_path, "w"))
"""


@dataclass
class Record:
    page: str
    ms: float
    status: int  # 0: no answer (connection error or timeout)
    bad_body: str  # which of BAD_BODY the body contained, or ""
    path: str


@dataclass
class Background:
    what: str
    started: float  # perf_counter at the click
    running_at: float | None = None
    ended: float | None = None
    result: str = "not finished"
    notes: list[str] = field(default_factory=list)


class Client:
    """One user's browser: plain HTTP to the server, its own cookies, every request recorded."""

    def __init__(self, port: int, https_proxy: bool, records: list[Record]):
        self.port, self.https_proxy, self.records = port, https_proxy, records
        self.origin = f"{'https' if https_proxy else 'http'}://127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, page: str, form: dict | None = None,
                timeout: float = 120) -> tuple[int, str, dict]:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.https_proxy:
            headers["X-Forwarded-Proto"] = "https"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers.update({"Content-Type": "application/x-www-form-urlencoded",
                            "Origin": self.origin, "Referer": self.origin + path})
        t0 = time.perf_counter()
        status, text, response_headers = 0, "", {}
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            status = response.status
            response_headers = {k.lower(): v for k, v in response.getheaders()}
            for header in response.msg.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
        except OSError as error:
            text = repr(error)
        finally:
            connection.close()
        ms = (time.perf_counter() - t0) * 1000
        bad = next((marker for marker in BAD_BODY if marker in text), "")
        self.records.append(Record(page, ms, status, bad, f"{method} {path}"))
        return status, text, response_headers

    def token(self, text: str) -> str:
        match = CSRF.search(text)
        return match.group(1) if match else self.cookies.get("csrftoken", "")

    def sign_in(self, username: str, password: str) -> bool:
        _, text, _ = self.request("GET", "/accounts/login/", "sign in")
        status, _, _ = self.request("POST", "/accounts/login/", "sign in", form={
            "username": username, "password": password, "csrfmiddlewaretoken": self.token(text)})
        return status == 302


def student(client: Client, plan: dict, rng: random.Random, stop: threading.Event,
            wait: tuple[float, float]) -> None:
    pages, weights = list(PAGE_WEIGHTS), list(PAGE_WEIGHTS.values())
    while not stop.is_set():
        page = rng.choices(pages, weights)[0]
        pseudonym = rng.choice(plan["pseudonyms"])
        path = {
            "patient page": f"/patients/{pseudonym}/",
            "what-if page": f"/patients/{pseudonym}/what-if/?crp_mg_l={rng.choice((1, 3, 10, 20))}",
            "model page": f"/runs/{plan['run']}/arms/{rng.choice(plan['arms'])}/",
            "patient list": f"/cohorts/{plan['cohort']}/patients/?page={rng.choice(plan['list_pages'])}",
        }[page]
        client.request("GET", path, page)
        stop.wait(rng.uniform(*wait))


def train(client: Client, cohort: int, job: Background, deadline: float) -> None:
    """Click "Train models" on the cohort's models page, then follow the job page to its end."""
    _, text, _ = client.request("GET", f"/cohorts/{cohort}/models/", "educator: models page")
    job.started = time.perf_counter()
    status, _, headers = client.request("POST", f"/cohorts/{cohort}/train/", "educator: train click",
                                        form={"csrfmiddlewaretoken": client.token(text)})
    location = headers.get("location", "")
    if status != 302 or not re.search(r"/training/\d+/$", location):
        job.result = f"click answered {status} {location}"
        job.ended = time.perf_counter()
        return
    path = re.sub(r"^https?://[^/]+", "", location)
    job.what += f" (job {path.rstrip('/').rsplit('/', 1)[1]})"
    while time.perf_counter() < deadline:
        status, text, _ = client.request("GET", path, "educator: job page")
        match = JOB_STATUS.search(text)
        state = match.group(1) if match else f"HTTP {status}"
        if state == "running" and job.running_at is None:
            job.running_at = time.perf_counter()
        if state in ("done", "failed"):
            job.result, job.ended = state, time.perf_counter()
            if state == "failed":
                error = re.search(r'id="job-error">(.*?)</p>', text, re.S)
                job.notes.append(error.group(1).strip() if error else "")
            return
        time.sleep(2)


def generate(client: Client, job: Background) -> None:
    _, text, _ = client.request("GET", "/cohorts/new/", "educator: cohort form")
    job.started = time.perf_counter()
    status, _, headers = client.request(
        "POST", "/cohorts/new/", "educator: create cohort", timeout=900,
        form={"csrfmiddlewaretoken": client.token(text), "scenario": "default",
              "n_patients": str(GENERATION_PATIENTS), "seed": str(random.randrange(2**31)),
              "name": f"Bench generation {secrets.token_hex(2)}"})
    job.ended = time.perf_counter()
    job.result = "done" if status == 302 else f"answered {status}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest rank."""
    rank = max(1, int(round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def wait_for_server(port: int, https_proxy: bool, process: subprocess.Popen, limit: float) -> float:
    t0 = time.perf_counter()
    while True:
        if process.poll() is not None:
            sys.exit(f"the server exited with {process.returncode}")
        client = Client(port, https_proxy, [])
        if client.request("GET", "/accounts/login/", "probe", timeout=2)[0] == 200:
            return time.perf_counter() - t0
        if time.perf_counter() - t0 > limit:
            sys.exit(f"the server did not answer within {limit:.0f} s")
        time.sleep(0.3)


def stop_process(process: subprocess.Popen, signals: int = 1) -> None:
    """SIGTERM (db_worker takes a second one as "stop now"), then SIGKILL the group after 30 s."""
    if process.poll() is not None:
        return
    for _ in range(signals):
        os.kill(process.pid, signal.SIGTERM)
        time.sleep(0.5)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def prepare(env: dict, tmp: Path, args) -> dict:
    """make run's set-up steps, a second cohort and the accounts; returns the plan."""
    def manage(*command: str, extra: dict | None = None) -> None:
        # Quiet unless it fails: the commands' progress and audit checkpoints are not the figures.
        done = subprocess.run([PYTHON, "manage.py", *command, "-v", "0"], env={**env, **(extra or {})},
                              cwd=REPO_ROOT, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"manage.py {' '.join(command)} failed:\n{done.stdout}{done.stderr}")

    t0 = time.perf_counter()
    manage("migrate", "--noinput")
    manage("seed_demo", "--patients", str(args.patients))
    manage("train_models", "--if-missing", "--seed", "1")
    manage("generate_cohort", "--patients", str(args.patients), "--seed", "2",
           "--name", "Second cohort (bench)")
    plan_path = tmp / "plan.json"
    manage("shell", "-c", SETUP_SCRIPT,
           extra={"BENCH_STUDENTS": str(args.students), "BENCH_PLAN": str(plan_path)})
    plan = json.loads(plan_path.read_text())
    print(f"set-up (migrate, seed_demo --patients {args.patients}, train_models, a second cohort, "
          f"accounts): {time.perf_counter() - t0:.1f} s; {len(plan['students'])} students, "
          f"3 educators; cohorts {plan['cohorts']}, run {plan['run']}, {len(plan['arms'])} arms, "
          f"{len(plan['list_pages'])} list pages")
    return plan


def run_class(port: int, https_proxy: bool, plan: dict, args, logs: list[Path], title: str) -> dict:
    """Students browse for --duration s while two trainings and a generation run; then report."""
    print(f"\n## {title}")
    print(f"load average before: {load_average()}")
    records: list[Record] = []
    stop = threading.Event()
    wait = tuple(float(x) for x in args.wait.split(","))
    log_sizes = {log: log.stat().st_size if log.exists() else 0 for log in logs}

    clients = [Client(port, https_proxy, records) for _ in plan["students"]]
    signed = [False] * len(clients)

    def sign_in(i):
        signed[i] = clients[i].sign_in(*plan["students"][i])

    threads = [threading.Thread(target=sign_in, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join()
    print(f"students signed in: {sum(signed)} of {len(clients)}")

    educators = [Client(port, https_proxy, records) for _ in plan["educators"]]
    for educator, account in zip(educators, plan["educators"]):
        if not educator.sign_in(*account):
            print(f"educator {account[0]} could not sign in")
    t0 = time.perf_counter()
    deadline = t0 + args.duration + args.max_wait
    jobs = [Background(f"training cohort {c}", t0) for c in plan["cohorts"]]
    generation = Background(f"generation, {GENERATION_PATIENTS:,} patients (cohort page)", t0)
    background = [threading.Thread(target=train, args=(educators[i], plan["cohorts"][i], jobs[i],
                                                       deadline)) for i in range(2)]
    background.append(threading.Thread(target=generate, args=(educators[2], generation)))
    browsing = [threading.Thread(target=student, args=(c, plan, random.Random(i), stop, wait))
                for i, c in enumerate(c for c, ok in zip(clients, signed) if ok)]
    for t in background + browsing:
        t.start()
    stop.wait(args.duration)
    stop.set()
    for t in browsing:
        t.join()
    browsed = time.perf_counter() - t0
    load_after_browsing = load_average()
    for t in background:
        t.join()
    print(f"students browsed {browsed:.1f} s; load average at the end of browsing: "
          f"{load_after_browsing}; after the background work: {load_average()}")

    report_pages(records)
    rows = []
    for job in [*jobs, generation]:
        rows.append([job.what, job.result,
                     f"{job.running_at - job.started:.1f}" if job.running_at else "-",
                     f"{job.ended - job.started:.1f}" if job.ended else "-",
                     "yes" if job.ended and job.ended - t0 <= browsed else "no"])
    print()
    print_table(["background (from the click)", "result", "running seen at s", "ended at s",
                 "within the browsing"], rows)
    for job in jobs:
        for note in job.notes:
            print(f"  {job.what}: {note}")
    report_logs(logs, log_sizes)
    return {"jobs": jobs, "generation": generation}


def report_pages(records: list[Record]) -> None:
    by_page: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        by_page[record.page].append(record)
    rows = []
    for page in [*PAGE_WEIGHTS, *sorted(p for p in by_page if p not in PAGE_WEIGHTS)]:
        recs = by_page.get(page)
        if not recs:
            continue
        expected = (200,) if page in PAGE_WEIGHTS else (200, 302)
        times = sorted(r.ms for r in recs)
        rows.append([page, str(len(recs)), str(sum(r.status >= 500 for r in recs)),
                     str(sum(bool(r.bad_body) for r in recs)),
                     str(sum(r.status < 500 and r.status not in expected for r in recs)),
                     f"{percentile(times, 50):.0f}", f"{percentile(times, 95):.0f}",
                     f"{times[-1]:.0f}"])
    print()
    print_table(["page", "requests", "5xx", "traceback/locked", "other", "p50 ms", "p95 ms",
                 "max ms"], rows)
    readers = [r for r in records if r.page in PAGE_WEIGHTS]
    print(f"student pages: {len(readers)} requests, {sum(r.status >= 500 for r in readers)} 5xx, "
          f"{sum(bool(r.bad_body) for r in readers)} with a traceback or 'database is locked'")
    for r in [r for r in records if r.status >= 500 or r.bad_body or r.status == 0][:10]:
        print(f"  {r.status} {r.path} ({r.page}, {r.ms:.0f} ms){' ' + r.bad_body if r.bad_body else ''}")


def report_logs(logs: list[Path], sizes: dict[Path, int]) -> None:
    """What the server and the task workers wrote during this run about errors."""
    for log in logs:
        if not log.exists():
            continue
        with log.open("rb") as f:
            f.seek(sizes.get(log, 0))
            text = f.read().decode("utf-8", "replace")
        counts = {marker: text.count(marker) for marker in LOG_MARKERS}
        print(f"log {log.name}: " + ", ".join(f"{m!r} {n}" for m, n in counts.items()))
        first = text.find("Traceback")
        if first >= 0:
            print("  first traceback:\n    " + "\n    ".join(text[first:first + 3000].splitlines()[:40]))


def summarize_trainings(results: list[tuple[int, dict]]) -> None:
    print("\n## Training and generation times by number of task workers (s, from the click)")
    rows = []
    for workers, result in results:
        times = [j.ended - j.started for j in result["jobs"] if j.result == "done"]
        generation = result["generation"]
        rows.append([str(workers), *(f"{j.ended - j.started:.1f}" if j.result == "done" else j.result
                                     for j in result["jobs"]),
                     f"{max(times):.1f}" if len(times) == 2 else "-",
                     f"{generation.ended - generation.started:.1f}" if generation.ended else "-"])
    print_table(["task workers", "training 1", "training 2", "both done", "generation"], rows)


def versions() -> None:
    names = ("django", "django-tasks", "django-tasks-db", "gunicorn", "psycopg", "scikit-learn")
    found = []
    for name in names:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    print(", ".join(found) + f", SQLite {sqlite3.sqlite_version}")


def base_env(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DJANGO_DEBUG", "DJANGO_PRODUCTION", "DATABASE_URL", "PGDATABASE",
                        "TRAINING_MAX_CONCURRENT")}
    env.update({"DATA_DIR": str(tmp / "data"), "PYTHON": PYTHON})
    return env


def run_sqlite(args) -> None:
    print("\n# SQLite, make run's set-up: scripts/run (runserver --noreload + one db_worker), debug off")
    tmp = Path(tempfile.mkdtemp(prefix="bench-train-sqlite-"))
    env = base_env(tmp)
    env.pop("PGHOST", None)
    plan = prepare(env, tmp, args)
    port = free_port()
    log = tmp / "scripts-run.log"
    server = subprocess.Popen(["scripts/run", f"127.0.0.1:{port}"], env=env, cwd=REPO_ROOT,
                              stdout=log.open("wb"), stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        print(f"scripts/run to the first answer: {wait_for_server(port, False, server, 120):.1f} s")
        run_class(port, False, plan, args, [log],
                  f"SQLite, {args.students} students, {args.duration} s, TRAINING_MAX_CONCURRENT 1 "
                  "(default), 1 task worker")
    finally:
        stop_process(server)
        if not args.keep:
            subprocess.run(["rm", "-rf", str(tmp)], check=False)


def run_postgres(args) -> None:
    import psycopg

    print("\n# PostgreSQL, production mode: scripts/serve (gunicorn) + manage.py db_worker task "
          "workers, TRAINING_MAX_CONCURRENT=2")
    db = f"bench_train_{os.getpid()}_{secrets.token_hex(3)}"
    admin = psycopg.connect(dbname="postgres", autocommit=True)
    print(f"PostgreSQL {admin.info.server_version}, database {db}, "
          f"{args.gunicorn_workers} gunicorn workers")
    admin.execute(f'CREATE DATABASE "{db}"')
    tmp = Path(tempfile.mkdtemp(prefix="bench-train-pg-"))
    port = free_port()
    user = os.environ.get("PGUSER", "postgres")
    host, pgport = os.environ.get("PGHOST", "127.0.0.1"), os.environ.get("PGPORT", "5432")
    env = base_env(tmp)
    env.update({
        "DJANGO_PRODUCTION": "1", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "PSEUDONYM_KEY": secrets.token_urlsafe(50), "AUDIT_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost", "DJANGO_BEHIND_TLS_PROXY": "1",
        "DATABASE_URL": f"postgres://{user}@{host}:{pgport}/{db}",
        "WEB_CONCURRENCY": str(args.gunicorn_workers), "GUNICORN_BIND": f"127.0.0.1:{port}",
        "TRAINING_MAX_CONCURRENT": "2",
    })
    server = None
    results = []
    try:
        plan = prepare(env, tmp, args)
        log = tmp / "gunicorn.log"
        server = subprocess.Popen(["scripts/serve"], env=env, cwd=REPO_ROOT, stdout=log.open("wb"),
                                  stderr=subprocess.STDOUT, start_new_session=True)
        print(f"scripts/serve to the first answer: {wait_for_server(port, True, server, 240):.1f} s")
        for n in args.workers:
            worker_logs = [tmp / f"db_worker-{n}-{i}.log" for i in range(n)]
            workers = [subprocess.Popen(
                [PYTHON, "manage.py", "db_worker", "--no-reload", "--no-startup-delay",
                 "--interval", "1"], env=env, cwd=REPO_ROOT, stdout=path.open("wb"),
                stderr=subprocess.STDOUT, start_new_session=True) for path in worker_logs]
            try:
                result = run_class(port, True, plan, args, [log, *worker_logs],
                                   f"PostgreSQL, {args.students} students, {args.duration} s, "
                                   f"TRAINING_MAX_CONCURRENT 2, {n} task worker{'s' * (n > 1)}")
                results.append((n, result))
            finally:
                for worker in workers:
                    stop_process(worker, signals=2)
        summarize_trainings(results)
    finally:
        if server is not None:
            stop_process(server)
        admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.close()
        if not args.keep:
            subprocess.run(["rm", "-rf", str(tmp)], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--setup", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--duration", type=int, default=90, help="seconds of browsing")
    parser.add_argument("--wait", default="0.5,2", help="think time range in seconds, 'min,max'")
    parser.add_argument("--patients", type=int, default=5_000,
                        help="demo cohort size (and the second cohort's), as seed_demo --patients")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="PostgreSQL: task worker counts, one run each")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--max-wait", type=int, default=900,
                        help="seconds after the browsing to wait for the trainings to end")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    args = parser.parse_args()
    if args.setup != "sqlite" and not (os.environ.get("PGHOST") or os.environ.get("PGDATABASE")):
        sys.exit("--setup postgres needs PostgreSQL: run under scripts/with-postgres")

    print("# A class browsing during two trainings and a 20,000-patient generation")
    for line in environment_lines():
        print(line)
    versions()
    print(f"{args.students} students, think time {args.wait} s, {args.duration} s; demo cohort "
          f"{args.patients:,} patients")
    if args.setup in ("sqlite", "both"):
        run_sqlite(args)
    if args.setup in ("postgres", "both"):
        run_postgres(args)


if __name__ == "__main__":
    main()
