"""Load test: a class answers a live case exercise on the production server (gunicorn, PostgreSQL).

    scripts/with-postgres .venv/bin/python benchmarks/bench_exercise_load.py [--students 60]

Issue 15, item 8: 60 students submit 5 cases each within two minutes while the educator's live
view polls its counts, on 2 gunicorn workers and PostgreSQL. Steps:

1. Set-up (timed for information): a fresh database ``bench_exercise_<pid>``; production settings
   as ``bench_class_load.py`` sets them; ``migrate``, ``generate_cohort`` (--patients, default
   1,000), ``train_models``; then an educator of the cohort's course, a student join code for
   that course (``courses.services.join_code_create``) and an open five-case exercise, half the
   class shown the model. No student account exists yet.
2. ``scripts/serve`` with WEB_CONCURRENCY=--workers.
3. The class, as threads of plain ``requests`` sessions (no locust needed: the schedule is fixed,
   not a think-time loop): students start --spawn-rate a second; each opens ``join/<code>/``
   and posts the sign-up form there (username, display name, password twice, CSRF token), which
   creates the account (an argon2 hash), joins the course and signs them in; then per case opens
   the case page and, after a think time uniform in --wait seconds, posts an answer (with its
   CSRF token), which must redirect. Meanwhile the educator signs in and the live view polls
   ``counts.json`` every --poll seconds until every answer is counted, and the workers' VmRSS is
   read from /proc.
4. Prints errors (a wrong status or an exception: must be 0), the answers the live view counted at
   the end, how long the joins took (the first join page opened to the last account made, and
   the workers' time in them), p50/p95/p99/max per endpoint as the client saw them and as
   gunicorn logged them, the time the whole class took, and the workers' memory.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

import requests

from _common import REPO_ROOT, environment_lines, print_table
from bench_class_load import PYTHON, children, free_port, percentile, proc_status

ENDPOINTS = [  # gunicorn's access log: method and path -> endpoint, as the client names them
    ("join page", re.compile(r"^GET /join/[^/]+/")),
    ("join (POST: account made)", re.compile(r"^POST /join/[^/]+/")),
    ("sign in", re.compile(r"^(GET|POST) /accounts/login/")),
    ("live counts (JSON)", re.compile(r"^GET /exercises/\d+/counts\.json")),
    ("case page", re.compile(r"^GET /exercises/\d+/answer/")),
    ("answer (POST)", re.compile(r"^POST /exercises/\d+/answer/")),
]
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

SETUP_SCRIPT = r"""
import json, os, secrets
from django.contrib.auth import get_user_model
from decision_support.cohorts.models import Cohort, Patient
from decision_support.consent.selectors import consent_permitted_classes
from decision_support.courses.models import Membership
from decision_support.courses.services import join_code_create
from decision_support.exercises.models import Exercise
from decision_support.exercises.selectors import case_eligible_arms
from decision_support.exercises.services import exercise_create, exercise_open
from decision_support.lib.vocabulary import CONSENT_CLASSES, Purpose
plan_path = os.environ["EXERCISE_LOAD_PLAN"]
cohort = Cohort.objects.order_by("-pk").first()
educator_password = secrets.token_urlsafe(16)
educator = get_user_model().objects.create(username="exercise_educator")
educator.set_password(educator_password)
educator.save()
Membership.objects.create(user=educator, course=cohort.course, role="educator")
join_code = join_code_create(actor=educator, purpose=Purpose.EDUCATION, course=cohort.course,
                             role="student", days=1)
everything = set(CONSENT_CLASSES)
cases = [p for p in Patient.objects.filter(cohort=cohort).order_by("number")[:200]
         if consent_permitted_classes(p, purpose=Purpose.EDUCATION) == everything][:5]
exercise = exercise_open(actor=educator, purpose=Purpose.EDUCATION, exercise=exercise_create(
    actor=educator, purpose=Purpose.EDUCATION, cohort=cohort, name="Load test",
    mode=Exercise.Mode.HALF_WITH_MODEL, patients=cases))
plan = {"exercise": exercise.pk, "educator": ["exercise_educator", educator_password],
        "join_code": join_code.code,
        "cases": [[c.position, list(case_eligible_arms(c.patient))]
                  for c in exercise.ordered_cases()]}
json.dump(plan, open(plan_path, "w"))
print(f"cohort {cohort.pk} ({cohort.n_patients} patients), exercise {exercise.pk}, join code "
      f"for course {cohort.course_id}")
"""


class Client:
    """One person's session behind the pretend TLS proxy, recording every request."""

    def __init__(self, url: str, records: list):
        self.url, self.records = url, records
        self.session = requests.Session()
        self.session.headers.update({"X-Forwarded-Proto": "https"})
        self.origin = {"Origin": url.replace("http://", "https://"),
                       "Referer": url.replace("http://", "https://") + "/"}

    def request(self, name: str, method: str, path: str, *, expect: int, **kwargs):
        started = time.perf_counter()
        error, response = None, None
        try:
            response = self.session.request(method, self.url + path, allow_redirects=False,
                                            timeout=60, **kwargs)
            if response.status_code != expect:
                error = f"{response.status_code} (expected {expect})"
        except requests.RequestException as exc:
            error = repr(exc)[:200]
        self.records.append((name, started, (time.perf_counter() - started) * 1000, error))
        for cookie in self.session.cookies:  # requests sends no Secure cookie over http
            cookie.secure = False
        return response

    def submit_form(self, name: str, path: str, data: dict, *, page_name: str = "",
                    think: float = 0) -> None:
        """Open the form's page, think, then post ``data`` with its CSRF token to the same
        address, as a browser does; the post must redirect."""
        page = self.request(page_name or name, "GET", path, expect=200)
        token = CSRF.search(page.text).group(1) if page is not None and page.ok else ""
        time.sleep(think)
        self.request(name, "POST", path, expect=302, headers=self.origin,
                     data={**data, "csrfmiddlewaretoken": token})

    def sign_in(self, username: str, password: str) -> None:
        self.submit_form("sign in", "/accounts/login/",
                         {"username": username, "password": password})

    def join(self, code: str, username: str, password: str) -> None:
        """Make an account on the join page, which joins the course and signs in."""
        self.submit_form("join (POST: account made)", f"/join/{code}/", page_name="join page",
                         data={"username": username, "display_name": username.title(),
                               "password1": password, "password2": password})


def student(url, plan, username, records, delay, wait, rng):
    time.sleep(delay)
    client = Client(url, records)
    client.join(plan["join_code"], username, secrets.token_urlsafe(16))
    path = f"/exercises/{plan['exercise']}/answer/"
    for position, arms in plan["cases"]:
        client.submit_form("answer (POST)", f"{path}?case={position}",
                           page_name="case page", think=rng.uniform(*wait),
                           data={"case": position, "arm": rng.choice(arms),
                                 "confidence": rng.randint(0, 100), "reason": "load test"})


def educator(url, plan, records, expected, poll, done: threading.Event, last: dict):
    client = Client(url, records)
    client.sign_in(*plan["educator"])
    deadline = time.perf_counter() + 600
    while time.perf_counter() < deadline:
        response = client.request("live counts (JSON)", "GET",
                                  f"/exercises/{plan['exercise']}/counts.json", expect=200)
        if response is not None and response.ok:
            last.update(response.json())
            if sum(c["answers"] for c in last["cases"]) >= expected and done.is_set():
                return
        time.sleep(poll)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--spawn-rate", type=float, default=3, help="students started a second")
    parser.add_argument("--wait", default="2,12", help="think time per case in seconds, 'min,max'")
    parser.add_argument("--poll", type=float, default=3, help="the live view's poll, seconds")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261205)
    args = parser.parse_args()
    if not (os.environ.get("PGHOST") or os.environ.get("PGDATABASE")):
        sys.exit("needs PostgreSQL: run under scripts/with-postgres")
    wait = tuple(float(x) for x in args.wait.split(","))

    import psycopg

    print("# Exercise load test: gunicorn in production mode on PostgreSQL, a class answering")
    for line in environment_lines():
        print(line)
    db = f"bench_exercise_{os.getpid()}_{secrets.token_hex(3)}"
    admin = psycopg.connect(dbname="postgres", autocommit=True)
    print(f"PostgreSQL {admin.info.server_version}, database {db}; {args.workers} gunicorn "
          f"workers; {args.students} students x 5 cases (spawn {args.spawn_rate}/s, think time "
          f"{args.wait} s a case); the live view polls every {args.poll} s")
    admin.execute(f'CREATE DATABASE "{db}"')
    tmp = Path(tempfile.mkdtemp(prefix="exercise-load-"))
    port = free_port()
    user = os.environ.get("PGUSER", "postgres")
    host, pgport = os.environ.get("PGHOST", "127.0.0.1"), os.environ.get("PGPORT", "5432")
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_DEBUG",)}
    env.update({
        "DJANGO_PRODUCTION": "1", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "PSEUDONYM_KEY": secrets.token_urlsafe(50), "AUDIT_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_BEHIND_TLS_PROXY": "1", "DATA_DIR": str(tmp / "data"),
        "DATABASE_URL": f"postgres://{user}@{host}:{pgport}/{db}",
        "WEB_CONCURRENCY": str(args.workers), "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_ACCESS_LOG": str(tmp / "access.log"), "GUNICORN_LOG_LEVEL": "warning",
        "PYTHON": PYTHON,
    })
    server = None
    records: list = []
    last: dict = {}
    try:
        t0 = time.perf_counter()
        manage = [PYTHON, "manage.py"]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, cwd=REPO_ROOT,
                       check=True)
        subprocess.run([*manage, "generate_cohort", "--patients", str(args.patients), "--seed",
                        "1", "-v", "0"], env=env, cwd=REPO_ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([*manage, "train_models", "--seed", "1", "-v", "0"], env=env,
                       cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL)
        plan_path = tmp / "plan.json"
        subprocess.run([*manage, "shell", "-v", "0", "-c", SETUP_SCRIPT], cwd=REPO_ROOT,
                       check=True, env={**env, "EXERCISE_LOAD_PLAN": str(plan_path)})
        plan = json.loads(plan_path.read_text())
        print(f"set-up (migrate, generate_cohort, train_models, educator, join code, exercise): "
              f"{time.perf_counter() - t0:.1f} s")

        t0 = time.perf_counter()
        server = subprocess.Popen(["scripts/serve"], env=env, cwd=REPO_ROOT,
                                  start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        while True:
            if server.poll() is not None:
                sys.exit(f"scripts/serve exited with {server.returncode}")
            try:
                request = urllib.request.Request(url + "/accounts/login/",
                                                 headers={"X-Forwarded-Proto": "https"})
                if urllib.request.urlopen(request, timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.2)
            if time.perf_counter() - t0 > 180:
                sys.exit("gunicorn did not answer within 180 s")
        workers = children(server.pid)
        print(f"scripts/serve to the first answer: {time.perf_counter() - t0:.1f} s; "
              f"workers {workers}")
        idle = {pid: proc_status(pid).get("VmRSS", 0) for pid in workers}
        peak: dict[int, int] = defaultdict(int)
        stop = threading.Event()

        def poll_memory():
            while not stop.is_set():
                for pid in children(server.pid):
                    peak[pid] = max(peak[pid], proc_status(pid).get("VmRSS", 0))
                stop.wait(0.2)

        poller = threading.Thread(target=poll_memory, daemon=True)
        poller.start()
        rng = random.Random(args.seed)
        students_done = threading.Event()
        expected = args.students * len(plan["cases"])
        live = threading.Thread(target=educator, args=(url, plan, records, expected, args.poll,
                                                       students_done, last))
        t0 = time.perf_counter()
        live.start()
        threads = [threading.Thread(target=student, args=(
            url, plan, f"exercise_student_{i:03d}", records, i / args.spawn_rate, wait,
            random.Random(rng.random()))) for i in range(args.students)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        class_seconds = time.perf_counter() - t0
        students_done.set()
        live.join()
        stop.set()
        poller.join()
        hwm = {pid: proc_status(pid).get("VmHWM", 0) for pid in peak}
    finally:
        if server is not None and server.poll() is None:
            os.kill(server.pid, signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.close()
    report(records, tmp, class_seconds, last, expected, idle, peak, hwm)
    subprocess.run(["rm", "-rf", str(tmp)], check=False)


def report(records, tmp, class_seconds, last, expected, idle, peak, hwm) -> None:
    by_endpoint: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    for name, _, ms, error in records:
        by_endpoint[name].append(ms)
        if error:
            errors[name].append(error)
    server_times: dict[str, list[float]] = defaultdict(list)
    log = tmp / "access.log"
    if log.exists():
        for line in log.read_text().splitlines():
            m = re.search(r'"([A-Z]+ \S+) HTTP/[^"]*" \d+ \S+ (\d+)us', line)
            if m:
                name = next((n for n, p in ENDPOINTS if p.match(m.group(1))), "other")
                server_times[name].append(int(m.group(2)) / 1000)
    counted = sum(c["answers"] for c in last.get("cases", []))
    print(f"\nthe class (first join to the last answer): {class_seconds:.1f} s; the live view "
          f"counted {counted} of {expected} answers, {last.get('complete')} students complete")
    joins = [(started, started + ms / 1000) for name, started, ms, _ in records
             if name.startswith("join")]
    span = max(end for _, end in joins) - min(start for start, _ in joins)
    print(f"the {len(joins) // 2} joins: {span:.1f} s from the first join page to the last "
          f"account made; the workers spent "
          f"{sum(server_times['join (POST: account made)']) / 1000:.1f} s making the accounts")
    print(f"requests: {len(records)}; errors: {sum(len(v) for v in errors.values())}\n")
    rows = []
    for name in sorted(by_endpoint):
        t, server = sorted(by_endpoint[name]), sorted(server_times[name])
        rows.append([name, str(len(t)), str(len(errors[name])),
                     *(f"{percentile(t, q):.0f}" for q in (50, 95, 99)), f"{t[-1]:.0f}",
                     *(f"{percentile(server, q):.0f}" if server else "-" for q in (50, 95))])
    print_table(["endpoint", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms",
                 "server p50", "server p95"], rows)
    for name, errs in errors.items():
        if errs:
            print(f"  {name}: first errors: {sorted(set(errs))[:3]}")
    print("\nworker resident memory (MB):")
    print_table(["worker", "idle", "peak VmRSS (polled)", "VmHWM"],
                [[str(pid), f"{idle.get(pid, 0) / 1024:.0f}", f"{peak[pid] / 1024:.0f}",
                  f"{hwm.get(pid, 0) / 1024:.0f}"] for pid in sorted(peak)])


if __name__ == "__main__":
    main()
