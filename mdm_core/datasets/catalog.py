"""The catalog of registered datasets: ``<datasets dir>/<name>/dataset.yaml``.

A dataset exists exactly when its ``dataset.yaml`` exists: it is written last, atomically,
when everything else is in place. Work in progress lives under ``<datasets dir>/.staging``
and is removed on failure (and, if a process was killed, by the next registration).
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from pathlib import Path

import yaml

from mdm_core.config.settings import Settings
from mdm_core.datasets.models import DatasetInfo, dataset_from_dict, dataset_to_dict, normalize_name
from mdm_core.errors import DatasetError, DatasetNotFound
from mdm_core.storage import StoreRef

METADATA_FILE = "dataset.yaml"
STAGING_DIR = ".staging"
STALE_STAGING_SECONDS = 6 * 3600


class Catalog:
    """Reads and writes dataset metadata under one home's datasets folder."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.datasets_dir

    def folder(self, name: str) -> Path:
        return self.root / normalize_name(name)

    def store_ref(self, name: str) -> StoreRef:
        normalized = normalize_name(name)
        return StoreRef(normalized, self.root / normalized)

    def exists(self, name: str) -> bool:
        return (self.folder(name) / METADATA_FILE).is_file()

    def load(self, name: str) -> DatasetInfo:
        path = self.folder(name) / METADATA_FILE
        if not path.is_file():
            known = ", ".join(self.names()) or "none registered"
            raise DatasetNotFound(f"Dataset '{name}' not found (known: {known}).")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            return dataset_from_dict(data)
        except Exception as exc:
            raise DatasetError(f"Metadata of dataset '{name}' ({path}) is unreadable: {exc}") from None

    def save(self, info: DatasetInfo, folder: Path | None = None) -> Path:
        """Write ``dataset.yaml`` atomically (temp file + rename)."""
        target = (folder or self.folder(info.name)) / METADATA_FILE
        tmp = target.with_name(f".{METADATA_FILE}.{secrets.token_hex(4)}.tmp")
        tmp.write_text(yaml.safe_dump(dataset_to_dict(info), sort_keys=False, allow_unicode=True), encoding="utf-8")
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

    def new_staging(self, name: str) -> tuple[Path, StoreRef]:
        """A fresh staging folder and the store ref to build the dataset in."""
        self.clean_stale_staging()
        token = secrets.token_hex(4)
        folder = self.root / STAGING_DIR / f"{normalize_name(name)}-{token}"
        folder.mkdir(parents=True)
        return folder, StoreRef(f"stage_{token}", folder)

    def clean_stale_staging(self, max_age: float = STALE_STAGING_SECONDS) -> None:
        """Remove staging folders left by killed processes (older than ``max_age``)."""
        staging = self.root / STAGING_DIR
        if not staging.is_dir():
            return
        now = time.time()
        for entry in staging.iterdir():
            try:
                if now - entry.stat().st_mtime > max_age:
                    shutil.rmtree(entry, ignore_errors=True)
            except FileNotFoundError:
                continue
        if not any(staging.iterdir()):
            staging.rmdir()

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
