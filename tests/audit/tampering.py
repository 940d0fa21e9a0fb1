"""Raw-SQL edits of the audit table that bypass the model layer, as an attacker with database
access would. On PostgreSQL the append-only triggers are disabled for the edit and enabled again;
all of it runs in a savepoint, so a failed edit leaves the test's transaction usable."""

import json
from contextlib import contextmanager
from datetime import timedelta

from django.db import connection, transaction

from decision_support.audit.models import GENESIS_HASH, AuditEntry, entry_content

TABLE = AuditEntry._meta.db_table


@contextmanager
def raw_cursor():
    table = connection.ops.quote_name(TABLE)
    postgresql = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        if postgresql:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        yield cursor
        if postgresql:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def stored(sequence: int, column: str):
    """The value as stored (``detail`` decoded from JSON)."""
    return AuditEntry.objects.values_list(column, flat=True).get(sequence=sequence)


def set_column(sequence: int, column: str, value) -> None:
    placeholder = "%s"
    if column == "detail":
        value = json.dumps(value)
        if connection.vendor == "postgresql":
            placeholder = "%s::jsonb"
    elif column == "created_at":
        value = connection.ops.adapt_datetimefield_value(value)
    with raw_cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET {column} = {placeholder} WHERE sequence = %s",
                       [value, sequence])
        assert cursor.rowcount == 1


def delete_entry(sequence: int) -> None:
    with raw_cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE sequence = %s", [sequence])
        assert cursor.rowcount == 1


def delete_from(sequence: int) -> None:
    """Cut the tail: entry ``sequence`` and every later one."""
    with raw_cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE sequence >= %s", [sequence])


def truncate() -> None:
    """Empty the table in one statement: TRUNCATE on PostgreSQL (triggers disabled), and on
    SQLite a DELETE without WHERE, which it runs as a truncation."""
    with raw_cursor() as cursor:
        cursor.execute(f"{'TRUNCATE' if connection.vendor == 'postgresql' else 'DELETE FROM'} {TABLE}")


def rehash_from(sequence: int, digest) -> None:
    """Recompute the previous and own hashes of entry ``sequence`` and every later one with
    ``digest`` (a function of an entry's content), as someone hiding an edit would."""
    entries = list(AuditEntry.objects.filter(sequence__gte=sequence).order_by("sequence"))
    prev = stored(sequence - 1, "entry_hash") if sequence > 1 else GENESIS_HASH
    with raw_cursor() as cursor:
        for entry in entries:
            entry.prev_hash, entry.entry_hash = prev, digest({**entry_content(entry), "prev_hash": prev})
            cursor.execute(f"UPDATE {TABLE} SET prev_hash = %s, entry_hash = %s WHERE sequence = %s",
                           [entry.prev_hash, entry.entry_hash, entry.sequence])
            prev = entry.entry_hash


def swap_entries(first: int, second: int) -> None:
    """Reorder: the two rows exchange their places (sequence numbers) in the chain."""
    parked = 10**12
    with raw_cursor() as cursor:
        for old, new in [(first, parked), (second, first), (parked, second)]:
            cursor.execute(f"UPDATE {TABLE} SET sequence = %s WHERE sequence = %s", [new, old])


def flip_one_character(text: str) -> str:
    """``text`` with its last character changed (a different one, never a control character)."""
    if not text:
        return "x"
    last = text[-1]
    return text[:-1] + ("a" if last != "a" else "b")


def tampered(column: str, value):
    """A stored value changed as little as its type allows."""
    if column == "created_at":
        return value + timedelta(microseconds=1)
    if column == "actor_id":
        return 1 if value is None else value + 1
    if column == "outcome":
        return "denied" if value != "denied" else "allowed"
    if column == "detail":
        if not value:
            return {"x": ""}
        key = sorted(value)[0]
        return {**value, key: flip_one_character(value[key]) if isinstance(value[key], str) else "x"}
    return flip_one_character(value)
