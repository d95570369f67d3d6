"""Legacy-generation storage: the 1.x databases of a home, read-only, beside the new layout.

For each engine (``sqlite``, ``duckdb``, ``postgresql``) the plugin offers a legacy
implementation, chosen while ``use_new_storage`` is off. It is the new implementation of
that engine for everything (registrations always write the new layout) except stores
whose recorded location says ``layout: 1.x``: :meth:`LegacyStorage.at` then gives a
backend whose stores read the 1.x database in place (:mod:`mdm_plugin_legacy.databases_1x`),
never writing a byte of the home. Writing to such a store is refused with what to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from mdm_core.checksum import checksum_batches
from mdm_core.errors import PluginError, StorageError
from mdm_core.storage import (
    FILTER_OPS,
    BackendCapabilities,
    HealthReport,
    StoreRef,
)
from mdm_plugin_legacy.catalog import LAYOUT
from mdm_plugin_legacy.catalog_1x import find_dataset
from mdm_plugin_legacy.databases_1x import LegacyDatabase
from mdm_plugin_legacy.open_1x import open_legacy_database

READ_ONLY = "is an MDM 1.x dataset, read-only until migrated (mdm-migrate plan shows how)"


class LegacyStorage:
    """The ``name`` backend of the legacy generation: ``new`` (the new implementation,
    None when its plugin is not installed) for the new layout, 1.x stores read in place."""

    def __init__(self, name: str, settings: Any, new: Any | None) -> None:
        self.name = name
        self.settings = settings
        self._new = new

    @property
    def new(self) -> Any:
        if self._new is None:
            raise PluginError(
                f"No storage plugin provides '{self.name}' for datasets in the new layout (mdm-plugin-legacy only "
                f"reads MDM 1.x databases): install mdm-plugin-{self.name} or check `mdm plugins list`."
            )
        return self._new

    @property
    def capabilities(self) -> BackendCapabilities:
        return self.new.capabilities if self._new is not None else BackendCapabilities()

    def at(self, location: Mapping[str, Any]) -> Any:
        if location.get("layout") == LAYOUT:
            return Legacy1xBackend(self.name, self.settings, str(location.get("dataset", "")))
        return self.new.at(location)

    def create_store(self, ref: StoreRef) -> Any:
        return self.new.create_store(ref)

    def open_store(self, ref: StoreRef, *, read_only: bool = False) -> Any:
        return self.new.open_store(ref, read_only=read_only)

    def store_exists(self, ref: StoreRef) -> bool:
        return self.new.store_exists(ref)

    def drop_store(self, ref: StoreRef) -> None:
        self.new.drop_store(ref)

    def move_store(self, src: StoreRef, dst: StoreRef) -> None:
        self.new.move_store(src, dst)

    def describe(self, ref: StoreRef) -> dict[str, Any]:
        return self.new.describe(ref)

    def check_table(self, name: str, columns: Sequence[str]) -> None:
        self.new.check_table(name, columns)

    def as_stored(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        return self.new.as_stored(batch)

    def health_check(self) -> HealthReport:
        return self.new.health_check()

    def sqlalchemy_engine(self, ref: StoreRef, *, read_only: bool = True) -> Any:
        return self.new.sqlalchemy_engine(ref, read_only=read_only)


class Legacy1xBackend:
    """The backend reaching one 1.x dataset's database: its only store is read-only."""

    capabilities = BackendCapabilities()

    def __init__(self, name: str, settings: Any, dataset: str) -> None:
        self.name, self.settings, self.dataset = name, settings, dataset

    def open_store(self, ref: StoreRef, *, read_only: bool = True) -> LegacyStore:
        if not read_only:
            raise StorageError(f"Dataset '{self.dataset}' {READ_ONLY}.")
        record = find_dataset(self.settings.home, self.dataset, inspect=True)
        if record is None:
            raise StorageError(f"MDM 1.x dataset '{self.dataset}' is no longer in this home.")
        if not record.ok:
            raise StorageError(f"MDM 1.x dataset '{self.dataset}' cannot be read: {record.problems[-1]}")
        return LegacyStore(open_legacy_database(record), self.dataset, set(record.incomplete_features))

    def store_exists(self, ref: StoreRef) -> bool:
        record = find_dataset(self.settings.home, self.dataset, inspect=False)
        return record is not None and record.location is not None and record.location.found

    def at(self, location: Mapping[str, Any]) -> Legacy1xBackend:
        return self

    def describe(self, ref: StoreRef) -> dict[str, Any]:
        return {"layout": LAYOUT, "dataset": self.dataset}

    def as_stored(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        return batch

    def health_check(self) -> HealthReport:
        return HealthReport(ok=True, backend=self.name, details={"layout": LAYOUT})

    def _refuse(self, *_: Any, **__: Any) -> Any:
        raise StorageError(f"Dataset '{self.dataset}' {READ_ONLY}.")

    def sqlalchemy_engine(self, ref: StoreRef, *, read_only: bool = True) -> Any:
        """Refused, like SQL: a 1.x database is read through its decoding reader only
        (an engine would see 1.x storage types and incomplete feature tables)."""
        raise StorageError(f"Dataset '{self.dataset}' {READ_ONLY}; SQLAlchemy engines open on migrated datasets.")

    create_store = drop_store = move_store = check_table = _refuse


class LegacyStore:
    """A 1.x database as a read-only :class:`mdm_core.storage.Store`. Incomplete feature
    tables are refused, never served as if complete; ``where`` filters are applied to the
    streamed batches (1.x databases are read as they are, without pushing filters down)."""

    def __init__(self, db: LegacyDatabase, dataset: str, incomplete: set[str]) -> None:
        self.db, self.dataset, self.incomplete = db, dataset, incomplete

    def list_tables(self) -> list[str]:
        return [t for t in self.db.list_tables() if t not in self.incomplete]

    def table_schema(self, name: str) -> pa.Schema:
        self._servable(name)
        return self.db.table_schema(name)

    def row_count(self, name: str) -> int:
        self._servable(name)
        return self.db.row_count(name)

    def read_table(
        self, name: str, *, columns: Sequence[str] | None = None, where: Sequence[tuple[str, str, Any]] = (),
        limit: int | None = None, batch_size: int = 50_000,
    ) -> pa.RecordBatchReader:
        self._servable(name)
        if not where:
            return self.db.read_table(name, columns=columns, limit=limit, batch_size=batch_size)
        wanted = list(columns) if columns is not None else None
        needed = None if wanted is None else list(dict.fromkeys([*wanted, *(c for c, _, _ in where)]))
        source = self.db.read_table(name, columns=needed, batch_size=batch_size)
        schema = source.schema if wanted is None else pa.schema([source.schema.field(c) for c in wanted])
        return pa.RecordBatchReader.from_batches(schema, _filtered(source, where, schema, limit))

    def checksum(self, name: str) -> str:
        return checksum_batches(self.read_table(name))

    def execute_sql(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        raise StorageError(f"Dataset '{self.dataset}' {READ_ONLY}; SQL runs on migrated datasets.")

    def write_table(self, name: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch], *, replace: bool = False) -> int:
        raise StorageError(f"Dataset '{self.dataset}' {READ_ONLY}.")

    def write_extension(self, name: str, base: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch],
                        *, replace: bool = False) -> int:
        raise StorageError(f"Dataset '{self.dataset}' {READ_ONLY}.")

    def drop_columns(self, name: str, columns: Sequence[str]) -> None:
        raise StorageError(f"Dataset '{self.dataset}' {READ_ONLY}.")

    def drop_table(self, name: str) -> None:
        raise StorageError(f"Dataset '{self.dataset}' {READ_ONLY}.")

    def rename_table(self, old: str, new: str) -> None:
        raise StorageError(f"Dataset '{self.dataset}' {READ_ONLY}.")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> LegacyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _servable(self, name: str) -> None:
        if name in self.incomplete:
            raise StorageError(
                f"Table '{name}' of MDM 1.x dataset '{self.dataset}' is incomplete (1.x stopped writing it) and is "
                "not served; migrate the dataset to regenerate its features."
            )


def _filtered(source: pa.RecordBatchReader, where: Sequence[tuple[str, str, Any]], schema: pa.Schema,
              limit: int | None) -> Iterator[pa.RecordBatch]:
    left = limit
    for batch in source:
        if left is not None and left <= 0:
            return
        mask = None
        for column, op, value in where:
            if op not in FILTER_OPS:
                raise StorageError(f"Invalid filter {(column, op, value)!r}: op must be one of {FILTER_OPS}.")
            term = _compare(batch.column(column), op, value)
            mask = term if mask is None else pc.and_kleene(mask, term)
        kept = batch.filter(pc.fill_null(mask, False)).select(schema.names)
        if left is not None:
            kept = kept.slice(0, left)
            left -= kept.num_rows
        if kept.num_rows:
            yield kept


def _compare(column: pa.Array, op: str, value: Any) -> pa.Array:
    if op == "is null":
        return pc.is_null(column)
    if op == "is not null":
        return pc.is_valid(column)
    if value is None:
        return pa.array([False] * len(column))
    functions = {"=": pc.equal, "!=": pc.not_equal, "<": pc.less, "<=": pc.less_equal,
                 ">": pc.greater, ">=": pc.greater_equal}
    return functions[op](column, value)
