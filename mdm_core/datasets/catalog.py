"""The catalog of registered datasets: the contract, and the new layout
``<datasets dir>/<name>/dataset.yaml`` (a built-in plugin of ``mdm_dataset_catalogs``).

A dataset exists exactly when its ``dataset.yaml`` exists: it is written last, atomically,
when everything else is in place. Work in progress lives under ``<datasets dir>/.staging``
(see :mod:`mdm_core.datasets.handover`). A legacy catalog (chosen by ``use_new_dataset``
off) extends this one with an earlier MDM's datasets, read-only; writes always go to the
new layout.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from mdm_core.config.settings import Settings
from mdm_core.datasets.models import DatasetInfo, dataset_from_dict, dataset_to_dict, normalize_name
from mdm_core.errors import DatasetError, DatasetNotFound
from mdm_core.hookspecs import Implementation, hookimpl
from mdm_core.yamlio import dump_yaml, load_yaml

if TYPE_CHECKING:
    from mdm_core.storage import StoreRef

METADATA_FILE = "dataset.yaml"


class MetadataUnreadable(DatasetError):
    """A dataset's ``dataset.yaml`` exists but cannot be read (not YAML, or not MDM's
    keys); the sentence names the file and ``mdm dataset repair``."""


class Catalog:
    """Reads and writes dataset metadata under one home's datasets folder.

    This class is also the catalog contract: a legacy catalog subclasses it and overrides
    :meth:`names`, :meth:`exists`, :meth:`load`, :meth:`list` and :meth:`discard` for the
    datasets it adds (``DatasetInfo.format_version`` below 2), keeping the writing methods.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.datasets_dir

    def folder(self, name: str) -> Path:
        return self.root / normalize_name(name)

    def store_ref(self, info: DatasetInfo, folder: Path | None = None) -> StoreRef:
        """Where ``info``'s store lives: its folder (or ``folder``, where a journal moved
        it), and the engine-side key recorded at registration (schema suffix for server
        engines)."""
        from mdm_core.storage import StoreRef  # pyarrow: not imported while plugins load
        return StoreRef(info.store.get("key", info.name), folder or self.folder(info.name))

    def exists(self, name: str) -> bool:
        return (self.folder(name) / METADATA_FILE).is_file()

    def load(self, name: str, folder: Path | None = None, *, file_name: str = METADATA_FILE) -> DatasetInfo:
        """The metadata of ``name`` (from ``folder/file_name`` when given: a journal's copy)."""
        path = (folder or self.folder(name)) / file_name
        if not path.is_file():
            known = ", ".join(self.names()) or "none registered"
            raise DatasetNotFound(f"Dataset '{name}' not found (known: {known}).")
        try:
            data = load_yaml(path.read_text(encoding="utf-8"))
            return dataset_from_dict(data)
        except PermissionError:
            raise
        except Exception as exc:
            raise MetadataUnreadable(
                f"Metadata of dataset '{name}' ({path}) is unreadable ({_reason(exc)}); rebuild it from "
                f"its store with `mdm dataset repair {name}`."
            ) from None

    def save(self, info: DatasetInfo, folder: Path | None = None, *, file_name: str = METADATA_FILE) -> Path:
        """Write ``dataset.yaml`` (or ``folder/file_name``) atomically (temp file + rename)."""
        target = (folder or self.folder(info.name)) / file_name
        tmp = target.with_name(f".{file_name}.{secrets.token_hex(4)}.tmp")
        try:
            tmp.write_text(dump_yaml(dataset_to_dict(info)), encoding="utf-8")
            os.replace(tmp, target)
        except BaseException:  # a full disk, a kill signal: the old file stays, no temp file left
            tmp.unlink(missing_ok=True)
            raise
        return target

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir()
            if p.is_dir() and not p.name.startswith(".") and (p / METADATA_FILE).is_file()
        )

    def list(self) -> list[DatasetInfo]:
        """Every dataset; one whose metadata is unreadable is listed as ``broken`` (see
        :meth:`load_or_broken`), so one damaged file never hides the others."""
        return [self.load_or_broken(name) for name in self.names()]

    def load_or_broken(self, name: str) -> DatasetInfo:
        """:meth:`load`, or for unreadable metadata a ``status="broken"`` record holding
        what the damaged file still states legibly (backend, store, target, ...), no
        tables, and the reason as its problem."""
        try:
            return self.load(name)
        except MetadataUnreadable as exc:
            from mdm_core.datasets.repair import salvaged_info

            return salvaged_info(normalize_name(name), self.folder(name) / METADATA_FILE, str(exc))

    def discard(self, info: DatasetInfo) -> None:
        """Remove the metadata and files of a dataset this catalog adds in another layout
        (the new layout is removed through :mod:`mdm_core.datasets.handover`)."""
        raise DatasetError(f"Dataset '{info.name}' is not in a layout this catalog can remove.")


def open_catalog(settings: Settings) -> Catalog:
    """The catalog that serves the home: the winner of ``mdm_dataset_catalogs`` under the
    flag ``use_new_dataset``."""
    from mdm_core.flags import choose
    from mdm_core.plugins import get_plugin_manager

    offered = get_plugin_manager().implementations("catalog")
    return choose("catalog", "home", offered, settings.flags).winner.factory(settings)


@hookimpl
def mdm_dataset_catalogs() -> list[Implementation]:
    return [
        Implementation(
            kind="catalog", name="home", generation="new", factory=Catalog,
            description="datasets/<name>/dataset.yaml beside each dataset's store",
        )
    ]


def _reason(exc: Exception) -> str:
    """Why metadata could not be read, on one line: YAML's problem and line, or the
    fields the model missed."""
    import cattrs

    if isinstance(exc, cattrs.BaseValidationError):
        keys = [m.rsplit(" @ $.", 1)[-1] for m in cattrs.transform_error(exc)]
        return "missing or invalid keys: " + ", ".join(keys[:4]) + (", ..." if len(keys) > 4 else "")
    text = " ".join(str(exc).split())
    return text.replace(' in "<unicode string>",', " at")
