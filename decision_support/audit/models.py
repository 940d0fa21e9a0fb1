"""The audit log: one row per sensitive read, write or denied access, chained by keyed hashes.

Each entry's hash is an HMAC-SHA256, under ``AUDIT_KEY`` (from the environment, never in the
database), of its content and the previous entry's hash (RFC 6962-style), so changing, deleting or
reordering any entry breaks the chain from that entry on, and nobody without the key can recompute
it (``verify.verify_chain``); signed checkpoints outside the database reveal a cut tail
(``checkpoints.py``). Rows are append-only: the model layer refuses updates and deletes on every
database, and on PostgreSQL triggers refuse UPDATE and DELETE (migration 0001) and TRUNCATE
(migration 0002) for raw SQL too.
"""

import hashlib
import hmac
import json
from datetime import UTC

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact

from decision_support.lib.appendonly import (AppendOnlyError, AppendOnlyModel, AppendOnlyQuerySet,
                                             refuse)

GENESIS_HASH = "0" * 64
# The PostgreSQL session setting that lets TRUNCATE through the trigger: test databases are flushed
# with TRUNCATE (tests/conftest.py sets it on their connections); the application never sets it.
TRUNCATE_ESCAPE_SETTING = "decision_support.allow_audit_truncate"

# The fields an entry's hash covers, the previous hash included. Changing this list, the order-free
# canonical JSON below or the timestamp format breaks every stored chain.
HASHED_FIELDS = ("sequence", "created_at", "actor_id", "actor", "role", "purpose", "action",
                 "object_type", "object_ref", "outcome", "detail", "prev_hash")

IMMUTABLE = "the audit log is append-only: entries cannot be changed or deleted"


class AuditLogImmutable(AppendOnlyError):
    """Raised on any attempt to change or delete an audit entry through the ORM."""


def canonical_json(value) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the same bytes for the same content on every database."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def entry_content(entry) -> dict:
    """What an entry's hash covers, as plain JSON values; ``created_at`` in ISO 8601 UTC. Takes an
    ``AuditEntry`` or, in a migration, its historical model."""
    content = {name: getattr(entry, name) for name in HASHED_FIELDS}
    content["created_at"] = entry.created_at.astimezone(UTC).isoformat(timespec="microseconds")
    return content


def keyed_hash(content: dict, key: str) -> str:
    """HMAC-SHA256 (hex) of the canonical JSON of ``content`` under ``key``."""
    return hmac.new(key.encode(), canonical_json(content), hashlib.sha256).hexdigest()


class AuditEntryQuerySet(AppendOnlyQuerySet):
    """Also refuses the internal paths a cascade or a bulk update would take: the log must
    outlive every other row."""

    def _update(self, values):
        raise refuse(self.model)

    def _raw_delete(self, using):
        raise refuse(self.model)


class Outcome(models.TextChoices):
    ALLOWED = "allowed", "Allowed"
    DENIED = "denied", "Denied"
    ERROR = "error", "Error"


class AuditEntry(AppendOnlyModel):
    Outcome = Outcome
    APPEND_ONLY = IMMUTABLE
    APPEND_ONLY_ERROR = AuditLogImmutable

    # The chain order: 1, 2, 3, ... with no gaps; unique, so two writers can never fork it.
    sequence = models.PositiveBigIntegerField(unique=True)
    # Set by the service (not auto_now), so that the hash covers it.
    created_at = models.DateTimeField()
    # No foreign key: erasing a user must never cascade into, or be blocked by, the log.
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor = models.TextField(help_text="Username when the entry was written, or 'anonymous'.")
    role = models.TextField(blank=True)
    purpose = models.TextField(help_text="FHIR purpose-of-use code, e.g. TRAIN.")
    action = models.TextField(help_text="e.g. patient.view, consent.withdraw, access.denied")
    object_type = models.TextField(blank=True)
    object_ref = models.TextField(blank=True, help_text="A pseudonym or other non-identifying key.")
    outcome = models.TextField(choices=Outcome.choices)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["sequence"]
        base_manager_name = "objects"
        verbose_name_plural = "audit entries"
        constraints = [
            models.CheckConstraint(condition=Q(sequence__gte=1), name="audit_sequence_from_1"),
            models.CheckConstraint(condition=Q(outcome__in=Outcome.values), name="audit_outcome_known"),
            models.CheckConstraint(condition=Exact(Length("prev_hash"), 64),
                                   name="audit_prev_hash_length"),
            models.CheckConstraint(condition=Exact(Length("entry_hash"), 64),
                                   name="audit_entry_hash_length"),
        ]

    def __str__(self):
        return f"#{self.sequence} {self.action} {self.outcome}"

    def compute_hash(self) -> str:
        """HMAC-SHA256 (hex), under ``AUDIT_KEY``, of the canonical JSON of ``entry_content``."""
        return keyed_hash(entry_content(self), settings.AUDIT_KEY)

    def has_valid_hash(self) -> bool:
        return hmac.compare_digest(self.compute_hash(), self.entry_hash)
