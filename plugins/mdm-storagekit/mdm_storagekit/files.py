"""The lifecycle of a one-file store: ``<dataset folder>/<file_name>`` (SQLite, DuckDB)."""

from __future__ import annotations

import abc
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from mdm_core.errors import StorageError
from mdm_core.storage import Store, StoreRef
from mdm_storagekit.bookkeeping import BackendBase
from mdm_storagekit.stores import check_column_names


class FileStoreBackend(BackendBase, abc.ABC):
    """A backend keeping each store in one database file in the dataset folder.

    A subclass names the ``engine`` (for messages), the ``file_name``, the ``sidecars``
    (suffixes of the engine's journal/WAL files next to it) and opens stores in
    :meth:`open_file`; it may override :meth:`check_closed` (refuse to drop or move a
    file still open in this process) and :meth:`prepare_move` (fold a write-ahead log
    into the file so one file moves)."""

    name: str
    engine: ClassVar[str]
    file_name: ClassVar[str]
    sidecars: ClassVar[tuple[str, ...]] = ()

    def __init__(self, settings: Any) -> None:
        self.settings = settings

    # -- what the engine provides ---------------------------------------------------------
    @abc.abstractmethod
    def open_file(self, path: Path, *, read_only: bool, building: bool) -> Store:
        """Open the store in ``path``; ``building``: a new file only its creator sees yet
        (see :meth:`mdm_core.storage.StorageBackend.create_store`)."""

    def check_closed(self, path: Path) -> None:
        """StorageError if ``path`` cannot be dropped or moved now."""

    def prepare_move(self, path: Path) -> None:
        """Make ``path`` complete and durable on its own before it moves."""

    # -- the lifecycle ----------------------------------------------------------------------
    def db_path(self, ref: StoreRef) -> Path:
        return ref.folder / self.file_name

    def create_store(self, ref: StoreRef) -> Store:
        path = self.db_path(ref)
        if path.exists():
            raise StorageError(f"{self.engine} database {path} already exists.")
        ref.folder.mkdir(parents=True, exist_ok=True)
        return self.open_file(path, read_only=False, building=True)

    def open_store(self, ref: StoreRef, *, read_only: bool = False) -> Store:
        path = self.db_path(ref)
        if not path.is_file():
            raise StorageError(f"{self.engine} database {path} does not exist.")
        return self.open_file(path, read_only=read_only, building=False)

    def store_exists(self, ref: StoreRef) -> bool:
        return self.db_path(ref).is_file()

    def drop_store(self, ref: StoreRef) -> None:
        path = self.db_path(ref)
        self.check_closed(path)
        for suffix in ("", *self.sidecars):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    def move_store(self, src: StoreRef, dst: StoreRef) -> None:
        source, target = self.db_path(src), self.db_path(dst)
        if target.exists():
            raise StorageError(f"{self.engine} database {target} already exists.")
        if not source.is_file():
            raise StorageError(f"{self.engine} database {source} does not exist.")
        self.check_closed(source)
        self.prepare_move(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        for suffix in self.sidecars:
            Path(f"{source}{suffix}").unlink(missing_ok=True)

    def describe(self, ref: StoreRef) -> dict[str, Any]:
        path = self.db_path(ref)
        return {"file": self.file_name, "size_bytes": path.stat().st_size if path.exists() else None}

    def at(self, location: Mapping[str, Any]) -> FileStoreBackend:
        """Stores live in dataset folders: every location is reached the same way."""
        return self

    @classmethod
    def check_table(cls, name: str, columns: Sequence[str]) -> None:
        """The shared column checks within :attr:`capabilities` ``.max_columns``."""
        check_column_names(
            name, columns, engine=cls.engine, max_columns=cls.capabilities.max_columns, case_insensitive=True
        )
