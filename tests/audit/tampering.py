"""Raw-SQL edits of the audit table that bypass the model layer, as an attacker with database
access would. On PostgreSQL the append-only trigger is disabled for the edit and enabled again;
all of it runs in a savepoint, so a failed edit leaves the test's transaction usable."""

import json
from contextlib import contextmanager
from datetime import timedelta

from django.db import connection, transaction

from decision_support.audit.models import AuditEntry

TABLE = AuditEntry._meta.db_table
TRIGGER = "audit_entry_append_only"


@contextmanager
def raw_cursor():
    table = connection.ops.quote_name(TABLE)
    postgresql = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        if postgresql:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {TRIGGER}")
        yield cursor
        if postgresql:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {TRIGGER}")


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
