"""Journals of dataset operations in progress: one folder per operation under
``<datasets dir>/.staging``.

A registration or removal first writes its :class:`Operation` record (``operation.json``,
atomically) into a fresh folder ``<name>.<kind>.<token>``; everything it builds or sets
aside lives in that folder until the operation is done, then the folder goes. A folder
whose dataset lock is free belongs to a process that died mid-way: the record, and what
the folder holds, are enough for :mod:`mdm_core.datasets.handover` to finish or undo it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import cattrs

from mdm_core.logging import get_logger
from mdm_core.storage import StoreRef

log = get_logger(__name__)

STAGING_DIR = ".staging"
RECORD_FILE = "operation.json"
#: Engines limit identifier lengths (PostgreSQL: 63 bytes); a store key is at most
#: this many characters of the dataset name plus ``_`` and a token.
KEY_NAME_CHARS = 40

_converter = cattrs.Converter()


@attrs.define
class Operation:
    """One operation on dataset ``name`` (``kind``: ``register`` or ``remove``).

    ``backend`` and ``location`` (the backend's ``describe`` output: where its stores
    live, never a secret) say which engine to reach when finishing or undoing it. A
    registration builds its store under ``stage_key`` inside the folder and moves it to
    ``final_key`` in the dataset folder.
    """

    name: str
    kind: str
    backend: str
    location: dict[str, Any] = attrs.Factory(dict)
    stage_key: str | None = None
    final_key: str | None = None
    pid: int = attrs.Factory(os.getpid)
    started_at: str = attrs.Factory(lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    folder: Path = attrs.field(default=Path(), eq=False)

    @property
    def stage_ref(self) -> StoreRef:
        return StoreRef(self.stage_key or "", self.folder)

    def file(self, name: str) -> Path:
        return self.folder / name

    def save(self) -> None:
        """Write the record atomically into the operation's folder."""
        data = _converter.unstructure(self)
        data.pop("folder")
        tmp = self.folder / f".{RECORD_FILE}.tmp"
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, self.folder / RECORD_FILE)


def staging_root(datasets_dir: Path) -> Path:
    return datasets_dir / STAGING_DIR


def store_key(name: str) -> str:
    """A fresh engine-side key for dataset ``name``: unique per registration (homes that
    share a database server never collide, a replacement never meets what it replaces)
    and always short enough for every engine's identifiers."""
    return f"{name[:KEY_NAME_CHARS]}_{secrets.token_hex(4)}"


def begin(datasets_dir: Path, name: str, kind: str, backend: str, **fields: Any) -> Operation:
    """Create the folder of a new operation and write its record."""
    token = secrets.token_hex(4)
    folder = staging_root(datasets_dir) / f"{name}.{kind}.{token}"
    folder.mkdir(parents=True)
    operation = Operation(name=name, kind=kind, backend=backend, folder=folder, **fields)
    operation.save()
    return operation


def pending(datasets_dir: Path) -> dict[str, list[Path]]:
    """Operation folders under ``.staging``, grouped by dataset name, oldest first."""
    root = staging_root(datasets_dir)
    try:
        entries = list(root.iterdir())
    except (FileNotFoundError, NotADirectoryError):  # none, or the last operation just removed it
        return {}
    found: dict[str, list[Path]] = {}
    for folder in sorted(entries, key=_mtime):
        if folder.is_dir() and folder.name.count(".") == 2:
            found.setdefault(folder.name.split(".", 1)[0], []).append(folder)
        else:
            log.warning("ignoring an unknown entry in the staging folder", path=str(folder))
    return found


def read(folder: Path) -> Operation | None:
    """The record in ``folder``; None if there is none (the process died before writing
    it, so it did nothing else)."""
    try:
        data = json.loads((folder / RECORD_FILE).read_text(encoding="utf-8"))
        return attrs.evolve(_converter.structure(data, Operation), folder=folder)
    except (OSError, ValueError, cattrs.BaseValidationError, TypeError):
        return None


def discard(folder: Path) -> None:
    """Remove an operation's folder (and ``.staging`` when it is left empty)."""
    shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(OSError):  # other operations still in it
        folder.parent.rmdir()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
