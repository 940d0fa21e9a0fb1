"""Key the audit chain, write its first signed checkpoint, and refuse TRUNCATE on PostgreSQL.

Entries written before this migration are hashed with plain SHA-256, which anyone with database
access can recompute. Each is checked against that unkeyed chain first (a broken chain stops the
migration: re-keying it would launder the break), then its previous and own hash are recomputed as
HMAC-SHA256 under ``AUDIT_KEY``, in sequence order. The model layer and, on PostgreSQL, the
UPDATE trigger are bypassed for this transaction only. Once it commits, a signed checkpoint of the
re-keyed log is written. Reversing it checks the keyed chain and writes the unkeyed one back.
"""

import hashlib

from django.conf import settings
from django.db import migrations, transaction

from decision_support.audit.checkpoints import checkpoint_append
from decision_support.audit.models import (
    GENESIS_HASH, TRUNCATE_ESCAPE_SETTING, canonical_json, entry_content, keyed_hash,
)
from decision_support.audit.verify import CONTENT_CHANGED, ENTRY_MISSING, PREVIOUS_HASH_MISMATCH

BATCH_SIZE = 2_000
CHAIN_BROKEN = ("The audit log's chain is broken at entry #{sequence} ({reason}), so it is not "
                "re-hashed: that would hide the break. Restore the audit table from a backup, or keep "
                "the evidence and remove the broken entries deliberately, then migrate again.")

# PostgreSQL only. TRUNCATE bypasses the row triggers of migration 0001, so a statement trigger
# refuses it, unless the session has turned TRUNCATE_ESCAPE_SETTING on (test databases, which
# are flushed with TRUNCATE). The table's owner can still disable triggers: the checkpoints are
# what reveal that.
NO_TRUNCATE_SQL = f"""
CREATE FUNCTION audit_entry_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('{TRUNCATE_ESCAPE_SETTING}', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION 'the audit log is append-only: TRUNCATE on % refused', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_no_truncate();
"""
DROP_NO_TRUNCATE_SQL = """
DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_entry_no_truncate();
"""
UPDATE_TRIGGER = "audit_entry_append_only"


def _unkeyed(content: dict) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


def _keyed(content: dict) -> str:
    return keyed_hash(content, settings.AUDIT_KEY)


def _rehash(*, old, new, checkpoint: bool):
    """Check the chain hashed with ``old``, rewrite it hashed with ``new``; then, if asked, write a
    checkpoint of it once committed."""

    def run(apps, schema_editor):
        entries = apps.get_model("audit", "AuditEntry").objects
        connection = schema_editor.connection
        table = schema_editor.quote_name(entries.model._meta.db_table)
        postgresql = connection.vendor == "postgresql"
        if postgresql:
            schema_editor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {UPDATE_TRIGGER}")
        expected, old_prev, new_prev = 1, GENESIS_HASH, GENESIS_HASH
        while batch := list(entries.filter(sequence__gte=expected).order_by("sequence")[:BATCH_SIZE]):
            for entry in batch:
                content = entry_content(entry)
                reason = (ENTRY_MISSING if entry.sequence != expected
                          else PREVIOUS_HASH_MISMATCH if entry.prev_hash != old_prev
                          else CONTENT_CHANGED if old(content) != entry.entry_hash else None)
                if reason:
                    raise RuntimeError(CHAIN_BROKEN.format(sequence=expected, reason=reason))
                old_prev = entry.entry_hash
                new_hash = new({**content, "prev_hash": new_prev})
                entries.filter(pk=entry.pk).update(prev_hash=new_prev, entry_hash=new_hash)
                expected, new_prev = expected + 1, new_hash
        if postgresql:
            schema_editor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {UPDATE_TRIGGER}")
        if checkpoint:
            count, head = expected - 1, new_prev
            transaction.on_commit(lambda: checkpoint_append(count=count, head=head),
                                  using=connection.alias)

    return run


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(_rehash(old=_unkeyed, new=_keyed, checkpoint=True),
                             _rehash(old=_keyed, new=_unkeyed, checkpoint=False)),
        migrations.RunPython(_on_postgresql(NO_TRUNCATE_SQL), _on_postgresql(DROP_NO_TRUNCATE_SQL)),
    ]
