"""manage.py verify_audit: OK on an intact log, the first break and exit status 1 otherwise
(every kind of tampering: tests/audit/test_tamper_evidence.py)."""

import os
import re
import sqlite3
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from decision_support.audit.services import audit_record

from .tampering import TABLE, set_column

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


def record(count: int) -> None:
    for number in range(count):
        audit_record(actor=None, role="", purpose="TRAIN", action="patient.view",
                     object_ref=f"P-{number}", outcome="allowed")


def verify() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


OK = r"OK: {entries}, chain intact; the latest checkpoint \(\S+\) covers {covered}{since}\n"


def test_it_reports_an_intact_log_and_its_latest_checkpoint(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record(3)
    record(1)  # not committed: no checkpoint covers it
    assert re.fullmatch(OK.format(entries="4 entries", covered=3, since=", 1 written after it"),
                        verify())


def test_an_empty_log_is_intact():
    assert re.fullmatch(OK.format(entries="0 entries", covered=0, since=""), verify())


def test_it_names_the_first_broken_entry_and_fails():
    record(4)
    set_column(2, "object_ref", "P-9")
    with pytest.raises(CommandError, match="^BROKEN at entry #2: content changed$") as raised:
        verify()
    assert raised.value.returncode == 1


def _run(tmp_path, *args):
    """manage.py in a fresh process, on a SQLite file in ``tmp_path`` (never the developer's
    database, whatever the environment says)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "PG", "DATABASE_URL", "AUDIT_"))}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT,
                          env={**env, "DATA_DIR": str(tmp_path)},
                          capture_output=True, text=True, timeout=300)


def test_as_a_process_it_exits_0_when_intact_and_1_when_broken(tmp_path):
    code = ("from django.core.management import call_command\n"
            "from decision_support.audit.services import audit_record\n"
            "call_command('migrate', 'audit', verbosity=0)\n"
            "for n in range(3): audit_record(actor=None, role='', purpose='TRAIN', "
            "action='patient.view', object_ref=f'P-{n}', outcome='allowed')")
    setup = _run(tmp_path, "shell", "-c", code)
    assert setup.returncode == 0, setup.stderr

    intact = _run(tmp_path, "verify_audit")
    assert intact.returncode == 0
    assert re.fullmatch(OK.format(entries="3 entries", covered=3, since=""), intact.stdout)

    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        db.execute(f"UPDATE {TABLE} SET object_ref = 'P-7' WHERE sequence = 2")
    broken = _run(tmp_path, "verify_audit")
    assert broken.returncode == 1
    assert "BROKEN at entry #2: content changed" in broken.stderr
