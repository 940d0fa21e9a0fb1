"""Checking the audit log: each entry's keyed hash and its link to the previous entry, in sequence
order, then the log against the latest signed checkpoint (``checkpoints.py``)."""

from dataclasses import dataclass

from .checkpoints import Checkpoint, InvalidCheckpoint, checkpoint_latest
from .models import GENESIS_HASH, AuditEntry

CHUNK_SIZE = 2_000

CONTENT_CHANGED = "content changed"
ENTRY_MISSING = "entry missing (sequence gap)"
PREVIOUS_HASH_MISMATCH = "out of order / previous hash mismatch"
RECOMPUTED = ("hashes recomputed: not valid under AUDIT_KEY from here on "
              "(or AUDIT_KEY is not the key the log was written with)")
TRUNCATED = "truncated: the log holds fewer entries than the latest checkpoint counts"
HEAD_MISMATCH = ("rewritten at or before this entry: its hash is not the head of the checkpoint "
                 "that counts it (recomputed with AUDIT_KEY: treat the key as compromised)")
CHECKPOINT_INVALID = ("checkpoint signature invalid: a forged or damaged line "
                      "(or AUDIT_KEY is not the key it was signed with)")
NO_CHECKPOINT = "no signed checkpoint: a truncated log could not be told from an intact one"
CHECKPOINT_FILE = "the checkpoint file"


@dataclass(frozen=True)
class VerifyResult:
    """``ok``; ``checked``, the number of entries found intact before the first break (all of
    them when ``ok``; none when the checkpoint file or a rewrite with the key leaves none
    certain); ``broken_at``, the sequence number of the first broken entry, or
    ``location``, where in the checkpoint file the break is; ``reason``, one of the constants
    above; ``checkpoint``, the latest validly signed checkpoint, and ``after_checkpoint``, the
    number of entries written after it."""

    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str = ""
    location: str = ""
    checkpoint: Checkpoint | None = None
    after_checkpoint: int = 0

    @property
    def where(self) -> str:
        return f"entry #{self.broken_at}" if self.broken_at else self.location

    def summary(self) -> str:
        if not self.ok:
            return f"BROKEN at {self.where}: {self.reason}"
        entries = f"{self.checked} {'entry' if self.checked == 1 else 'entries'}"
        since = f", {self.after_checkpoint} written after it" if self.after_checkpoint else ""
        return (f"OK: {entries}, chain intact; the latest checkpoint ({self.checkpoint.time}) "
                f"covers {self.checkpoint.count}{since}")


def verify_chain() -> VerifyResult:
    """Check every entry's hash under ``AUDIT_KEY`` and its link to the previous entry, then the
    log against the latest signed checkpoint; report the first break.

    Entries are streamed in sequence order, so memory use does not grow with the log. A missing
    entry is reported by its own sequence number; a moved entry (or one whose previous hash was
    edited) and an edited entry by the sequence number it is stored under. An entry whose hash is
    not its HMAC was edited (``CONTENT_CHANGED``) unless the next entry links to that hash and is
    no valid HMAC either: then the hashes were recomputed from there on without the key
    (``RECOMPUTED``). A log shorter than the latest checkpoint is ``TRUNCATED`` (whole-table
    deletes and TRUNCATE included), one whose entry at the checkpoint's count has another hash
    ``HEAD_MISMATCH`` (recomputed with the key). Entries written after the latest checkpoint pass;
    no checkpoint at all does not.
    """
    try:
        checkpoint = checkpoint_latest()
    except InvalidCheckpoint as error:
        return VerifyResult(False, 0, reason=CHECKPOINT_INVALID, location=str(error))
    expected_sequence, prev_hash, checked = 1, GENESIS_HASH, 0
    head = GENESIS_HASH if checkpoint and checkpoint.count == 0 else None
    suspect = None  # an entry whose hash is not its HMAC, until the next entry tells why
    for entry in AuditEntry.objects.order_by("sequence").iterator(chunk_size=CHUNK_SIZE):
        if suspect:
            recomputed = (entry.sequence == expected_sequence and entry.prev_hash == prev_hash
                          and not entry.has_valid_hash())
            return VerifyResult(False, checked, suspect.sequence,
                                RECOMPUTED if recomputed else CONTENT_CHANGED, checkpoint=checkpoint)
        if entry.sequence != expected_sequence:
            return VerifyResult(False, checked, expected_sequence, ENTRY_MISSING, checkpoint=checkpoint)
        if entry.prev_hash != prev_hash:
            return VerifyResult(False, checked, entry.sequence, PREVIOUS_HASH_MISMATCH,
                                checkpoint=checkpoint)
        if entry.has_valid_hash():
            checked += 1
        else:
            suspect = entry
        if checkpoint and entry.sequence == checkpoint.count:
            head = entry.entry_hash
        expected_sequence, prev_hash = entry.sequence + 1, entry.entry_hash
    if suspect:
        return VerifyResult(False, checked, suspect.sequence, CONTENT_CHANGED, checkpoint=checkpoint)
    if checkpoint is None:
        return VerifyResult(False, checked, reason=NO_CHECKPOINT, location=CHECKPOINT_FILE)
    if checked < checkpoint.count:
        return VerifyResult(False, checked, checked + 1, TRUNCATED, checkpoint=checkpoint)
    if head != checkpoint.head:
        return VerifyResult(False, 0, checkpoint.count, HEAD_MISMATCH, checkpoint=checkpoint)
    return VerifyResult(True, checked, checkpoint=checkpoint,
                        after_checkpoint=checked - checkpoint.count)
