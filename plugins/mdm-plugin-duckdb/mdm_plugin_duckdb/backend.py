"""DuckDB backend: one database file per dataset, ingested through DuckDB's Arrow scan.

A table is written by registering the incoming Arrow stream as a view and running
``CREATE TABLE ... AS SELECT * FROM`` it inside one transaction (no row-by-row INSERT);
it is read back as Arrow record batches of bounded size. Each table's Arrow schema is kept
in ``_mdm_schema`` and restored on read (:mod:`mdm_plugin_duckdb.arrow_types`).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from mdm_storagekit import (
    SCHEMA_TABLE,
    BaseStore,
    FileStoreBackend,
    IngestStream,
    PositionalParams,
    SchemaBook,
    TableStore,
    check_filter,
    limit_sql,
    project_schema,
    schema_without,
    where_sql,
)

from mdm_core.errors import StorageError, no_such_table
from mdm_core.storage import (
    BackendCapabilities,
    HealthReport,
    StoreRef,
    quote_identifier,
)
from mdm_plugin_duckdb import database
from mdm_plugin_duckdb.arrow_types import (
    check_supported,
    conform_batch,
    encode_batch,
    ingest_schema,
)

DB_FILE = "dataset.duckdb"
BOOK = SchemaBook(text_type="VARCHAR")
EMPTY_COLUMN = "_mdm_empty"
INGEST_PREFIX = "_mdm_ingest_"
_MISSING_TABLE = re.compile(r"Table with name (.+?) does not exist!")


def db_path(ref: StoreRef) -> Path:
    return ref.folder / DB_FILE


class DuckDBStore(BaseStore, TableStore):
    """An open DuckDB dataset database: one connection on the process-wide instance."""

    reserved_prefixes = (INGEST_PREFIX,)

    def __init__(self, path: Path, settings: Any, *, read_only: bool = False) -> None:
        self.path = path
        self.label = path.name
        self.read_only = read_only
        self._settings = settings
        self._con = database.acquire(path, read_only=read_only, config=database.config_for(settings))
        if not read_only:
            self._con.execute(BOOK.create_sql())

    # -- bookkeeping -------------------------------------------------------------------
    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run a bookkeeping query on its own cursor, so it works while the store's
        connection is busy streaming a write (e.g. features read ``train`` while writing
        ``train_features``). Never used inside an open write transaction."""
        cursor = self._con.cursor()
        try:
            return cursor.execute(sql, list(params)).fetchall()
        finally:
            cursor.close()

    def list_tables(self) -> list[str]:
        rows = self._query(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_catalog = current_database() ORDER BY table_name"
        )
        return self.user_tables([r[0] for r in rows])

    def table_schema(self, name: str) -> pa.Schema:
        self.require(name)
        if self._has_schema_table():
            rows = self._query(BOOK.select_sql(), [name])
            if rows:
                return BOOK.schema(rows[0][0])
        # A table MDM did not write: DuckDB's own Arrow mapping is the schema.
        return self._con.sql(f"SELECT * FROM {quote_identifier(name)} LIMIT 0").to_arrow_table().schema

    def _has_schema_table(self) -> bool:
        rows = self._query(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ?",
            [SCHEMA_TABLE],
        )
        return bool(rows)

    def row_count(self, name: str) -> int:
        self.require(name)
        return int(self._query(f"SELECT COUNT(*) FROM {quote_identifier(name)}")[0][0])

    # -- writing -----------------------------------------------------------------------
    def write_table(
        self, name: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch], *, replace: bool = False
    ) -> int:
        self.check_writable(name)
        if not replace and name in self.list_tables():
            raise StorageError(f"Table '{name}' already exists.")
        check_supported(schema)
        DuckDBBackend.check_table(name, schema.names)
        scanned = ingest_schema(schema)
        stream = IngestStream(name, schema.names, batches, lambda batch, _first: encode_batch(batch, scanned))
        table = quote_identifier(name)
        view = f"{INGEST_PREFIX}{uuid.uuid4().hex}"
        con = self._con
        with self._transaction(f"Writing table '{name}' to {self.path.name}"), stream.unwrapped():
            con.execute(f"DROP TABLE IF EXISTS {table}")
            if len(schema):
                con.register(view, stream.reader(scanned))
                try:
                    con.execute(f"CREATE TABLE {table} AS SELECT * FROM {quote_identifier(view)}")
                finally:
                    con.unregister(view)
            else:
                con.execute(f"CREATE TABLE {table} ({EMPTY_COLUMN} INTEGER)")
                stream.drain()
            con.execute(*BOOK.put(name, schema))
        return stream.rows

    @contextmanager
    def _transaction(self, what: str | None) -> Iterator[None]:
        """One transaction on the store's connection; DuckDB errors become a StorageError
        naming ``what`` (passed through unchanged when ``what`` is None)."""
        con = self._con
        con.execute("BEGIN TRANSACTION")
        try:
            yield
            con.execute("COMMIT")
        except BaseException as exc:
            con.execute("ROLLBACK")
            if what is not None and isinstance(exc, duckdb.Error):
                raise database.failure(what, exc, self._settings) from None
            raise

    def drop_table(self, name: str) -> None:
        self.check_writable(name)
        with self._transaction(None):
            self._con.execute(f"DROP TABLE IF EXISTS {quote_identifier(name)}")
            self._con.execute(*BOOK.delete(name))

    def drop_columns(self, name: str, columns: Sequence[str]) -> None:
        self.check_writable(name)
        kept = schema_without(name, self.table_schema(name), columns)
        with self._transaction(f"Dropping columns of table '{name}'"):
            for column in dict.fromkeys(columns):
                self._con.execute(f"ALTER TABLE {quote_identifier(name)} DROP COLUMN {quote_identifier(column)}")
            self._con.execute(*BOOK.update(name, kept))

    def rename_table(self, old: str, new: str) -> None:
        self.check_writable(new)
        self.require(old)
        if old == new:
            return
        with self._transaction(f"Renaming table '{old}' to '{new}'"):
            self._con.execute(f"DROP TABLE IF EXISTS {quote_identifier(new)}")
            self._con.execute(*BOOK.delete(new))
            self._con.execute(f"ALTER TABLE {quote_identifier(old)} RENAME TO {quote_identifier(new)}")
            self._con.execute(*BOOK.rename(old, new))

    # -- reading -----------------------------------------------------------------------
    def read_table(
        self,
        name: str,
        *,
        columns: Sequence[str] | None = None,
        where: Sequence[tuple[str, str, Any]] = (),
        limit: int | None = None,
        batch_size: int = 50_000,
    ) -> pa.RecordBatchReader:
        check_filter(where)
        full = self.table_schema(name)
        schema = project_schema(name, full, columns)
        if len(schema) == 0:
            return pa.RecordBatchReader.from_batches(schema, iter(()))
        params = PositionalParams()
        sql = f"SELECT {', '.join(quote_identifier(f.name) for f in schema)} FROM {quote_identifier(name)}"
        sql += where_sql(name, where, full.names, params) + limit_sql(limit, params)
        cursor = self._con.cursor()
        try:
            source = cursor.sql(sql, params=params.values or None).to_arrow_reader(int(batch_size))
        except duckdb.Error as exc:
            cursor.close()
            raise database.failure(f"Reading table '{name}'", exc, self._settings) from None

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                for batch in source:
                    if batch.num_rows:
                        yield conform_batch(batch, schema)
            except duckdb.Error as exc:
                raise database.failure(f"Reading table '{name}'", exc, self._settings) from None
            finally:
                cursor.close()

        return pa.RecordBatchReader.from_batches(schema, batches())

    def export_parquet(self, name: str, path: str | os.PathLike[str]) -> Path:
        """Write table ``name`` to a Parquet file with DuckDB's native writer; return the path."""
        self.require(name)
        target = Path(path)
        try:
            self._con.table(quote_identifier(name)).to_parquet(str(target))
        except duckdb.Error as exc:
            raise database.failure(f"Exporting table '{name}' to {target.name}", exc, self._settings) from None
        return target

    def execute_sql(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        cursor = self._con.cursor()
        try:
            relation = cursor.sql(sql, params=list(params) or None)
            return relation.to_arrow_table() if relation is not None else pa.table({})
        except duckdb.CatalogException as exc:
            missing = _MISSING_TABLE.search(str(exc))
            if missing:
                raise no_such_table(missing.group(1), self.list_tables()) from None
            raise database.failure("SQL", exc, self._settings) from None
        except duckdb.Error as exc:
            raise database.failure("SQL", exc, self._settings) from None
        finally:
            cursor.close()

    def close(self) -> None:
        con, self._con = getattr(self, "_con", None), None
        if con is not None:
            con.close()
            database.release(self.path)


class DuckDBBackend(FileStoreBackend):
    """The ``duckdb`` backend: stores are ``<dataset folder>/dataset.duckdb``."""

    name = "duckdb"
    engine = "DuckDB"
    file_name = DB_FILE
    sidecars = (".wal",)
    #: DuckDB keeps NaN, NULL, -0.0 and nanosecond timestamps apart.
    capabilities = BackendCapabilities()

    @property
    def _read_only_mode(self) -> bool:
        return str(getattr(self.settings, "access_mode", "READ_WRITE")).upper() == "READ_ONLY"

    def create_store(self, ref: StoreRef) -> DuckDBStore:
        if self._read_only_mode:
            raise StorageError("database.duckdb.access_mode is READ_ONLY; cannot create a DuckDB store.")
        return super().create_store(ref)

    def open_file(self, path: Path, *, read_only: bool, building: bool) -> DuckDBStore:
        return DuckDBStore(path, self.settings, read_only=read_only or self._read_only_mode)

    def check_closed(self, path: Path) -> None:
        if database.is_open(path):
            raise StorageError(f"DuckDB database {path.name} is still open in this process; close it first.")

    def prepare_move(self, path: Path) -> None:
        if Path(f"{path}.wal").exists():
            # Fold the write-ahead log into the file so one file moves. (A store with no
            # log is not opened at all: another process may be reading it.)
            con = duckdb.connect(str(path))
            try:
                con.execute("CHECKPOINT")
            finally:
                con.close()

    def describe(self, ref: StoreRef) -> dict[str, Any]:
        return {
            **super().describe(ref),
            "memory_limit": str(self.settings.memory_limit),
            "threads": int(self.settings.threads),
        }

    def sqlalchemy_engine(self, ref: StoreRef, *, read_only: bool = True) -> Any:
        """An engine of the ``duckdb_engine`` dialect (package duckdb-engine) on the store's
        file, with the connection options of ``database.duckdb``; ``read_only`` (or
        ``access_mode: READ_ONLY``) opens the file read-only, so DuckDB refuses writes.
        DuckDB admits one writer per file: the engine's connections share this process's
        instance of the file, which must then be open with the same ``read_only``."""
        from duckdb_engine import ConnectionWrapper
        from sqlalchemy import URL, create_engine

        path = self.db_path(ref)
        if not path.is_file():
            raise StorageError(f"{self.engine} database {path} does not exist.")
        read_only = read_only or self._read_only_mode
        config = database.config_for(self.settings)

        def connect() -> ConnectionWrapper:
            # duckdb_engine's own connect adds a user agent to the config, and DuckDB refuses
            # a second configuration of a file this process has open (see database.py).
            return ConnectionWrapper(duckdb.connect(str(path), read_only=read_only, config=config))

        return create_engine(URL.create("duckdb", database=str(path)), creator=connect)

    def health_check(self) -> HealthReport:
        try:
            con = duckdb.connect(":memory:", config=database.config_for(self.settings))
            try:
                version = con.execute("SELECT version()").fetchone()[0]
            finally:
                con.close()
        except duckdb.Error as exc:
            return HealthReport(False, self.name, {"error": str(exc)})
        return HealthReport(True, self.name, {"duckdb_version": version, "driver": "duckdb"})

