"""The audit log: a hash chain written in the caller's transaction, append-only, escaped."""

import hashlib
import hmac
import json
import threading
from datetime import UTC

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.db import DatabaseError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decision_support.accounts.roles import Role
from decision_support.audit.models import GENESIS_HASH, HASHED_FIELDS, AuditEntry, AuditLogImmutable
from decision_support.audit.services import audit_record
from decision_support.audit.verify import (
    CONTENT_CHANGED, ENTRY_MISSING, PREVIOUS_HASH_MISMATCH, verify_chain,
)

from .tampering import (
    TABLE, delete_entry, set_column, stored, swap_entries, tampered,
)

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql",
                                     reason="the append-only trigger exists on PostgreSQL only")

TAMPERABLE = [name for name in HASHED_FIELDS if name != "sequence"] + ["entry_hash"]


def view(user, **overrides):
    arguments = dict(actor=user, role=Role.EDUCATOR, purpose="TRAIN", action="patient.view",
                     object_type="patient", object_ref="P-3f9a1c", outcome="allowed",
                     detail={"reason": "teaching case", "fields": ["age", "crp"]})
    return audit_record(**{**arguments, **overrides})


@pytest.fixture
def make_actor(db):
    """A user without a password (``tests/conftest.py``'s ``make_user`` hashes one, which is slow
    and not needed here: the audit service takes the role from its caller)."""
    return lambda username="test_educator": get_user_model().objects.create(username=username)


@pytest.fixture
def chain(make_actor):
    """Three entries: an educator's view, a student's denied export, an anonymous denied view."""
    educator, student = make_actor("test_educator"), make_actor("test_student")
    return [
        view(educator),
        view(student, role=Role.STUDENT, action="cohort.export", object_type="cohort",
             object_ref="C-1", outcome="denied", detail={"reason": "role"}),
        view(AnonymousUser(), role="", action="access.denied", outcome="denied", detail=None),
    ]


def test_appends_form_a_chain_from_the_genesis_hash(chain):
    assert [e.sequence for e in chain] == [1, 2, 3]
    assert [e.prev_hash for e in chain] == [GENESIS_HASH, chain[0].entry_hash, chain[1].entry_hash]
    assert verify_chain().ok and verify_chain().checked == 3


def test_the_hash_is_an_hmac_under_the_audit_key_of_sorted_compact_json_of_content_and_previous_hash(
        chain):
    entry = AuditEntry.objects.get(sequence=2)
    created_at = entry.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    content = {
        "sequence": 2, "created_at": created_at,
        "actor_id": entry.actor_id, "actor": "test_student", "role": "student", "purpose": "TRAIN",
        "action": "cohort.export", "object_type": "cohort", "object_ref": "C-1", "outcome": "denied",
        "detail": {"reason": "role"}, "prev_hash": chain[0].entry_hash,
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    key = django_settings.AUDIT_KEY.encode()
    assert entry.entry_hash == hmac.new(key, text, hashlib.sha256).hexdigest()
    assert entry.entry_hash != hashlib.sha256(text).hexdigest()


def test_it_records_who_in_which_role_for_what_purpose_and_when_in_utc(chain):
    first, _, anonymous = AuditEntry.objects.all()
    assert (first.actor, first.role, first.purpose, first.action, first.outcome) == (
        "test_educator", "educator", "TRAIN", "patient.view", "allowed")
    assert first.actor_id is not None and first.created_at.utcoffset().total_seconds() == 0
    assert (anonymous.actor_id, anonymous.actor, anonymous.role, anonymous.detail) == (
        None, "anonymous", "", {})


def test_no_actor_is_logged_as_anonymous():
    assert view(None).actor == "anonymous"


def test_the_entry_rolls_back_with_the_surrounding_transaction(make_actor):
    user = make_actor()
    with pytest.raises(RuntimeError), transaction.atomic():
        Group.objects.create(name="action")
        view(user)
        raise RuntimeError("the action failed")
    assert not AuditEntry.objects.exists() and not Group.objects.filter(name="action").exists()
    assert view(user).sequence == 1


def test_a_failed_audit_write_rolls_back_the_action_even_when_the_error_is_caught(make_actor):
    user = make_actor()
    with transaction.atomic():
        Group.objects.create(name="action")
        with pytest.raises(ValueError):
            view(user, outcome="maybe")
    assert not Group.objects.filter(name="action").exists()


@pytest.mark.parametrize("overrides, message", [
    ({"outcome": "maybe"}, "outcome must be one of"),
    ({"purpose": ""}, "non-empty purpose"),
    ({"action": ""}, "non-empty action"),
    ({"detail": ["not", "a", "dict"]}, "detail must be a dict"),
    ({"detail": {1: "x"}}, "detail keys must be strings"),
    ({"detail": {"score": 0.5}}, "got float"),
    ({"detail": {"blob": "x" * 5_000}}, "the limit is 4,000"),
])
def test_it_refuses_bad_arguments_and_stores_nothing(make_actor, overrides, message):
    user = make_actor()
    with pytest.raises(ValueError, match=message), transaction.atomic():
        view(user, **overrides)
    assert not AuditEntry.objects.exists()


def test_control_characters_are_stored_escaped(make_actor):
    user = make_actor(username="eve\r\nINFO forged entry\x1b[31m")
    entry = view(user, object_ref="P-1\x00\ttab\x7f\x85", action="patient.view\n",
                 detail={"note\r\n": ["a\x1b[2J", {"deep": "\x00\u202e"}], "path": "C:\\new"})
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert entry.actor == "eve\\r\\nINFO forged entry\\x1b[31m"
    assert entry.object_ref == "P-1\\x00\\ttab\\x7f\\x85"
    assert entry.action == "patient.view\\n"
    assert entry.detail == {"note\\r\\n": ["a\\x1b[2J", {"deep": "\\x00\\u202e"}], "path": "C:\\\\new"}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {TABLE}")
        row = " ".join(str(value) for value in cursor.fetchone())
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in row)
    assert verify_chain().ok


@pytest.mark.parametrize("column", TAMPERABLE)
def test_changing_one_byte_of_any_field_is_detected_at_that_entry(chain, column):
    set_column(2, column, tampered(column, stored(2, column)))
    result = verify_chain()
    reason = PREVIOUS_HASH_MISMATCH if column == "prev_hash" else CONTENT_CHANGED
    assert (result.ok, result.broken_at, result.reason, result.checked) == (False, 2, reason, 1)


@pytest.mark.parametrize("sequence", [1, 3])
def test_a_change_to_the_first_or_last_entry_is_detected(chain, sequence):
    set_column(sequence, "object_ref", "P-other")
    assert (verify_chain().broken_at, verify_chain().reason) == (sequence, CONTENT_CHANGED)


@pytest.mark.parametrize("sequence", [1, 2])
def test_a_deleted_entry_is_named_as_missing(chain, sequence):
    delete_entry(sequence)
    result = verify_chain()
    assert (result.ok, result.broken_at, result.reason) == (False, sequence, ENTRY_MISSING)


def test_entries_no_checkpoint_covers_yet_can_be_cut_unnoticed(chain):
    # The known limit: the chain alone cannot show a cut tail, only a signed checkpoint can, and
    # none covers these entries (their transaction never commits). Committed entries are covered
    # at once (tests/audit/test_tamper_evidence.py).
    delete_entry(3)
    result = verify_chain()
    assert (result.ok, result.checked, result.checkpoint.count, result.after_checkpoint) == (True, 2, 0, 2)


@pytest.mark.parametrize("first, second", [(1, 2), (2, 3), (1, 3)])
def test_reordered_entries_are_detected_at_the_first_moved_one(chain, first, second):
    swap_entries(first, second)
    result = verify_chain()
    assert (result.ok, result.broken_at, result.reason) == (False, first, PREVIOUS_HASH_MISMATCH)


def test_the_model_layer_refuses_to_change_or_delete_entries(chain):
    entry = AuditEntry.objects.get(sequence=1)
    entry.outcome = "denied"
    attempts = [
        entry.save,
        lambda: AuditEntry(pk=entry.pk).save(update_fields=["outcome"]),
        entry.delete,
        lambda: AuditEntry.objects.update(outcome="denied"),
        lambda: AuditEntry.objects.filter(sequence=1).delete(),
        lambda: AuditEntry.objects.all().delete(),
        lambda: AuditEntry.objects.bulk_update([entry], ["outcome"]),
        lambda: AuditEntry.objects.update_or_create(sequence=1, defaults={"outcome": "denied"}),
    ]
    for attempt in attempts:
        with pytest.raises(AuditLogImmutable, match="append-only"), transaction.atomic():
            attempt()
    assert AuditEntry.objects.get(sequence=1).outcome == "allowed"
    assert verify_chain().ok and verify_chain().checked == 3


def test_erasing_a_user_leaves_their_entries(chain):
    actor_id = chain[0].actor_id
    get_user_model().objects.filter(pk=actor_id).delete()
    assert AuditEntry.objects.get(sequence=1).actor_id == actor_id and verify_chain().ok


@postgresql_only
@pytest.mark.parametrize("statement", [
    "UPDATE {table} SET outcome = 'denied' WHERE sequence = 1",
    "DELETE FROM {table} WHERE sequence = 2",
])
def test_on_postgresql_a_trigger_refuses_raw_update_and_delete(chain, statement):
    set_column(3, "object_ref", "P-3f9a1c")  # disables and re-enables the trigger
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement.format(table=TABLE))
    assert AuditEntry.objects.count() == 3 and AuditEntry.objects.get(sequence=1).outcome == "allowed"


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_concurrent_writers_never_fork_the_chain():
    writers, appends = 4, 15
    start, errors = threading.Barrier(writers), []

    def write(number):
        try:
            start.wait()
            for _ in range(appends):
                with transaction.atomic():
                    view(None, object_ref=f"writer-{number}")
        except Exception as error:  # reported below; a thread cannot fail the test itself
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = verify_chain()
    assert result.ok and result.checked == writers * appends


# Any text, control characters, bidi overrides and lone surrogates included.
_text = st.text(st.characters(exclude_categories=()) | st.sampled_from("\r\n\t\x00\x1b\x7f\x85"),
                max_size=12)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=6,
)
_entry = st.fixed_dictionaries({
    "role": _text, "purpose": _text.filter(bool), "action": _text.filter(bool),
    "object_type": _text, "object_ref": _text, "outcome": st.sampled_from(AuditEntry.Outcome.values),
    "detail": st.dictionaries(_text, _json, max_size=3),
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(_entry, min_size=1, max_size=20), data=st.data())
def test_any_one_changed_field_of_any_entry_is_found_at_exactly_that_entry(entries, data):
    with transaction.atomic():
        for entry in entries:
            audit_record(actor=None, **entry)
        assert verify_chain().ok and verify_chain().checked == len(entries)

        sequence = data.draw(st.integers(1, len(entries)), label="sequence")
        column = data.draw(st.sampled_from(TAMPERABLE), label="column")
        set_column(sequence, column, tampered(column, stored(sequence, column)))
        result = verify_chain()
        assert (result.ok, result.broken_at, result.checked) == (False, sequence, sequence - 1)
        transaction.set_rollback(True)
