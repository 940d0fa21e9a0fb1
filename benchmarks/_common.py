"""Shared helpers for the benchmark scripts: timing summaries and an environment header.

Benchmarks print numbers; they assert nothing. Machines are shared and noisy, so every figure
is a median of repeats, shown with its min and max, and sizes are compared as ratios within
one run rather than against numbers from another day.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def summarize(times: list[float]) -> dict[str, float]:
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def p95(times: list[float]) -> float:
    """The 95th percentile (linear interpolation between the nearest ranks)."""
    return statistics.quantiles(times, n=20, method="inclusive")[-1] if len(times) > 1 else times[0]


def environment_lines() -> list[str]:
    """What the numbers depend on: date, machine, interpreter, library versions, load."""
    import numpy
    import pandas

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    blas = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
    return [
        f"date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {load}",
        f"python {platform.python_version()}, numpy {numpy.__version__}, pandas {pandas.__version__}",
        f"OpenBLAS overrides: {blas or 'none'}",
    ]


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))


def thread_caps(text: str) -> list[int | None]:
    """``--threads`` as given: 'default' (no cap) or numbers, comma-separated."""
    try:
        return [None if t == "default" else int(t) for t in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("takes 'default' or numbers, comma-separated") from None


# --- A throw-away database for the benchmarks that run Django ---------------------------------


def postgres_target() -> str | None:
    """'url' or 'pg' when the settings would select PostgreSQL, else None (SQLite)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        if urlsplit(url).scheme not in ("postgres", "postgresql", "pgsql"):
            sys.exit(f"bench_storage: DATABASE_URL scheme {urlsplit(url).scheme!r} is not "
                     "supported; unset it to benchmark SQLite in a temporary folder")
        return "url"
    if os.environ.get("PGHOST") or os.environ.get("PGDATABASE"):
        return "pg"
    return None


def create_throwaway_postgres(target: str) -> tuple[str, dict]:
    """Create a fresh database; point the environment at it. Returns its name and how to connect
    to the maintenance database (to drop it afterwards)."""
    import psycopg

    name = f"bench_{os.getpid()}_{secrets.token_hex(4)}"
    if target == "url":
        parts = urlsplit(os.environ["DATABASE_URL"])
        admin = {"conninfo": urlunsplit(parts._replace(path="/postgres"))}
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    else:
        admin = {"conninfo": "", "dbname": "postgres"}
        os.environ["PGDATABASE"] = name
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, admin


def drop_postgres(name: str, admin: dict) -> None:
    import psycopg

    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def backend_lines(connection) -> list[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            import sqlite3

            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            sync = cursor.fetchone()[0]
            return [f"backend: SQLite {sqlite3.sqlite_version} (journal_mode={journal}, "
                    f"synchronous={sync}), file {connection.settings_dict['NAME']}"]
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(" on ")[0]
        settings = []
        for name in ("fsync", "synchronous_commit", "shared_buffers"):
            cursor.execute(f"SHOW {name}")
            settings.append(f"{name}={cursor.fetchone()[0]}")
        import psycopg

        return [f"backend: {version} ({', '.join(settings)}), "
                f"database {connection.settings_dict['NAME']} on "
                f"{connection.settings_dict['HOST'] or 'local socket'}",
                f"driver: psycopg {psycopg.__version__}"]


@contextlib.contextmanager
def django_sandbox(prefix: str):
    """Environment for a benchmark that runs Django without touching the developer's data:
    ``DATA_DIR`` a new temporary folder (the SQLite file and any generated keys live there) or,
    with PostgreSQL selected (``postgres_target``), a throw-away database created here and
    dropped on exit; ``DEBUG`` off (it records every query: slower and not what we measure); the
    test client's host allowed. The caller then runs ``django_start``."""
    data_dir = tempfile.TemporaryDirectory(prefix=prefix)
    os.environ["DATA_DIR"] = data_dir.name
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "decision_support.settings")
    target = postgres_target()
    pg = create_throwaway_postgres(target) if target else None
    try:
        yield
    finally:
        from django.db import connections

        connections.close_all()
        if pg:
            drop_postgres(*pg)
        data_dir.cleanup()


def course_member(course, role: str = "educator", username: str = "benchmark",
                  password: str | None = None):
    """A new user holding ``role`` in ``course`` (without a password unless one is given)."""
    from django.contrib.auth import get_user_model

    from decision_support.courses.models import Membership

    user = get_user_model().objects.create_user(username=username, password=password)
    Membership.objects.create(user=user, course=course, role=role)
    return user


def signed_in_client(course, role: str = "educator", username: str = "benchmark"):
    """A ``django.test.Client`` signed in (``force_login``) as a new user holding ``role`` in
    ``course``; the user is the client's ``user``."""
    from django.test import Client

    user = course_member(course, role, username)
    client = Client()
    client.force_login(user)
    client.user = user
    return client


class SetUp:
    """Seconds of a benchmark's set-up steps (migrate, storing, training), printed once for
    information, never part of the figures: ``with setup.timed("name"): ...``."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def timed(self, name: str):
        start = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - start

    def __str__(self) -> str:
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.seconds.items())


def django_start(title: str, details: str) -> SetUp:
    """Inside ``django_sandbox``: ``django.setup()``; the header (``title``, the environment, the
    database, Django's version and DEBUG, then ``details``), each line after a '#'; then
    ``migrate``, timed as the first set-up step."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    print(f"# {title}")
    for line in environment_lines() + backend_lines(connection):
        print(f"# {line}")
    print(f"# django {django.get_version()}, DEBUG {'on' if settings.DEBUG else 'off'}; {details}")
    print()
    setup = SetUp()
    with setup.timed("migrate"):
        call_command("migrate", interactive=False, verbosity=0)
    return setup
