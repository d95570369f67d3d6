"""One migration command at a time per home.

``run``, ``rollback`` and ``cleanup`` hold an exclusive ``flock`` on
``<home>/.migration/lock`` for their whole duration. The kernel releases it when the
holder exits, however it exits, so a lock left by a killed run is simply taken over; the
file names the holder (pid, host, command, start) for the message a refused command shows.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mdm_core.datasets.locks import acquire_lock_file, lock_holder, release_lock_file
from mdm_core.errors import MigrationBusy
from mdm_core.migration.journal import migration_dir

LOCK_FILE = "lock"


@contextmanager
def migration_lock(home: Path, command: str) -> Iterator[None]:
    """Hold the home's migration lock for the block; MigrationBusy (exit code 4) at once,
    naming the holder, when another process holds it."""
    path = migration_dir(home) / LOCK_FILE
    held = acquire_lock_file(path, {"host": socket.gethostname(), "command": command}, wait=0.0)
    if held is None:
        holder = lock_holder(path)
        who = (f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, `mdm-migrate {holder.get('command', '?')}` "
               f"since {holder.get('since', '?')}") if holder else "another process"
        raise MigrationBusy(f"Another migration command is working on this home ({who}); wait for it to finish.")
    try:
        yield
    finally:
        release_lock_file(held)
