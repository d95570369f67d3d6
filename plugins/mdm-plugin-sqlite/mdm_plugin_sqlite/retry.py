"""Retrying a SQLite step that found the database locked by another connection.

SQLite waits up to ``busy_timeout`` for a lock by itself, but some steps return
"database is locked" at once (a WAL file being recovered or checkpointed, opening a
connection while another changes the schema) or after that wait. :func:`retry_locked`
runs such a step again with exponential backoff for at most :data:`RETRY_SECONDS`, then
gives up with one sentence naming ``database.sqlite.busy_timeout``. Only steps that did
nothing when they failed are retried (opening a connection, a statement in autocommit,
``BEGIN IMMEDIATE``); a failure inside a transaction rolls it back instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from mdm_core.errors import StorageError
from mdm_core.logging import get_logger

T = TypeVar("T")
log = get_logger(__name__)

#: Total time spent waiting between attempts before a lock is reported.
RETRY_SECONDS = 5.0
_FIRST_DELAY = 0.01
_MAX_DELAY = 0.5
_LOCKED = ("database is locked", "database table is locked", "database schema is locked", "sqlite_busy")


def is_locked(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's "busy"/"locked" (another connection holds the lock)."""
    text = str(exc).lower()
    return any(marker in text for marker in _LOCKED)


def locked_error(path: Path, busy_timeout_ms: int, waited: float) -> StorageError:
    """The sentence a user sees when the lock did not come free in time."""
    return StorageError(
        f"SQLite database {path} stayed locked by another connection for {waited:.1f} s; "
        f"let the other writer finish or raise database.sqlite.busy_timeout (now {int(busy_timeout_ms)} ms)."
    )


def retry_locked(step: Callable[[], T], *, path: Path, busy_timeout_ms: int) -> T:
    """``step()``, run again after a growing pause while it fails with a lock error, for at
    most :data:`RETRY_SECONDS` of pauses; then :func:`locked_error`. Other errors come out
    unchanged."""
    retry_seconds = RETRY_SECONDS
    started = time.monotonic()
    slept = 0.0
    delay = _FIRST_DELAY
    while True:
        try:
            return step()
        except Exception as exc:
            if not is_locked(exc):
                raise
            if slept >= retry_seconds:
                raise locked_error(path, busy_timeout_ms, time.monotonic() - started) from None
            log.debug("sqlite database locked, retrying", path=str(path), delay=delay)
            time.sleep(delay)
            slept += delay
            delay = min(delay * 2, _MAX_DELAY)
