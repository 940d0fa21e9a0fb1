"""Writes to the audit log. ``audit_record`` is the one gate every audited path goes through."""

import getpass

from django.db import connection, transaction
from django.utils import timezone

from decision_support.accounts.roles import user_roles

from .checkpoints import checkpoint_append
from .escaping import escape_controls
from .models import GENESIS_HASH, AuditEntry, canonical_json

DETAIL_MAX_CHARS = 4_000

MISSING_FIELD = "audit_record needs a non-empty {name}"
UNKNOWN_OUTCOME = "outcome must be one of {choices}; got {value!r}"
DETAIL_NOT_A_DICT = "detail must be a dict; got {type}"
DETAIL_BAD_KEY = "detail keys must be strings; got {key!r}"
DETAIL_BAD_VALUE = ("detail values must be str, int, bool, None, lists or dicts; got {type} "
                    "(write floats as strings: PostgreSQL's jsonb would not return the same number)")
DETAIL_TOO_LARGE = "detail is {size:,} characters as JSON; the limit is {limit:,}"


@transaction.atomic(savepoint=False)
def audit_record(*, actor, role: str | None = None, purpose: str, action: str, object_type: str = "",
                 object_ref: str = "", outcome: str, detail: dict | None = None) -> AuditEntry:
    """Append one entry to the audit log, in the caller's transaction.

    Call it inside the transaction of the action it records: the entry commits or rolls back with
    the action. It joins that transaction without a savepoint, so if the audit write fails the
    whole transaction is rolled back, even when the caller catches the error: nothing happens
    unaudited. Once the transaction commits, a signed checkpoint of the log up to this entry is
    written outside the database (``checkpoints.checkpoint_append``).

    Parameters
    ----------
    actor : User, AnonymousUser, str or None
        The user acting; anonymous users and ``None`` are logged as ``"anonymous"``; a string
        names an actor that is not a user (``command_line_actor()``).
    role : str, optional
        The actor's roles as ``Role`` values joined by commas; by default read from the actor's
        groups (empty for anonymous users).
    purpose, action, object_type, object_ref : str
        ``purpose`` a FHIR purpose-of-use
        code set by the server (``"TRAIN"``); ``action`` such as ``"patient.view"``;
        ``object_ref`` a pseudonym, never a raw patient number.
    outcome : str
        An ``AuditEntry.Outcome`` value: ``"allowed"``, ``"denied"`` or ``"error"``.
    detail : dict, optional
        Small JSON context: str keys; str, int, bool, None, list or dict values.

    Every string, including those inside ``detail``, is stored with control characters escaped
    (``escaping.escape_controls``) and hashed as stored.

    Appends are serialised, so two writers can never fork the chain: on PostgreSQL by an
    ``EXCLUSIVE`` table lock held to the end of the transaction (plain reads still proceed); on
    SQLite by the database's single writer lock. Should anything slip past either, the unique
    ``sequence`` turns a fork into an integrity error instead of a second chain.
    """
    for name, value in [("purpose", purpose), ("action", action)]:
        if not value:
            raise ValueError(MISSING_FIELD.format(name=name))
    if outcome not in AuditEntry.Outcome.values:
        raise ValueError(UNKNOWN_OUTCOME.format(choices=AuditEntry.Outcome.values, value=outcome))
    if detail is not None and not isinstance(detail, dict):
        raise ValueError(DETAIL_NOT_A_DICT.format(type=type(detail).__name__))
    detail = _clean_detail(detail or {})
    size = len(canonical_json(detail).decode())
    if size > DETAIL_MAX_CHARS:
        raise ValueError(DETAIL_TOO_LARGE.format(size=size, limit=DETAIL_MAX_CHARS))
    signed_in = actor is not None and not isinstance(actor, str) and actor.is_authenticated
    if role is None:
        role = ",".join(r.value for r in user_roles(actor)) if signed_in else ""

    _lock_log()
    last = AuditEntry.objects.order_by("-sequence").only("sequence", "entry_hash").first()
    entry = AuditEntry(
        sequence=last.sequence + 1 if last else 1,
        created_at=timezone.now(),
        actor_id=actor.pk if signed_in else None,
        actor=escape_controls(actor if isinstance(actor, str) else
                              actor.get_username() if signed_in else "anonymous"),
        role=escape_controls(str(role)),
        purpose=escape_controls(str(purpose)),
        action=escape_controls(str(action)),
        object_type=escape_controls(str(object_type)),
        object_ref=escape_controls(str(object_ref)),
        outcome=outcome,
        detail=detail,
        prev_hash=last.entry_hash if last else GENESIS_HASH,
    )
    entry.entry_hash = entry.compute_hash()
    entry.save()
    transaction.on_commit(lambda: checkpoint_append(count=entry.sequence, head=entry.entry_hash))
    return entry


def command_line_actor() -> str:
    """The audit log's name for whoever runs a management command: no user is signed in, so the
    operating-system account that ran it."""
    return f"command-line:{getpass.getuser()}"


def _lock_log() -> None:
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(AuditEntry._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")


def _clean_detail(value):
    """``value`` with every string escaped; refuses what would not come back from the database
    exactly as hashed (floats, non-string keys)."""
    if isinstance(value, str):
        return escape_controls(value)
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, (list, tuple)):
        return [_clean_detail(item) for item in value]
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise ValueError(DETAIL_BAD_KEY.format(key=key))
        return {escape_controls(key): _clean_detail(item) for key, item in value.items()}
    raise ValueError(DETAIL_BAD_VALUE.format(type=type(value).__name__))
