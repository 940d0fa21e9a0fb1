"""Load test: a class of students on the production server (gunicorn, PostgreSQL, production mode).

    scripts/with-postgres .venv/bin/python benchmarks/bench_class_load.py [--users 50 --duration 60]

Needs a PostgreSQL server (PGHOST/PGPORT/PGUSER, as scripts/with-postgres sets them) and locust
(benchmarks/requirements.txt, in its own virtualenv: benchmarks/.venv). Steps:

1. Set-up (timed for information): a fresh database ``bench_load_<pid>`` on that server; production
   settings (DJANGO_PRODUCTION=1, random secrets, a temporary DATA_DIR, DJANGO_BEHIND_TLS_PROXY=1);
   ``migrate``, ``seed_demo`` (the 5,000-patient demo cohort), ``train_models --seed 1``, then
   ``--students`` student accounts with known random passwords, and a plan for locust: the cohort,
   the run, its arms, 500 random pseudonyms, the list pages, and whether the what-if page exists.
2. ``scripts/serve`` (collectstatic, migrate, gunicorn with decision_support/gunicorn.conf.py) with
   WEB_CONCURRENCY=--workers on a free port, the access log in a temporary file.
3. locust headless (benchmarks/locustfile.py): --users students, spawned at --spawn-rate a second,
   for --duration seconds, each signing in through the login form and then clicking with a think
   time uniform in --wait seconds. Meanwhile the workers' VmRSS is read from /proc every 0.2 s.
4. Prints per page type: requests, errors, p50/p95/p99/max as the client saw them (every request,
   ramp-up included), the same percentiles as the server logged them (gunicorn's request time),
   the request rate, the workers' peak resident memory (polled VmRSS and the kernel's VmHWM) and
   their CPU time. Then stops gunicorn and drops the database.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

from _common import REPO_ROOT, environment_lines, print_table

PYTHON = sys.executable
PAGE_PATTERNS = [  # gunicorn's access log: path -> page type, as locustfile.py names them
    ("sign in", re.compile(r"^/accounts/login/")),
    ("patient list", re.compile(r"^/cohorts/\d+/patients/")),
    ("what-if page", re.compile(r"^/patients/[^/]+/what-if/")),
    ("patient page", re.compile(r"^/patients/[^/]+/$")),
    ("model page", re.compile(r"^/runs/\d+/arms/[^/]+/$")),
]

SETUP_SCRIPT = r"""
import json, os, random, secrets
from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse
from decision_support.cohorts.models import Cohort
from decision_support.courses.models import Course, Membership
from decision_support.predictions.selectors import PATIENTS_PER_PAGE
n, plan_path = int(os.environ["CLASS_LOAD_STUDENTS"]), os.environ["CLASS_LOAD_PLAN"]
User = get_user_model()
course = Course.objects.default()
accounts = []
for i in range(n):
    username, password = f"class_student_{i:03d}", secrets.token_urlsafe(16)
    user = User.objects.create(username=username)
    user.set_password(password)
    user.save()
    Membership.objects.create(user=user, course=course, role="student")
    accounts.append((username, password))
cohort = Cohort.objects.get(is_demo=True)
run = cohort.training_runs.order_by("-pk").first()
pseudonyms = list(cohort.patients.values_list("pseudonym", flat=True))
random.Random(20261125).shuffle(pseudonyms)
try:
    reverse("patient_what_if", args=["x"])
    what_if = True
except NoReverseMatch:
    what_if = False
plan = {"accounts": accounts, "cohort": cohort.pk, "run": run.pk,
        "arms": sorted(set(run.models.values_list("arm", flat=True))),
        "pseudonyms": pseudonyms[:500], "what_if": what_if,
        "list_pages": list(range(1, -(-len(pseudonyms) // PATIENTS_PER_PAGE) + 1))}
json.dump(plan, open(plan_path, "w"))
print(f"{n} students, cohort {cohort.pk}, run {run.pk}, {len(plan['arms'])} arms, "
      f"{len(plan['list_pages'])} list pages, what-if page: {what_if}")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest rank."""
    if not sorted_values:
        return float("nan")
    rank = max(1, int(round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def proc_status(pid: int) -> dict[str, int]:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])  # kB
    except FileNotFoundError:
        pass
    return out


def shared_memory(pid: int) -> dict[str, int]:
    """Private (Private_Clean + Private_Dirty) and proportional (Pss) memory in kB: what the
    worker does not share copy-on-write with the master and its siblings, and its fair share."""
    out = {"Private": 0, "Pss": 0}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                out["Private"] += int(line.split()[1])
            elif line.startswith("Pss:"):
                out["Pss"] = int(line.split()[1])
    except (FileNotFoundError, PermissionError):
        pass
    return out


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def locust_command(explicit: str | None) -> str:
    for candidate in (explicit, str(REPO_ROOT / "benchmarks" / ".venv" / "bin" / "locust")):
        if candidate and Path(candidate).exists():
            return candidate
    sys.exit("locust not found: python3 -m venv benchmarks/.venv && "
             "benchmarks/.venv/bin/pip install -r benchmarks/requirements.txt (or --locust PATH)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=60, help="seconds")
    parser.add_argument("--spawn-rate", type=float, default=10, help="students started a second")
    parser.add_argument("--wait", default="1,5", help="think time range in seconds, 'min,max'")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--students", type=int, default=None, help="accounts (default --users)")
    parser.add_argument("--locust", default=None, help="the locust executable")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if not (os.environ.get("PGHOST") or os.environ.get("PGDATABASE")):
        sys.exit("needs PostgreSQL: run under scripts/with-postgres")
    locust = locust_command(args.locust)

    import psycopg

    print("# Class load test: gunicorn in production mode on PostgreSQL, locust students")
    for line in environment_lines():
        print(line)
    db = f"bench_load_{os.getpid()}_{secrets.token_hex(3)}"
    admin = psycopg.connect(dbname="postgres", autocommit=True)
    print(f"PostgreSQL {admin.info.server_version}, database {db}; {args.workers} gunicorn workers, "
          f"{args.users} students for {args.duration} s (spawn {args.spawn_rate}/s, think "
          f"time {args.wait} s)")
    admin.execute(f'CREATE DATABASE "{db}"')
    tmp = Path(tempfile.mkdtemp(prefix="class-load-"))
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
    try:
        t0 = time.perf_counter()
        manage = [PYTHON, "manage.py"]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, cwd=REPO_ROOT,
                       check=True)
        subprocess.run([*manage, "seed_demo", "-v", "0"], env=env, cwd=REPO_ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([*manage, "train_models", "--seed", "1", "-v", "0"], env=env, cwd=REPO_ROOT,
                       check=True, stdout=subprocess.DEVNULL)
        plan_path = tmp / "plan.json"
        subprocess.run([*manage, "shell", "-v", "0", "-c", SETUP_SCRIPT], cwd=REPO_ROOT, check=True,
                       env={**env, "CLASS_LOAD_STUDENTS": str(args.students or args.users),
                            "CLASS_LOAD_PLAN": str(plan_path)})
        print(f"set-up (migrate, seed_demo, train_models, students): {time.perf_counter() - t0:.1f} s")

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
              f"master {server.pid}, workers {workers}")
        idle = {pid: proc_status(pid).get("VmRSS", 0) for pid in [server.pid, *workers]}
        cpu0 = {pid: cpu_seconds(pid) for pid in workers}

        peak: dict[int, int] = defaultdict(int)
        seen_workers: set[int] = set(workers)
        stop = threading.Event()

        def poll_memory():
            while not stop.is_set():
                for pid in children(server.pid):
                    seen_workers.add(pid)
                    peak[pid] = max(peak[pid], proc_status(pid).get("VmRSS", 0))
                stop.wait(0.2)

        poller = threading.Thread(target=poll_memory, daemon=True)
        poller.start()
        results_path = tmp / "results.json"
        locust_env = {**env, "CLASS_LOAD_PLAN": str(plan_path),
                      "CLASS_LOAD_RESULTS": str(results_path), "CLASS_LOAD_WAIT": args.wait}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([locust, "-f", str(REPO_ROOT / "benchmarks" / "locustfile.py"),
                        "--headless", "--only-summary", "--users", str(args.users),
                        "--spawn-rate", str(args.spawn_rate), "--run-time", f"{args.duration}s",
                        "--stop-timeout", "10", "--host", url, "--loglevel", "WARNING"],
                       env=locust_env, cwd=tmp, stdout=subprocess.DEVNULL)
        elapsed = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        stop.set()
        poller.join()
        hwm = {pid: proc_status(pid).get("VmHWM", 0) for pid in seen_workers}
        shared = {pid: shared_memory(pid) for pid in [server.pid, *seen_workers]}
        cpu1 = {pid: cpu_seconds(pid) for pid in workers}
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    finally:
        if server is not None and server.poll() is None:
            os.kill(server.pid, signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.close()
    try:
        report(args, tmp, elapsed, load, before, after, idle, server.pid, peak, hwm, shared, cpu0,
               cpu1, seen_workers)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            subprocess.run(["rm", "-rf", str(tmp)], check=False)


def report(args, tmp, elapsed, load, before, after, idle, master, peak, hwm, shared, cpu0, cpu1,
           seen_workers) -> None:
    results_path = tmp / "results.json"
    records = json.loads(results_path.read_text()) if results_path.exists() else []
    by_page: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    # Steady state: requests that started once every student had been started and 10 s more.
    start = min((r[3] for r in records), default=0)
    steady_from = start + args.users / args.spawn_rate + 10
    steady: dict[str, list[float]] = defaultdict(list)
    for name, ms, error, started in records:
        key = "sign in" if name.startswith("sign in") else name
        by_page[key].append(ms)
        if started >= steady_from:
            steady[key].append(ms)
        if error:
            errors[key].append(error)
    server_times: dict[str, list[float]] = defaultdict(list)
    log = tmp / "access.log"
    if log.exists():
        for line in log.read_text().splitlines():
            m = re.search(r'"[A-Z]+ (\S+) HTTP/[^"]*" \d+ \S+ (\d+)us', line)
            if m:
                path = m.group(1)
                page = next((n for n, p in PAGE_PATTERNS if p.match(path)), "other")
                server_times[page].append(int(m.group(2)) / 1000)

    total = sum(len(v) for v in by_page.values())
    print(f"\nlocust ran {elapsed:.1f} s (ramp-up and stop included); load average after: {load}")
    print(f"locust's own CPU time: {after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime:.1f} s")
    print(f"requests: {total}, {total / elapsed:.1f} a second; errors: "
          f"{sum(len(v) for v in errors.values())}\n")
    rows = []
    for page in sorted(by_page, key=lambda p: -len(by_page[p])):
        t = sorted(by_page[page])
        s = sorted(server_times.get(page, []))
        rows.append([page, str(len(t)), str(len(errors[page])),
                     *(f"{percentile(t, q):.0f}" for q in (50, 95, 99)), f"{t[-1]:.0f}",
                     *(f"{percentile(s, q):.0f}" if s else "-" for q in (50, 95, 99))])
    print_table(["page", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms",
                 "server p50", "server p95", "server p99"], rows)
    print(f"\nthe same after the ramp-up (requests started {steady_from - start:.0f} s or more after "
          "the first), client side:")
    print_table(["page", "requests", "p50 ms", "p95 ms", "p99 ms", "max ms"],
                [[page, str(len(t)), *(f"{percentile(t, q):.0f}" for q in (50, 95, 99)),
                  f"{t[-1]:.0f}"] for page in sorted(steady, key=lambda p: -len(steady[p]))
                 if (t := sorted(steady[page]))])
    for page, errs in errors.items():
        if errs:
            print(f"  {page}: first errors: {sorted(set(errs))[:3]}")
    print("\nresident memory (MB): master idle "
          f"{idle.get(master, 0) / 1024:.0f}, at the end private "
          f"{shared.get(master, {}).get('Private', 0) / 1024:.0f}, PSS "
          f"{shared.get(master, {}).get('Pss', 0) / 1024:.0f}; per worker (private and PSS at "
          "the end: not shared copy-on-write with the master, and the worker's fair share):")
    print_table(["worker", "idle", "peak VmRSS (polled)", "VmHWM", "private", "PSS",
                 "CPU s during the test"],
                [[str(pid), f"{idle.get(pid, 0) / 1024:.0f}", f"{peak.get(pid, 0) / 1024:.0f}",
                  f"{hwm.get(pid, 0) / 1024:.0f}",
                  f"{shared.get(pid, {}).get('Private', 0) / 1024:.0f}",
                  f"{shared.get(pid, {}).get('Pss', 0) / 1024:.0f}",
                  f"{cpu1.get(pid, 0) - cpu0.get(pid, 0):.1f}"]
                 for pid in sorted(seen_workers)])
    if len(seen_workers) > args.workers:
        print(f"note: {len(seen_workers)} worker processes seen for {args.workers} workers "
              "(gunicorn restarted some)")


if __name__ == "__main__":
    main()
