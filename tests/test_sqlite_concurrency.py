"""On the default SQLite database, concurrent sensitive reads (each one an audit write) and exports
all succeed while long writes go on beside them (a cohort generated and stored, a training run
fitted and stored): none fails with "database is locked".

The test suite's own SQLite database is in memory, where journal modes and locking differ, so
this runs the app's real settings against a fresh SQLite file in a subprocess (``DATA_DIR`` in a
temporary folder): migrate, a small cohort, then readers in parallel threads, each with its own
connection, as a class's requests are, and two writers, as a page-started generation and a task
worker's training are. The readers go on until both writers are done.
"""

import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
READERS = 8
ROUNDS = 4  # rounds with an export (each spends privacy budget); then pages only, until the writes end
GENERATED = 4_000
EXPORT = {"aggregate": "responders_by_arm", "epsilon": "0.1"}

pytestmark = pytest.mark.slow


def test_audited_reads_and_exports_on_sqlite_all_succeed_beside_long_writes(tmp_path):
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("PG", "AUDIT_"))
           and name not in ("DATABASE_URL", "DJANGO_PRODUCTION")}
    env.update(DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="decision_support.settings")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO,
                   env=env, check=True)
    done = subprocess.run([sys.executable, "-m", "tests.test_sqlite_concurrency"], cwd=REPO,
                          env=env, check=True, capture_output=True, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["journal_mode"] == "wal"
    assert result["failures"] == [], result["failures"][:5]
    assert result["writes"] == {"generated": GENERATED, "trained": True}
    assert result["exports"] == READERS * ROUNDS
    assert result["answered_during_writes"] > 0
    # One audit entry per sensitive read, one per export; none lost, none doubled.
    assert result["audit_entries"] == result["answered"]
    assert result["chain_ok"]


def _read_concurrently() -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from decision_support.accounts.roles import Role
    from decision_support.audit.models import AuditEntry
    from decision_support.audit.verify import verify_chain
    from decision_support.cohorts.services import cohort_generate
    from decision_support.courses.models import Membership
    from decision_support.registry.services import training_run_create

    cohort = cohort_generate(n_patients=300, seed=3)
    users = []
    for i in range(READERS):
        user = get_user_model().objects.create_user(f"reader{i}")
        Membership.objects.create(user=user, course=cohort.course, role=Role.EDUCATOR.value)
        users.append(user)
    with connection.cursor() as cursor:
        journal_mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
    before = AuditEntry.objects.count()
    pages = [reverse("cohort_overview", args=[cohort.pk]),
             reverse("patient_list", args=[cohort.pk])]
    export = reverse("aggregate_export", args=[cohort.pk])

    # The writers start once every reader has been answered once (its imports and caches warm), so
    # the reads overlap the writes rather than the first page's imports.
    warm = threading.Barrier(READERS + 1)
    writes = {}

    def write(name, action) -> None:
        try:
            writes[name] = action()
        except Exception as error:
            writes[name] = repr(error)
        finally:
            connection.close()

    writers = [threading.Thread(target=write, args=("generated", lambda: cohort_generate(
                   n_patients=GENERATED, seed=4).n_patients)),
               threading.Thread(target=write, args=("trained", lambda: training_run_create(
                   cohort=cohort, seed=1).models.exists()))]

    def read(user) -> dict:
        client = Client(HTTP_HOST="localhost")
        counts, failures = {"answered": 0, "exports": 0, "during_writes": 0}, []
        try:
            client.force_login(user)
            response = client.get(pages[0])
            counts["answered"] += response.status_code == 200
            if response.status_code != 200:
                failures.append(f"get {pages[0]}: {response.status_code}")
            warm.wait()
            rounds = 0
            while rounds < ROUNDS or any(writer.is_alive() for writer in writers):
                requests = [("get", page, None) for page in pages]
                if rounds < ROUNDS:
                    requests.append(("post", export, EXPORT))
                for method, path, data in requests:
                    writes_on = any(writer.is_alive() for writer in writers)
                    response = getattr(client, method)(path, data)
                    ok = response.status_code == 200
                    counts["answered"] += ok
                    counts["exports"] += ok and method == "post"
                    # Answered while a write was going on (for part of the request at least).
                    counts["during_writes"] += ok and (writes_on or any(
                        writer.is_alive() for writer in writers))
                    if not ok:
                        failures.append(f"{method} {path}: {response.status_code}")
                rounds += 1
        except Exception as error:  # "database is locked" surfaces here
            failures.append(repr(error))
            warm.abort()
        finally:
            connection.close()
        return {**counts, "failures": failures}

    with ThreadPoolExecutor(READERS) as pool:
        readers = [pool.submit(read, user) for user in users]
        try:
            warm.wait()
        except threading.BrokenBarrierError:
            pass  # a reader failed before the writes: its failure is in the result
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        results = [reader.result() for reader in readers]
    answered = sum(r["answered"] for r in results)
    return {"journal_mode": journal_mode, "failures": [f for r in results for f in r["failures"]],
            "answered": answered, "exports": sum(r["exports"] for r in results),
            "answered_during_writes": sum(r["during_writes"] for r in results),
            "writes": writes, "audit_entries": AuditEntry.objects.count() - before,
            "chain_ok": verify_chain().ok}


if __name__ == "__main__":
    print(json.dumps(_read_concurrently()))
