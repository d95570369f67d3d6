"""Writes that survive a crash: a file holds either its old bytes or all of its new ones.

:func:`write_atomically` writes through a temp file beside the target (fsync, then
``os.replace``, then fsync of the folder so the rename itself is on disk);
:func:`sync_folder` is that last step alone, for callers that rename themselves.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path


def write_atomically(path: Path, data: bytes | str, *, mode: int | None = None, temp: Path | None = None) -> None:
    """Put ``data`` (text as UTF-8) into ``path``: whenever the process dies, ``path`` holds
    its old bytes or all of ``data``, never a part. ``mode`` sets the permission bits;
    ``temp`` names the temp file (default: a hidden random name beside ``path``), which is
    removed when the write fails."""
    temp = temp or path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with open(temp, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            temp.chmod(stat.S_IMODE(mode))
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable (where the platform allows opening
    a folder; elsewhere nothing)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
