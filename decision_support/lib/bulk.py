"""Inserting many rows at once, in the caller's transaction: PostgreSQL's ``COPY`` (psycopg 3),
elsewhere one prepared ``INSERT`` run over every row (``executemany``).

Below the ORM, for data validated before it gets here (``cohorts.services.cohort_store``): no
``save()``, signals or ``full_clean()`` run, and the values must already be what the columns
store (Python ints, floats, strings and booleans, JSON as text, None for NULL), converted
once per column by the caller rather than per value by each field. The database's own
constraints still check every row, and a failure rolls back the caller's transaction.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from django.db import connections, router


def bulk_insert(model, columns: dict[str, Sequence], constants: dict | None = None) -> None:
    """Insert one row per position of ``columns`` (field name or attname -> values, all of
    the same length) into ``model``'s table, each row with the ``constants`` (field name ->
    one value of any type the field takes, such as a datetime, converted once by the field)."""
    connection = connections[router.db_for_write(model)]
    constants = {name: model._meta.get_field(name).get_db_prep_save(value, connection)
                 for name, value in (constants or {}).items()}
    rows = [row + tuple(constants.values()) for row in zip(*columns.values())]
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in [*columns, *constants]]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Below Django's cursor wrapper: its errors made Django's (IntegrityError...) here.
            with connection.wrap_database_errors, \
                    cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        # One prepared statement run over every row: SQLite's executemany loops in C, where
        # multi-row statements (at most 999 parameters each) are parsed again one by one.
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ("
                           + ", ".join(["%s"] * len(fields)) + ")", rows)


def prepared_ahead(model, prepare: Callable, items: Iterable) -> Iterator:
    """``prepare(item)`` for each of ``items`` in turn, to insert into ``model``'s table. When
    its database is a server, the next item's is prepared in a thread while the caller inserts
    this one's and waits for the server; SQLite works in this process, where a thread would
    only compete with it. ``prepare`` must not use the database (in a thread it would have a
    connection of its own, outside the caller's transaction). Close the iterator if it is left
    before its end."""
    if connections[router.db_for_write(model)].vendor == "sqlite":
        yield from map(prepare, items)
        return
    with ThreadPoolExecutor(max_workers=1) as thread:
        pending = None
        for item in items:
            following = thread.submit(prepare, item)
            if pending is not None:
                yield pending.result()
            pending = following
        if pending is not None:
            yield pending.result()
