"""Opening a 1.x dataset's database read-only: SQLite, DuckDB or PostgreSQL.

:func:`mdm_plugin_legacy.open_1x.open_legacy_database` gives a :class:`LegacyDatabase` for a
:class:`~mdm_plugin_legacy.catalog_1x.LegacyDataset` (or directly for its location).
The contract, for every engine:

- **Nothing is ever written.** Not one byte of a 1.x home changes and no file appears in
  it: SQLite files are opened ``immutable`` (no ``-wal``/``-shm``/journal is created or
  touched); when a non-empty ``-wal`` (or a hot ``-journal``) exists, its committed pages
  matter, so the database and that file are copied to a private temporary folder and
  the copy is read. DuckDB files are opened ``read_only`` with DuckDB's temporary
  directory outside the home. PostgreSQL sessions are ``read_only``, so the server
  refuses any write.
- :meth:`LegacyDatabase.list_tables` never lists the 1.x bookkeeping tables
  (``_metadata``, ``_columns``, ``_statistics``) nor the engine's own.
- Values come back exactly as 1.x stored them: declared integer types as int64, floating
  types as float64, text as string, booleans as bool. What pandas stored for datetimes is
  returned as it is stored: text in SQLite (``DATETIME`` columns hold
  ``2007-11-11 00:00:00.000000``; dates read from CSV were stored as the CSV's text),
  timestamps in DuckDB and PostgreSQL (``timestamp[us]``, ``timestamp[us, UTC]`` when
  zoned). A SQLite column holding values that do not fit its declared type is read as
  text (binary when it holds blobs) so nothing is lost; :meth:`column_notes` says which
  and why (see :mod:`mdm_plugin_legacy.sqlite_types_1x`).
- :meth:`LegacyDatabase.read_table` streams: batches of at most ``batch_size`` rows,
  never the whole table in memory. Consume a reader before closing the database.

Failures are :class:`mdm_core.errors.StorageError` with one sentence naming the file or
database and the table.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa

from mdm_core.errors import StorageError
from mdm_core.storage import rebatch
from mdm_plugin_legacy.layout import LEGACY_BOOKKEEPING_TABLES

DEFAULT_BATCH_SIZE = 50_000


class LegacyDatabase(abc.ABC):
    """One open 1.x dataset database, read-only. Use as a context manager or call
    :meth:`close`."""

    #: ``"sqlite"``, ``"duckdb"`` or ``"postgresql"``.
    engine: str = ""

    def __init__(self) -> None:
        self._tables: list[str] | None = None

    # -- what engines implement ------------------------------------------------------
    @abc.abstractmethod
    def _all_tables(self) -> list[str]:
        """Every table of the database, bookkeeping ones included, in creation order."""

    @abc.abstractmethod
    def _schema(self, name: str) -> pa.Schema:
        """The Arrow schema of existing table ``name``."""

    @abc.abstractmethod
    def _count(self, name: str) -> int: ...

    @abc.abstractmethod
    def _batches(self, name: str, schema: pa.Schema, limit: int | None, batch_size: int) -> Iterator[pa.RecordBatch]:
        """Batches of existing table ``name`` restricted to ``schema``'s fields."""

    @abc.abstractmethod
    def describe(self) -> dict[str, Any]:
        """Engine and where the database is, for messages (never a password)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the database (and any private copy); idempotent."""

    # -- the contract ------------------------------------------------------------------
    def list_tables(self) -> list[str]:
        """The user tables (data and feature tables), in creation order; never the 1.x
        bookkeeping tables."""
        if self._tables is None:
            self._tables = [t for t in self._all_tables() if t not in LEGACY_BOOKKEEPING_TABLES]
        return list(self._tables)

    def table_schema(self, name: str) -> pa.Schema:
        """The Arrow schema :meth:`read_table` gives for table ``name``."""
        self._require(name)
        return self._schema(name)

    def row_count(self, name: str) -> int:
        """Rows of table ``name``."""
        self._require(name)
        return self._count(name)

    def column_notes(self, name: str) -> dict[str, str]:
        """Columns of table ``name`` not read as their declared type, with the reason
        (SQLite only: the other engines enforce their column types)."""
        self._require(name)
        return {}

    def read_table(
        self,
        name: str,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> pa.RecordBatchReader:
        """Stream table ``name`` (only ``columns``, in that order, when given; at most
        ``limit`` rows) in batches of at most ``batch_size`` rows, in stored order."""
        self._require(name)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise StorageError(f"limit must be a whole number of rows, not {limit!r}.")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise StorageError(f"batch_size must be a positive whole number, not {batch_size!r}.")
        schema = self._project(name, self._schema(name), columns)
        if len(schema) == 0 or limit == 0:
            return pa.RecordBatchReader.from_batches(schema, iter(()))
        source = self._batches(name, schema, limit, batch_size)
        return pa.RecordBatchReader.from_batches(schema, rebatch(source, batch_size))

    def __enter__(self) -> LegacyDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _where(self) -> str:
        info = self.describe()
        if info.get("engine") == "postgresql":
            return f"PostgreSQL database {info.get('database')!r}"
        return f"{info.get('engine')} file {info.get('path')}"

    def _require(self, name: str) -> None:
        if name not in self.list_tables():
            known = ", ".join(self.list_tables()) or "none"
            raise StorageError(f"Table {name!r} is not in the 1.x {self._where()} (tables: {known}).")

    def _project(self, name: str, schema: pa.Schema, columns: Sequence[str] | None) -> pa.Schema:
        if columns is None:
            return schema
        if isinstance(columns, str):
            columns = [columns]
        missing = [c for c in columns if c not in schema.names]
        if missing:
            raise StorageError(f"Table {name!r} of the 1.x {self._where()} has no column "
                               f"{', '.join(repr(c) for c in missing)}.")
        if len(set(columns)) != len(columns):
            raise StorageError(f"Columns asked of table {name!r} repeat a name.")
        return pa.schema([schema.field(c) for c in columns])


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (drivers add context lines)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
