"""``mdm stats cleanup``: removing the records older than some days from the operations
history (:mod:`mdm_core.performance.history`).

A record is older than the cutoff when its ``started`` time is; a line without a readable
time (not JSON, no ``started``) is kept, as nothing says it is old. The rewrite follows the
history's own protocol: it holds the exclusive ``flock`` of the file (appenders hold the
shared one while they write, so none is half-way through a line) and replaces the file
with :func:`mdm_core.durable.write_atomically` (a crash leaves the old file or the whole new
one). An appender that was waiting for the lock finds the file replaced and appends to the
new one, so no record written meanwhile is lost.
"""

from __future__ import annotations

import fcntl
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mdm_core.durable import write_atomically
from mdm_core.logging import get_logger
from mdm_core.performance.history import same_file, started_at

log = get_logger(__name__)


def cutoff(days: int, now: datetime | None = None) -> datetime:
    """The moment ``days`` days before ``now`` (default: this one)."""
    return (now or datetime.now(UTC)) - timedelta(days=days)


def count_older(path: Path, before: datetime) -> int:
    """How many records of the history at ``path`` started before ``before`` (a missing
    file has none); reads without locking, for the question asked before removing."""
    try:
        lines = path.read_bytes().splitlines(keepends=True)
    except FileNotFoundError:
        return 0
    return sum(_is_older(line, before) for line in lines)


def remove_older(path: Path, before: datetime) -> int:
    """Rewrite the history at ``path`` without the records that started before
    ``before``; returns how many were removed (the file is left untouched when none)."""
    while True:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return 0
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if not same_file(fd, path):
                continue  # a trim replaced the file while this process waited: lock the new one
            lines = path.read_bytes().splitlines(keepends=True)
            kept = [line for line in lines if not _is_older(line, before)]
            removed = len(lines) - len(kept)
            if removed:
                write_atomically(path, b"".join(kept), mode=os.fstat(fd).st_mode)
                log.info("removed old records from the operations history", path=str(path), removed=removed,
                         kept=len(kept))
            return removed
        finally:
            os.close(fd)


def _is_older(line: bytes, before: datetime) -> bool:
    try:
        moment = started_at(json.loads(line))
    except ValueError:
        return False
    return moment is not None and moment < before
