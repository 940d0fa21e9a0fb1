"""Signed checkpoints of the audit log, after RFC 6962's signed tree heads.

A checkpoint states how many entries the log held (``count``) and the hash of the last of them
(``head``) at a UTC ``time``, signed with an HMAC under ``AUDIT_KEY``. ``audit_record`` appends one
after every committed write, outside the database, in two places: the file
``AUDIT_CHECKPOINT_FILE`` and the ``decision_support.audit`` logger (the log stream). Whoever can
delete rows in the database cannot take a checkpoint back, so ``verify.verify_chain`` notices a log
shorter than, or different from, the latest checkpoint.

Processes append to the file with ``O_APPEND`` under an exclusive ``flock``, so lines never
interleave; they may land out of order (two workers committing at once), so the latest checkpoint
is the validly signed one with the highest count. Each app server keeps its own file; the log
stream collects all of them.
"""

import fcntl
import hmac
import json
import logging
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from .models import canonical_json, keyed_hash

logger = logging.getLogger("decision_support.audit")

NOT_WRITTEN = ("audit checkpoint for entry #%d NOT written to %s (%s): verify_audit will count "
               "the entries since as written after the latest checkpoint")


class InvalidCheckpoint(Exception):
    """A line of the checkpoint file that is not a checkpoint signed with ``AUDIT_KEY``."""

    def __init__(self, line: int):
        super().__init__(f"line {line} of the checkpoint file")
        self.line = line


@dataclass(frozen=True)
class Checkpoint:
    count: int
    head: str
    time: str

    def signature(self) -> str:
        # The signed fields (count, head, time) are not those of an entry, so a signature can
        # never pass for an entry hash, nor the other way round.
        return keyed_hash(asdict(self), settings.AUDIT_KEY)


def checkpoint_append(*, count: int, head: str) -> Checkpoint:
    """Sign ``count`` and ``head`` with the current time; send the checkpoint to the log stream and
    append it to the checkpoint file.

    Call it once the entries it covers are committed. A file that cannot be written is logged as
    an error, not raised: the entries are committed already, and the log stream has the
    checkpoint.
    """
    checkpoint = Checkpoint(count=count, head=head,
                            time=datetime.now(UTC).isoformat(timespec="microseconds"))
    line = canonical_json({**asdict(checkpoint), "signature": checkpoint.signature()})
    logger.info("audit checkpoint %s", line.decode())
    path = Path(settings.AUDIT_CHECKPOINT_FILE)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, line + b"\n")
        finally:
            os.close(fd)  # also releases the lock
    except OSError as error:
        logger.error(NOT_WRITTEN, count, path, error)
    return checkpoint


def checkpoint_latest() -> Checkpoint | None:
    """The validly signed checkpoint with the highest count in the checkpoint file; ``None`` if
    the file is missing or empty. Raises ``InvalidCheckpoint`` at the first line that does not
    parse or whose signature is wrong."""
    latest = None
    try:
        with open(settings.AUDIT_CHECKPOINT_FILE, "rb") as file:
            for number, line in enumerate(file, start=1):
                checkpoint = _parse(line, number)
                if latest is None or checkpoint.count > latest.count:
                    latest = checkpoint
    except FileNotFoundError:
        return None
    return latest


def _parse(line: bytes, number: int) -> Checkpoint:
    try:
        fields = json.loads(line)
        signature = fields.pop("signature")
        checkpoint = Checkpoint(**fields)
        valid = (type(checkpoint.count) is int and isinstance(checkpoint.head, str)
                 and isinstance(checkpoint.time, str) and isinstance(signature, str)
                 and hmac.compare_digest(signature, checkpoint.signature()))
    except (ValueError, TypeError, KeyError, AttributeError):
        valid = False
    if not valid:
        raise InvalidCheckpoint(number)
    return checkpoint
