"""The catalog of registered datasets: ``<datasets dir>/<name>/dataset.yaml``.

A dataset exists exactly when its ``dataset.yaml`` exists: it is written last, atomically,
when everything else is in place. Work in progress lives under ``<datasets dir>/.staging``
and is removed on failure (and, if a process was killed, by the next registration).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from pathlib import Path

from mdm_core.config.settings import Settings
from mdm_core.datasets.models import DatasetInfo, dataset_from_dict, dataset_to_dict, normalize_name
from mdm_core.errors import DatasetError, DatasetNotFound
from mdm_core.storage import StoreRef
from mdm_core.yamlio import dump_yaml, load_yaml

METADATA_FILE = "dataset.yaml"
STAGING_DIR = ".staging"
OWNER_FILE = "owner.json"
ORPHAN_GRACE_SECONDS = 60


class Catalog:
    """Reads and writes dataset metadata under one home's datasets folder."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.datasets_dir

    def folder(self, name: str) -> Path:
        return self.root / normalize_name(name)

    def store_ref(self, info: DatasetInfo) -> StoreRef:
        """Where ``info``'s store lives: its folder, and the engine-side key recorded at
        registration (schema suffix for server engines)."""
        return StoreRef(info.store.get("key", info.name), self.folder(info.name))

    def new_store_ref(self, name: str) -> StoreRef:
        """A store ref for a new registration: the key is unique per registration, so
        homes sharing one database server never collide, and a replacement never meets
        the store it replaces."""
        normalized = normalize_name(name)
        return StoreRef(f"{normalized}_{secrets.token_hex(4)}", self.root / normalized)

    def exists(self, name: str) -> bool:
        return (self.folder(name) / METADATA_FILE).is_file()

    def load(self, name: str, folder: Path | None = None) -> DatasetInfo:
        path = (folder or self.folder(name)) / METADATA_FILE
        if not path.is_file():
            known = ", ".join(self.names()) or "none registered"
            raise DatasetNotFound(f"Dataset '{name}' not found (known: {known}).")
        try:
            data = load_yaml(path.read_text(encoding="utf-8"))
            return dataset_from_dict(data)
        except Exception as exc:
            raise DatasetError(f"Metadata of dataset '{name}' ({path}) is unreadable: {exc}") from None

    def save(self, info: DatasetInfo, folder: Path | None = None) -> Path:
        """Write ``dataset.yaml`` atomically (temp file + rename)."""
        target = (folder or self.folder(info.name)) / METADATA_FILE
        tmp = target.with_name(f".{METADATA_FILE}.{secrets.token_hex(4)}.tmp")
        tmp.write_text(dump_yaml(dataset_to_dict(info)), encoding="utf-8")
        os.replace(tmp, target)
        return target

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir()
            if p.is_dir() and not p.name.startswith(".") and (p / METADATA_FILE).is_file()
        )

    def list(self) -> list[DatasetInfo]:
        return [self.load(name) for name in self.names()]

    def new_staging(self, name: str, backend: str, *, replaces: DatasetInfo | None = None) -> tuple[Path, StoreRef]:
        """A fresh staging folder and the store ref to build the dataset in. The folder
        records its owner (pid, backend, store key) so a killed run can be reclaimed;
        with ``replaces`` it holds a dataset set aside during ``--force``, whose metadata
        is kept beside it so it can be restored."""
        token = secrets.token_hex(4)
        role = "replaced" if replaces else "new"
        folder = self.root / STAGING_DIR / f"{normalize_name(name)}-{role}-{token}"
        folder.mkdir(parents=True)
        ref = StoreRef(f"{'old' if replaces else 'stage'}_{token}", folder)
        owner = {"pid": os.getpid(), "backend": backend, "key": ref.key, "replaces": replaces.name if replaces else None}
        if replaces is not None:
            self.save(replaces, folder)
        (folder / OWNER_FILE).write_text(json.dumps(owner), encoding="utf-8")
        return folder, ref

    def abandoned_staging(self) -> list[tuple[Path, dict, StoreRef]]:
        """Staging folders whose owning process is gone: (folder, owner record, store ref)."""
        staging = self.root / STAGING_DIR
        if not staging.is_dir():
            return []
        found = []
        for folder in staging.iterdir():
            try:
                owner = json.loads((folder / OWNER_FILE).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                owner = {}
            pid = owner.get("pid")
            if isinstance(pid, int) and _alive(pid):
                continue
            if not owner and time.time() - folder.stat().st_mtime < ORPHAN_GRACE_SECONDS:
                continue  # being created right now
            found.append((folder, owner, StoreRef(owner.get("key", "stage_unknown"), folder)))
        return found

    def discard_staging(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        parent = folder.parent
        if parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()

    def remove_folder(self, name: str) -> None:
        """Delete the dataset folder; the metadata file goes first so a half-removed
        dataset is never listed."""
        folder = self.folder(name)
        (folder / METADATA_FILE).unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
