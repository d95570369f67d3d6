"""Byte-for-byte backups of the home's files a phase changes, and their restoration.

Before a phase changes a file of the home (``mdm.yaml`` when a flag flips, a rewritten
config), the orchestrator copies it to ``<home>/.migration/backups/<phase>/`` and records
it in the phase's journal entry (or records that it did not exist). Rolling the phase back
puts every such file back exactly (or deletes it if the phase created it).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from pathlib import Path

from mdm_core.migration.journal import FileBackup, PhaseRecord, migration_dir

BACKUPS_DIR = "backups"


def backup_file(home: Path, phase: PhaseRecord, path: Path) -> FileBackup | None:
    """Save ``path`` (inside ``home``) for ``phase`` unless the phase saved it already;
    returns the new record (None when it was saved before)."""
    relative = _relative(home, path)
    if any(b.path == relative for b in phase.backups):
        return None
    if not path.is_file():
        record = FileBackup(relative, existed=False)
    else:
        folder = migration_dir(home) / BACKUPS_DIR / phase.phase
        folder.mkdir(parents=True, exist_ok=True)
        copy = folder / f"{len(phase.backups):03d}-{path.name}"
        copy_durably(path, copy)
        record = FileBackup(relative, existed=True, copy=str(copy.relative_to(migration_dir(home))),
                            sha256=_sha256(copy))
    phase.backups.append(record)
    return record


def restore_files(home: Path, phase: PhaseRecord) -> list[str]:
    """Put back every file ``phase`` saved, newest first; returns the paths restored.
    A backup copy whose bytes changed since it was made is an error (nothing of it is
    restored): the backup cannot be trusted."""
    restored = []
    for record in reversed(phase.backups):
        target = home / record.path
        if not record.existed:
            target.unlink(missing_ok=True)
        else:
            copy = migration_dir(home) / str(record.copy)
            if _sha256(copy) != record.sha256:
                raise OSError(f"The backup of {record.path} ({copy}) changed since it was made; restore it by hand.")
            target.parent.mkdir(parents=True, exist_ok=True)
            copy_durably(copy, target)
        restored.append(record.path)
    return restored


def remove_backups(home: Path, phase: str | None = None) -> None:
    """Delete the backup copies of ``phase`` (all phases when None)."""
    folder = migration_dir(home) / BACKUPS_DIR
    shutil.rmtree(folder / phase if phase else folder, ignore_errors=True)


def snapshot_config(home: Path, kind: str) -> Path | None:
    """A copy of ``<home>/mdm.yaml`` made before a change outside a migration (``kind``:
    ``flags``, ``settings``, ``manual``), as ``<home>/.migration/backups/<kind>/mdm-<UTC
    time>.yaml``; returns it, or None when there is no ``mdm.yaml`` to save. Such copies
    are removed by ``mdm-migrate cleanup`` with the migration's backups."""
    from datetime import UTC, datetime

    source = home / "mdm.yaml"
    if not source.is_file():
        return None
    folder = migration_dir(home) / BACKUPS_DIR / kind
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    target = folder / f"mdm-{stamp}.yaml"
    while target.exists():  # two copies within a microsecond
        target = target.with_name(f"{target.stem}-{secrets.token_hex(2)}.yaml")
    copy_durably(source, target)
    return target


def _relative(home: Path, path: Path) -> str:
    try:
        return str(Path(os.path.abspath(path)).relative_to(os.path.abspath(home)))
    except ValueError:
        raise ValueError(f"{path} is outside the home {home}; a migration changes only files of the home.") from None


def copy_durably(source: Path, target: Path) -> None:
    """Copy bytes (and mode) through a temp file, fsync, rename: ``target`` is either the
    old file or the complete new one, whenever the process dies."""
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        shutil.copyfile(source, tmp)
        shutil.copymode(source, tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
