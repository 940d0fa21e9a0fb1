"""Tamper evidence: a keyed chain and signed checkpoints outside the database.

Every kind of tampering someone with database access can do (and a forged checkpoint) is reported,
with its reason, by ``verify_chain`` and by ``manage.py verify_audit`` (exit status 1)."""

import hashlib
import json
import logging
import threading
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from decision_support.audit.checkpoints import checkpoint_append, checkpoint_latest
from decision_support.audit.models import (
    GENESIS_HASH, TRUNCATE_ESCAPE_SETTING, AuditEntry, canonical_json, entry_content, keyed_hash,
)
from decision_support.audit.services import audit_record
from decision_support.audit.verify import (
    CHECKPOINT_INVALID, CONTENT_CHANGED, ENTRY_MISSING, HEAD_MISMATCH, NO_CHECKPOINT,
    PREVIOUS_HASH_MISMATCH, RECOMPUTED, TRUNCATED, verify_chain,
)

from .tampering import TABLE, delete_entry, delete_from, rehash_from, set_column, swap_entries, truncate

pytestmark = pytest.mark.django_db
ENTRIES = 8


def record(count: int, start: int = 0) -> None:
    for number in range(start, start + count):
        audit_record(actor=None, role="", purpose="TRAIN", action="patient.view",
                     object_ref=f"P-{number}", outcome="allowed")


@pytest.fixture
def committed_log(django_capture_on_commit_callbacks):
    """Eight entries, each followed by its checkpoint as after a commit."""
    with django_capture_on_commit_callbacks(execute=True):
        record(ENTRIES)
    assert checkpoint_latest().count == ENTRIES


def plain_sha256(content: dict) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


def another_key(content: dict) -> str:
    return keyed_hash(content, "not-the-audit-key-" + "x" * 40)


def the_audit_key(content: dict) -> str:
    return keyed_hash(content, django_settings.AUDIT_KEY)


def forge_checkpoint(**changes) -> None:
    """Append a checkpoint line not signed with the audit key."""
    line = {"count": 3, "head": GENESIS_HASH, "time": "2026-12-01T00:00:00.000000+00:00",
            "signature": "0" * 64, **changes}
    with open(django_settings.AUDIT_CHECKPOINT_FILE, "a") as file:
        file.write(json.dumps(line) + "\n")


def raise_a_signed_checkpoints_count() -> None:
    """Copy the last line with a higher count (signature kept), to vouch for more entries."""
    path = django_settings.AUDIT_CHECKPOINT_FILE
    last = json.loads(path.read_text().splitlines()[-1])
    forge_checkpoint(**{**last, "count": last["count"] + 5})


def edit_and_rehash(digest):
    def tamper():
        set_column(3, "object_ref", "P-other")
        rehash_from(3, digest)
    return tamper


postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql",
                                     reason="TRUNCATE and its trigger exist on PostgreSQL only")

# (tampering, the entry or place reported, the reason)
TAMPERING = {
    "edit a row": (lambda: set_column(3, "object_ref", "P-other"), "entry #3", CONTENT_CHANGED),
    "edit a row's own hash": (lambda: set_column(3, "entry_hash", "f" * 64), "entry #3",
                              CONTENT_CHANGED),
    "edit a row, recompute the later hashes with plain SHA-256": (
        edit_and_rehash(plain_sha256), "entry #3", RECOMPUTED),
    "edit a row, recompute the later hashes with another key": (
        edit_and_rehash(another_key), "entry #3", RECOMPUTED),
    "recompute the whole chain with plain SHA-256": (lambda: rehash_from(1, plain_sha256),
                                                     "entry #1", RECOMPUTED),
    "edit a row, recompute with the stolen audit key": (
        edit_and_rehash(the_audit_key), f"entry #{ENTRIES}", HEAD_MISMATCH),
    "delete a middle row": (lambda: delete_entry(4), "entry #4", ENTRY_MISSING),
    "delete the last five rows": (lambda: delete_from(ENTRIES - 4), f"entry #{ENTRIES - 4}",
                                  TRUNCATED),
    "delete the last row": (lambda: delete_entry(ENTRIES), f"entry #{ENTRIES}", TRUNCATED),
    "delete every row": (lambda: delete_from(1), "entry #1", TRUNCATED),
    "empty the table in one statement (TRUNCATE, triggers disabled)": (truncate, "entry #1",
                                                                      TRUNCATED),
    "reorder two rows": (lambda: swap_entries(2, 5), "entry #2", PREVIOUS_HASH_MISMATCH),
    "forge a checkpoint line": (lambda: forge_checkpoint(), f"line {ENTRIES + 2} of the checkpoint file",
                                CHECKPOINT_INVALID),
    "raise a signed checkpoint's count": (raise_a_signed_checkpoints_count,
                                          f"line {ENTRIES + 2} of the checkpoint file",
                                          CHECKPOINT_INVALID),
    "delete the checkpoint file": (lambda: django_settings.AUDIT_CHECKPOINT_FILE.unlink(),
                                   "the checkpoint file", NO_CHECKPOINT),
    "delete the checkpoint file and the last rows": (
        lambda: (django_settings.AUDIT_CHECKPOINT_FILE.unlink(), delete_from(6)),
        "the checkpoint file", NO_CHECKPOINT),
}


@pytest.mark.parametrize("tamper, where, reason", TAMPERING.values(), ids=TAMPERING.keys())
def test_every_kind_of_tampering_is_reported_with_its_reason(committed_log, tamper, where, reason):
    assert verify_chain().ok
    tamper()
    result = verify_chain()
    assert (result.ok, result.where, result.reason) == (False, where, reason)
    with pytest.raises(CommandError) as raised:
        call_command("verify_audit", stdout=StringIO())
    assert (raised.value.returncode, str(raised.value)) == (1, f"BROKEN at {where}: {reason}")


def test_an_intact_log_passes_also_with_entries_written_after_the_latest_checkpoint(committed_log):
    record(2, start=ENTRIES)  # never committed here, so no checkpoint covers them
    result = verify_chain()
    assert (result.ok, result.checked, result.checkpoint.count, result.after_checkpoint) == (
        True, ENTRIES + 2, ENTRIES, 2)
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert out.getvalue() == (f"OK: {ENTRIES + 2} entries, chain intact; the latest checkpoint "
                              f"({result.checkpoint.time}) covers {ENTRIES}, 2 written after it\n")


def test_the_checkpoint_with_the_highest_count_counts_whatever_the_order_of_the_lines(committed_log):
    head = AuditEntry.objects.get(sequence=ENTRIES).entry_hash
    checkpoint_append(count=2, head=AuditEntry.objects.get(sequence=2).entry_hash)  # a slow writer
    assert (checkpoint_latest().count, checkpoint_latest().head) == (ENTRIES, head)
    delete_entry(ENTRIES)
    assert (verify_chain().reason, verify_chain().where) == (TRUNCATED, f"entry #{ENTRIES}")


def test_a_rolled_back_entry_writes_no_checkpoint(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            record(1)
            raise RuntimeError("the action failed")
    assert callbacks == [] and checkpoint_latest().count == 0


def test_each_commit_sends_the_signed_checkpoint_to_the_log_stream(django_capture_on_commit_callbacks,
                                                                   caplog):
    with caplog.at_level(logging.INFO, logger="decision_support.audit"):
        with django_capture_on_commit_callbacks(execute=True):
            record(2)
    lines = [r.getMessage() for r in caplog.records if r.name == "decision_support.audit"]
    file_lines = django_settings.AUDIT_CHECKPOINT_FILE.read_text().splitlines()[1:]
    assert lines == [f"audit checkpoint {line}" for line in file_lines]
    assert [json.loads(line)["count"] for line in file_lines] == [1, 2]


def test_a_checkpoint_file_that_cannot_be_written_keeps_the_entry_and_is_logged_loudly(
        settings, tmp_path, caplog, django_capture_on_commit_callbacks):
    settings.AUDIT_CHECKPOINT_FILE = tmp_path  # a directory: opening it for writing fails
    with caplog.at_level(logging.INFO, logger="decision_support.audit"):
        with django_capture_on_commit_callbacks(execute=True):
            record(1)
    assert AuditEntry.objects.count() == 1
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "audit checkpoint for entry #1 NOT written" in errors[0].getMessage()


def test_concurrent_writers_append_whole_lines(settings):
    writers, appends = 6, 40

    def write(number):
        for _ in range(appends):
            checkpoint_append(count=number, head=GENESIS_HASH)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(1, writers + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = settings.AUDIT_CHECKPOINT_FILE.read_text().splitlines()
    assert len(lines) == 1 + writers * appends
    assert checkpoint_latest().count == writers  # every line parsed and its signature valid


@postgresql_only
def test_on_postgresql_a_trigger_refuses_truncate(committed_log):
    with pytest.raises(DatabaseError, match="append-only: TRUNCATE"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL {TRUNCATE_ESCAPE_SETTING} = off")
            cursor.execute(f"TRUNCATE {TABLE}")
    assert AuditEntry.objects.count() == ENTRIES and verify_chain().ok


def _write_unkeyed(old_apps, count: int) -> None:
    """Entries hashed as before the chain was keyed (plain SHA-256)."""
    entry_model = old_apps.get_model("audit", "AuditEntry")
    prev = GENESIS_HASH
    for number in range(1, count + 1):
        entry = entry_model(sequence=number, created_at=timezone.now(), actor="anonymous",
                            role="", purpose="TRAIN", action="patient.view", object_type="",
                            object_ref=f"P-{number}", outcome="allowed", detail={"n": number},
                            prev_hash=prev)
        entry.entry_hash = plain_sha256(entry_content(entry))
        entry.save()
        prev = entry.entry_hash


@pytest.fixture
def before_the_key():
    """The audit app migrated back to 0001 (the unkeyed chain); migrated forward again after."""
    executor = MigrationExecutor(connection)
    executor.migrate([("audit", "0001_initial")])
    yield executor.loader.project_state([("audit", "0001_initial")]).apps
    truncate()
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_an_unkeyed_log_is_rekeyed_intact_and_checkpointed_by_the_upgrade(before_the_key):
    _write_unkeyed(before_the_key, 5)
    old = list(AuditEntry.objects.values_list("object_ref", "detail", "created_at"))
    executor = MigrationExecutor(connection)
    executor.migrate([("audit", "0002_keyed_chain")])
    assert list(AuditEntry.objects.values_list("object_ref", "detail", "created_at")) == old
    result = verify_chain()
    assert (result.ok, result.checked, result.checkpoint.count) == (True, 5, 5)
    assert result.checkpoint.head == AuditEntry.objects.get(sequence=5).entry_hash
    assert all(entry.has_valid_hash() for entry in AuditEntry.objects.all())


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_refuses_to_rekey_a_broken_unkeyed_log(before_the_key):
    _write_unkeyed(before_the_key, 3)
    set_column(2, "object_ref", "P-9")
    executor = MigrationExecutor(connection)
    with pytest.raises(RuntimeError, match=r"broken at entry #2 \(content changed\), so it is not "):
        executor.migrate([("audit", "0002_keyed_chain")])
    assert AuditEntry.objects.get(sequence=1).entry_hash == plain_sha256(
        entry_content(AuditEntry.objects.get(sequence=1)))
