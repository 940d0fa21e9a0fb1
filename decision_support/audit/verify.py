"""Checking the audit log's hash chain, entry by entry in sequence order."""

from dataclasses import dataclass

from .models import GENESIS_HASH, AuditEntry

CHUNK_SIZE = 2_000

CONTENT_CHANGED = "content changed"
ENTRY_MISSING = "entry missing (sequence gap)"
PREVIOUS_HASH_MISMATCH = "out of order / previous hash mismatch"


@dataclass(frozen=True)
class VerifyResult:
    """``ok``; ``checked``, the number of entries found intact before the first break (all of
    them when ``ok``); ``broken_at``, the sequence number of the first broken entry, and
    ``reason``, one of ``CONTENT_CHANGED``, ``ENTRY_MISSING``, ``PREVIOUS_HASH_MISMATCH``."""

    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str = ""


def verify_chain() -> VerifyResult:
    """Recompute every entry's hash and its link to the previous entry.

    Entries are streamed in sequence order, so memory use does not grow with the log. The first
    break is reported: a missing entry by its own sequence number, a moved entry (or one whose
    previous hash was edited) and an edited entry by the sequence number it is stored under.

    Deleting entries from the end of the log leaves an intact, shorter chain; detecting that
    needs the latest hash kept somewhere else (RFC 6962's signed tree heads).
    """
    expected_sequence, prev_hash, checked = 1, GENESIS_HASH, 0
    for entry in AuditEntry.objects.order_by("sequence").iterator(chunk_size=CHUNK_SIZE):
        if entry.sequence != expected_sequence:
            return VerifyResult(False, checked, expected_sequence, ENTRY_MISSING)
        if entry.prev_hash != prev_hash:
            return VerifyResult(False, checked, entry.sequence, PREVIOUS_HASH_MISMATCH)
        if entry.compute_hash() != entry.entry_hash:
            return VerifyResult(False, checked, entry.sequence, CONTENT_CHANGED)
        expected_sequence, prev_hash, checked = entry.sequence + 1, entry.entry_hash, checked + 1
    return VerifyResult(True, checked)
