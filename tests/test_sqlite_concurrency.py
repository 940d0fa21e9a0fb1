"""On the default SQLite database, concurrent sensitive reads (each one an audit write) and exports
all succeed: none fails with "database is locked".

The test suite's own SQLite database is in memory, where journal modes and locking differ, so
this runs the app's real settings against a fresh SQLite file in a subprocess (``DATA_DIR`` in a
temporary folder): migrate, a small cohort, then readers in parallel threads, each with its own
connection, as a class's requests are.
"""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
READERS = 10
ROUNDS = 4
EXPORT = {"aggregate": "responders_by_arm", "epsilon": "0.1"}


def test_parallel_audited_reads_and_exports_on_sqlite_all_succeed(tmp_path):
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
    assert result["answered"] == READERS * ROUNDS * 3
    # One audit entry per sensitive read, one per export; none lost, none doubled.
    assert result["audit_entries"] == result["answered"]
    assert result["chain_ok"]


def _read_concurrently() -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from decision_support.accounts.roles import Role
    from decision_support.audit.models import AuditEntry
    from decision_support.audit.verify import verify_chain
    from decision_support.cohorts.services import cohort_generate

    cohort = cohort_generate(n_patients=200, seed=3)
    users = []
    for i in range(READERS):
        user = get_user_model().objects.create_user(f"reader{i}")
        user.groups.add(Group.objects.get(name=Role.EDUCATOR.value))
        users.append(user)
    with connection.cursor() as cursor:
        journal_mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
    before = AuditEntry.objects.count()
    pages = [reverse("cohort_overview", args=[cohort.pk]),
             reverse("patient_list", args=[cohort.pk])]
    export = reverse("aggregate_export", args=[cohort.pk])

    def read(user) -> tuple[int, list[str]]:
        client = Client(HTTP_HOST="localhost")
        answered, failures = 0, []
        try:
            client.force_login(user)
            for _ in range(ROUNDS):
                for method, path, data in [*(("get", page, None) for page in pages),
                                           ("post", export, EXPORT)]:
                    response = getattr(client, method)(path, data)
                    answered += response.status_code == 200
                    if response.status_code != 200:
                        failures.append(f"{method} {path}: {response.status_code}")
        except Exception as error:  # "database is locked" surfaces here
            failures.append(repr(error))
        finally:
            connection.close()
        return answered, failures

    with ThreadPoolExecutor(READERS) as pool:
        results = list(pool.map(read, users))
    answered = sum(a for a, _ in results)
    return {"journal_mode": journal_mode, "failures": [f for _, fs in results for f in fs],
            "answered": answered, "audit_entries": AuditEntry.objects.count() - before,
            "chain_ok": verify_chain().ok}


if __name__ == "__main__":
    print(json.dumps(_read_concurrently()))
