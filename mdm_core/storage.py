"""The storage contract every backend plugin satisfies, and the lookup of the active one.

A *backend* (one per engine: sqlite, duckdb, postgresql) manages *stores*, one store per
dataset, addressed by a :class:`StoreRef`. A store holds named tables; data goes in and
comes out as Arrow record batches, and a table read back has exactly the Arrow schema it
was written with (backends keep that schema themselves when the engine cannot).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from mdm_core.errors import StorageError

if TYPE_CHECKING:  # pyarrow loads when data moves, not for metadata commands
    import pyarrow as pa

#: Filter operators a store must understand in ``read_table(where=...)``.
FILTER_OPS = ("=", "!=", "<", "<=", ">", ">=", "is null", "is not null")


@attrs.frozen
class StoreRef:
    """Where a dataset's store lives: ``key`` names it inside the engine (file stem or
    schema suffix, letters/digits/underscore only), ``folder`` is the dataset folder that
    file-based engines keep their database file in."""

    key: str
    folder: Path


@attrs.frozen
class HealthReport:
    ok: bool
    backend: str
    details: dict[str, Any] = attrs.Factory(dict)


@attrs.frozen
class BackendCapabilities:
    """What a backend's engine can and cannot represent. Part of the contract: the
    conformance checks expect exactly what is declared here, and callers that compare
    written data with stored data (feature fitting) follow it."""

    #: False when the engine turns floating-point NaN into NULL (SQLite does).
    nan_distinct_from_null: bool = True
    #: False when the engine stores -0.0 as 0.0 (SQLite does).
    signed_zero_preserved: bool = True
    #: The finest timestamp unit kept exactly ("ns" or "us"); a finer value is refused
    #: with a StorageError, never rounded.
    timestamp_unit: str = attrs.field(default="ns", validator=attrs.validators.in_(("s", "ms", "us", "ns")))
    #: False when text cannot hold NUL characters (PostgreSQL): such text is refused.
    nul_in_text: bool = True
    #: Columns a table may have at most (None: no limit below what MDM itself handles).
    max_columns: int | None = None


@runtime_checkable
class Store(Protocol):
    """An open dataset store. Use as a context manager or call :meth:`close`."""

    def list_tables(self) -> list[str]:
        """Names of the user tables (never internal bookkeeping tables)."""

    def write_table(
        self, name: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch], *, replace: bool = False
    ) -> int:
        """Create table ``name`` with ``schema`` and stream ``batches`` into it in one
        transaction; return rows written. An existing table is an error unless ``replace``.
        On any exception nothing of the table remains."""

    def write_extension(
        self, name: str, base: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch], *, replace: bool = False
    ) -> int:
        """Write table ``name``: all columns of table ``base`` followed by new ones.
        ``schema`` starts with ``base``'s fields, unchanged, and ``batches`` carry every
        column of ``schema`` for ``base``'s rows in order; fewer or more rows is an error
        and leaves nothing behind. A backend may store only the new columns and present
        ``name`` as ``base`` joined to them by row; reads, counts, checksums and SQL see
        the same table either way. Such a backend may refuse to drop or replace ``base``
        while ``name`` exists. Otherwise as :meth:`write_table`."""

    def drop_columns(self, name: str, columns: Sequence[str]) -> None:
        """Remove ``columns`` from table ``name``; StorageError naming any unknown column,
        or when no column would be left."""

    def read_table(
        self,
        name: str,
        *,
        columns: Sequence[str] | None = None,
        where: Sequence[tuple[str, str, Any]] = (),
        limit: int | None = None,
        batch_size: int = 50_000,
    ) -> pa.RecordBatchReader:
        """Stream the table back with its original Arrow schema (restricted to ``columns``),
        rows in insertion order. ``where`` holds ``(column, op, value)`` with ``op`` from
        FILTER_OPS, combined with AND; values are bound as parameters, never pasted."""

    def table_schema(self, name: str) -> pa.Schema:
        """The Arrow schema the table was written with."""

    def row_count(self, name: str) -> int: ...

    def drop_table(self, name: str) -> None:
        """Drop the table if it exists."""

    def rename_table(self, old: str, new: str) -> None:
        """Rename atomically; an existing ``new`` is replaced in the same transaction."""

    def checksum(self, name: str) -> str:
        """Order-independent content checksum; equal data gives equal checksums on every
        backend (see :mod:`mdm_core.checksum`)."""

    def execute_sql(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        """Run one SQL statement in the engine's dialect and return its rows."""

    def close(self) -> None: ...

    def __enter__(self) -> Store: ...

    def __exit__(self, *exc: object) -> None: ...


@runtime_checkable
class StorageBackend(Protocol):
    """One storage engine. ``name`` is what config and ``--backend`` call it;
    ``capabilities`` what it can represent. :mod:`mdm_core.storage_kit` implements what
    engines share."""

    name: str
    capabilities: BackendCapabilities

    def create_store(self, ref: StoreRef) -> Store:
        """Create an empty store (error if it exists) and return it open for writing.

        Until :meth:`move_store` puts it in place the store is private to its creator and
        is dropped if anything fails, so a backend may trade crash durability for write
        speed on it (transactions and rollback must still work); ``move_store`` makes it
        durable."""

    def open_store(self, ref: StoreRef, *, read_only: bool = False) -> Store:
        """Open an existing store; StorageError if it does not exist."""

    def store_exists(self, ref: StoreRef) -> bool: ...

    def drop_store(self, ref: StoreRef) -> None:
        """Remove the store and everything in it; no error if it does not exist."""

    def move_store(self, src: StoreRef, dst: StoreRef) -> None:
        """Make the store at ``src`` available at ``dst`` (which must not exist), durable
        and with the backend's configured settings."""

    def describe(self, ref: StoreRef) -> dict[str, Any]:
        """Where the store lives, for ``dataset info``: relative paths or names only, never
        secrets. Recorded in the dataset's metadata and handed back to :meth:`at`."""

    def at(self, location: Mapping[str, Any]) -> StorageBackend:
        """The backend that reaches stores :meth:`describe` described as ``location``
        (a server engine: the server, database and user recorded there, not the ones
        configured now; secrets come from the configuration or the environment).
        Every operation on an existing dataset goes through it. ``self`` when the
        location is the configured one or the engine keeps stores in dataset folders."""

    def check_table(self, name: str, columns: Sequence[str]) -> None:
        """StorageError (one sentence naming the table and the limit) if a table
        ``name`` with ``columns`` cannot be stored: too many columns, names too long or
        clashing. Registration asks before any work starts."""

    def health_check(self) -> HealthReport: ...

    def sqlalchemy_engine(self, ref: StoreRef, *, read_only: bool = True) -> Any:
        """A new SQLAlchemy ``Engine`` on the existing store ``ref`` whose tables are
        reachable by their plain names (``SELECT * FROM train``); with ``read_only`` the
        engine itself refuses writes. The backend imports sqlalchemy here, never at module
        import, and picks the URL, dialect and options; credentials come from its
        configuration or the environment, never from dataset metadata. The caller
        disposes of the engine. StorageError (one sentence) when the store is missing or
        the engine has no SQLAlchemy support."""


def quote_identifier(name: str) -> str:
    """Quote an identifier the SQL-standard way (``"a""b"``), valid in SQLite, DuckDB and
    PostgreSQL. NUL characters cannot be stored in identifiers and are refused."""
    if "\x00" in name:
        raise StorageError(f"Column or table name {name!r} contains a NUL character.")
    return '"' + name.replace('"', '""') + '"'


def head_rows(batches: Iterable[pa.RecordBatch], rows: int, schema: pa.Schema | None = None) -> pa.Table:
    """The first ``rows`` rows of a batch stream, reading no further than needed."""
    import pyarrow as pa

    taken: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        taken.append(batch)
        held += batch.num_rows
        if held >= rows:
            break
    return pa.Table.from_batches(taken, schema=schema).slice(0, rows)


def rebatch(batches: Iterable[pa.RecordBatch], size: int) -> Iterator[pa.RecordBatch]:
    """Yield batches of exactly ``size`` rows (the last may be shorter) from any stream."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        offset = 0
        while offset < batch.num_rows:
            take = min(size - held, batch.num_rows - offset)
            pending.append(batch.slice(offset, take))
            held += take
            offset += take
            if held == size:
                yield _combine(pending)
                pending, held = [], 0
    if held:
        yield _combine(pending)


def _combine(parts: list[pa.RecordBatch]) -> pa.RecordBatch:
    import pyarrow as pa

    if len(parts) == 1:
        return parts[0]
    return pa.Table.from_batches(parts).combine_chunks().to_batches()[0]
