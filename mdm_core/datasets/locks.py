"""Per-dataset locks: one process at a time registers, replaces, removes or rewrites a name.

A lock is an exclusive ``flock`` on ``<datasets dir>/.locks/<name>.lock``. The kernel
releases it when the holder exits, however it exits (SIGKILL included), so a dead holder
never blocks anyone and no stale lock needs breaking. The file holds the holder's pid,
operation and start time, for the message a waiting process shows. The holder deletes
the file before releasing it; a process that locked a file that is no longer the one at
the path (deleted meanwhile) lets go and tries again, so two processes never hold locks
on two files of one name.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from mdm_core.errors import DatasetBusy

LOCKS_DIR = ".locks"
#: How long a second process waits for a busy dataset before refusing.
DEFAULT_WAIT_SECONDS = 5.0
_POLL_SECONDS = 0.05


def lock_path(datasets_dir: Path, name: str) -> Path:
    return datasets_dir / LOCKS_DIR / f"{name}.lock"


@contextmanager
def dataset_lock(
    datasets_dir: Path, name: str, operation: str, *, wait: float = DEFAULT_WAIT_SECONDS
) -> Iterator[None]:
    """Hold the lock of dataset ``name`` (already normalised) for the block. Waits up to
    ``wait`` seconds for another holder, then raises DatasetBusy naming it."""
    held = acquire_lock_file(lock_path(datasets_dir, name), {"operation": operation}, wait)
    if held is None:
        raise DatasetBusy(_busy_message(datasets_dir, name))
    try:
        yield
    finally:
        release_lock_file(held)


@contextmanager
def try_dataset_lock(datasets_dir: Path, name: str, operation: str) -> Iterator[bool]:
    """Hold the lock of ``name`` for the block if it is free right now; yields whether
    it is held (False: another process is working on the dataset)."""
    held = acquire_lock_file(lock_path(datasets_dir, name), {"operation": operation}, 0.0)
    try:
        yield held is not None
    finally:
        if held is not None:
            release_lock_file(held)


@attrs.frozen
class HeldLock:
    """A lock file held by this process (give it to :func:`release_lock_file`)."""

    fd: int
    path: Path


def acquire_lock_file(path: Path, holder: dict[str, Any], wait: float) -> HeldLock | None:
    """Lock ``path`` (created with its folder if missing), waiting up to ``wait`` seconds;
    None if another process still holds it. The file then holds ``holder`` plus this
    process's ``pid`` and the ``since`` time, as JSON (see :func:`lock_holder`)."""
    deadline = time.monotonic() + wait
    while True:
        fd = _lock_once(path)
        if fd is not None:
            break
        if time.monotonic() >= deadline:
            return None
        time.sleep(_POLL_SECONDS)
    record = {"pid": os.getpid(), **holder, "since": datetime.now(UTC).isoformat(timespec="seconds")}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(record).encode(), 0)
    return HeldLock(fd, path)


def _lock_once(path: Path) -> int | None:
    """The fd of ``path``, locked, if the lock is free and the file is still the one at
    ``path``; else None."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # the last holder removed the folder between two checks: try again
        return None
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except FileNotFoundError:  # the folder was removed meanwhile
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.fstat(fd).st_ino == os.stat(path).st_ino:
            return fd
    except (BlockingIOError, FileNotFoundError):
        pass
    os.close(fd)
    return None


def release_lock_file(held: HeldLock) -> None:
    """Delete the lock file, then let go of it."""
    try:
        held.path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # other locks in it
            held.path.parent.rmdir()
        fcntl.flock(held.fd, fcntl.LOCK_UN)
    finally:
        os.close(held.fd)


def lock_holder(path: Path) -> dict[str, Any]:
    """What the holder of lock file ``path`` wrote about itself ({} when unknown)."""
    try:
        holder = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def holder_alive(holder: dict[str, Any]) -> bool:
    """Whether the process a lock file names (:func:`lock_holder`) runs on this host: its
    pid exists here and the record names no other ``host``."""
    pid = holder.get("pid")
    if not isinstance(pid, int) or holder.get("host", socket.gethostname()) != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def _busy_message(datasets_dir: Path, name: str) -> str:
    holder = lock_holder(lock_path(datasets_dir, name))
    if not holder.get("pid"):
        return f"Dataset '{name}' is busy (another process); try again when that finishes."
    who = f"pid {holder['pid']}, {holder.get('operation', 'working')} since {holder.get('since', '?')}"
    return (f"Dataset '{name}' is busy ({who}{_running_for(holder.get('since'))}); try again when that "
            f"finishes, or stop it if it hangs (kill {holder['pid']}).")


def _running_for(since: Any) -> str:
    """``, for 3 min`` from the holder's ISO start time ('' when unknown)."""
    try:
        seconds = (datetime.now(UTC) - datetime.fromisoformat(str(since))).total_seconds()
    except (TypeError, ValueError):
        return ""
    if seconds < 120:
        return f", for {max(int(seconds), 0)} s"
    return f", for {int(seconds // 60)} min" if seconds < 7200 else f", for {seconds / 3600:.1f} h"
