"""DuckDB backend: one database file per dataset, ingested through DuckDB's Arrow scan.

A table is written by registering the incoming Arrow stream as a view and running
``CREATE TABLE ... AS SELECT * FROM`` it inside one transaction (no row-by-row INSERT);
it is read back as Arrow record batches of bounded size. Each table's Arrow schema is kept
in ``_mdm_schema`` and restored on read (:mod:`mdm_plugin_duckdb.arrow_types`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from mdm_core.errors import StorageError
from mdm_core.storage import (
    BaseStore,
    HealthReport,
    StoreRef,
    check_column_names,
    check_filter,
    project_schema,
    quote_identifier,
    schema_without,
)
from mdm_plugin_duckdb import database
from mdm_plugin_duckdb.arrow_types import (
    check_supported,
    conform_batch,
    encode_batch,
    ingest_schema,
)

DB_FILE = "dataset.duckdb"
SCHEMA_TABLE = "_mdm_schema"
INTERNAL_TABLES = {SCHEMA_TABLE, "_metadata", "_columns", "_statistics"}
EMPTY_COLUMN = "_mdm_empty"


def db_path(ref: StoreRef) -> Path:
    return ref.folder / DB_FILE


class DuckDBStore(BaseStore):
    """An open DuckDB dataset database: one connection on the process-wide instance."""

    def __init__(self, path: Path, settings: Any, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self._con = database.acquire(path, read_only=read_only, config=database.config_for(settings))
        if not read_only:
            self._con.execute(
                f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} "
                "(table_name VARCHAR PRIMARY KEY, arrow_schema BLOB NOT NULL)"
            )

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
        return [r[0] for r in rows if r[0] not in INTERNAL_TABLES]

    def _require(self, name: str) -> None:
        if name not in self.list_tables():
            raise StorageError(f"Table '{name}' does not exist in {self.path.name}.")

    def table_schema(self, name: str) -> pa.Schema:
        self._require(name)
        if self._has_schema_table():
            rows = self._query(f"SELECT arrow_schema FROM {SCHEMA_TABLE} WHERE table_name = ?", [name])
            if rows:
                return pa.ipc.read_schema(pa.py_buffer(rows[0][0]))
        # A table MDM did not write: DuckDB's own Arrow mapping is the schema.
        return self._con.sql(f"SELECT * FROM {quote_identifier(name)} LIMIT 0").to_arrow_table().schema

    def _has_schema_table(self) -> bool:
        rows = self._query(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ?",
            [SCHEMA_TABLE],
        )
        return bool(rows)

    def row_count(self, name: str) -> int:
        self._require(name)
        return int(self._query(f"SELECT COUNT(*) FROM {quote_identifier(name)}")[0][0])

    # -- writing -----------------------------------------------------------------------
    def write_table(
        self, name: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch], *, replace: bool = False
    ) -> int:
        self._check_writable(name)
        if not replace and name in self.list_tables():
            raise StorageError(f"Table '{name}' already exists.")
        check_supported(schema)
        check_table_columns(name, schema.names)
        scanned = ingest_schema(schema)
        written = 0
        failure: list[BaseException] = []

        def checked() -> Iterator[pa.RecordBatch]:
            nonlocal written
            try:
                for batch in batches:
                    if batch.schema.names != schema.names:
                        raise StorageError(f"Batch columns {batch.schema.names} do not match table '{name}'.")
                    written += batch.num_rows
                    yield encode_batch(batch, scanned)
            except BaseException as exc:
                failure.append(exc)
                raise

        table = quote_identifier(name)
        view = f"_mdm_ingest_{uuid.uuid4().hex}"
        con = self._con
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"DROP TABLE IF EXISTS {table}")
            if len(schema):
                con.register(view, pa.RecordBatchReader.from_batches(scanned, checked()))
                try:
                    con.execute(f"CREATE TABLE {table} AS SELECT * FROM {quote_identifier(view)}")
                finally:
                    con.unregister(view)
            else:
                con.execute(f"CREATE TABLE {table} ({EMPTY_COLUMN} INTEGER)")
                for _ in checked():
                    pass
            con.execute(
                f"INSERT OR REPLACE INTO {SCHEMA_TABLE} (table_name, arrow_schema) VALUES (?, ?)",
                [name, schema.serialize().to_pybytes()],
            )
            con.execute("COMMIT")
        except BaseException as exc:
            con.execute("ROLLBACK")
            if failure:
                raise failure[0] from None
            if isinstance(exc, duckdb.Error):
                raise StorageError(f"Writing table '{name}' to {self.path.name} failed: {exc}") from None
            raise
        return written

    def _check_writable(self, name: str) -> None:
        if self.read_only:
            raise StorageError(f"{self.path.name} is open read-only.")
        if name in INTERNAL_TABLES or name.startswith("_mdm_ingest_"):
            raise StorageError(f"Table name '{name}' is reserved.")

    def drop_table(self, name: str) -> None:
        self._check_writable(name)
        con = self._con
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"DROP TABLE IF EXISTS {quote_identifier(name)}")
            con.execute(f"DELETE FROM {SCHEMA_TABLE} WHERE table_name = ?", [name])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def drop_columns(self, name: str, columns: Sequence[str]) -> None:
        self._check_writable(name)
        kept = schema_without(name, self.table_schema(name), columns)
        con = self._con
        con.execute("BEGIN TRANSACTION")
        try:
            for column in dict.fromkeys(columns):
                con.execute(f"ALTER TABLE {quote_identifier(name)} DROP COLUMN {quote_identifier(column)}")
            con.execute(f"UPDATE {SCHEMA_TABLE} SET arrow_schema = ? WHERE table_name = ?", [kept.serialize().to_pybytes(), name])
            con.execute("COMMIT")
        except BaseException as exc:
            con.execute("ROLLBACK")
            if isinstance(exc, duckdb.Error):
                raise StorageError(f"Dropping columns of table '{name}' failed: {exc}") from None
            raise

    def rename_table(self, old: str, new: str) -> None:
        self._check_writable(new)
        self._require(old)
        if old == new:
            return
        con = self._con
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"DROP TABLE IF EXISTS {quote_identifier(new)}")
            con.execute(f"DELETE FROM {SCHEMA_TABLE} WHERE table_name = ?", [new])
            con.execute(f"ALTER TABLE {quote_identifier(old)} RENAME TO {quote_identifier(new)}")
            con.execute(f"UPDATE {SCHEMA_TABLE} SET table_name = ? WHERE table_name = ?", [new, old])
            con.execute("COMMIT")
        except BaseException as exc:
            con.execute("ROLLBACK")
            if isinstance(exc, duckdb.Error):
                raise StorageError(f"Renaming table '{old}' to '{new}' failed: {exc}") from None
            raise

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
        sql = f"SELECT {', '.join(quote_identifier(f.name) for f in schema)} FROM {quote_identifier(name)}"
        params: list[Any] = []
        clauses = []
        for column, op, value in where:
            if column not in full.names:
                raise StorageError(f"Table '{name}' has no column {column!r}.")
            if op in ("is null", "is not null"):
                clauses.append(f"{quote_identifier(column)} {op.upper()}")
            else:
                clauses.append(f"{quote_identifier(column)} {op} ?")
                params.append(value)
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        cursor = self._con.cursor()
        try:
            source = cursor.sql(sql, params=params or None).to_arrow_reader(int(batch_size))
        except duckdb.Error as exc:
            cursor.close()
            raise StorageError(f"Reading table '{name}' failed: {exc}") from None

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                for batch in source:
                    if batch.num_rows:
                        yield conform_batch(batch, schema)
            finally:
                cursor.close()

        return pa.RecordBatchReader.from_batches(schema, batches())

    def export_parquet(self, name: str, path: str | os.PathLike[str]) -> Path:
        """Write table ``name`` to a Parquet file with DuckDB's native writer; return the path."""
        self._require(name)
        target = Path(path)
        try:
            self._con.table(quote_identifier(name)).to_parquet(str(target))
        except duckdb.Error as exc:
            raise StorageError(f"Exporting table '{name}' to {target.name} failed: {exc}") from None
        return target

    def execute_sql(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        cursor = self._con.cursor()
        try:
            relation = cursor.sql(sql, params=list(params) or None)
            return relation.to_arrow_table() if relation is not None else pa.table({})
        except duckdb.Error as exc:
            raise StorageError(f"SQL failed: {exc}") from None
        finally:
            cursor.close()

    def close(self) -> None:
        con, self._con = getattr(self, "_con", None), None
        if con is not None:
            con.close()
            database.release(self.path)


class DuckDBBackend:
    """The ``duckdb`` backend: stores are ``<dataset folder>/dataset.duckdb``."""

    name = "duckdb"
    #: DuckDB keeps NaN and NULL apart in floating-point columns.
    nan_distinct_from_null = True

    def __init__(self, settings: Any) -> None:
        self.settings = settings

    @property
    def _read_only_mode(self) -> bool:
        return str(getattr(self.settings, "access_mode", "READ_WRITE")).upper() == "READ_ONLY"

    def create_store(self, ref: StoreRef) -> DuckDBStore:
        if self._read_only_mode:
            raise StorageError("database.duckdb.access_mode is READ_ONLY; cannot create a DuckDB store.")
        path = db_path(ref)
        if path.exists():
            raise StorageError(f"DuckDB database {path} already exists.")
        ref.folder.mkdir(parents=True, exist_ok=True)
        return DuckDBStore(path, self.settings)

    def open_store(self, ref: StoreRef, *, read_only: bool = False) -> DuckDBStore:
        path = db_path(ref)
        if not path.is_file():
            raise StorageError(f"DuckDB database {path} does not exist.")
        return DuckDBStore(path, self.settings, read_only=read_only or self._read_only_mode)

    def store_exists(self, ref: StoreRef) -> bool:
        return db_path(ref).is_file()

    def drop_store(self, ref: StoreRef) -> None:
        path = db_path(ref)
        if database.is_open(path):
            raise StorageError(f"DuckDB database {path.name} is still open in this process; close it first.")
        for suffix in ("", ".wal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    def move_store(self, src: StoreRef, dst: StoreRef) -> None:
        source, target = db_path(src), db_path(dst)
        if target.exists():
            raise StorageError(f"DuckDB database {target} already exists.")
        if not source.is_file():
            raise StorageError(f"DuckDB database {source} does not exist.")
        if database.is_open(source):
            raise StorageError(f"DuckDB database {source.name} is still open in this process; close it first.")
        wal = Path(f"{source}.wal")
        if wal.exists():
            # Fold the write-ahead log into the file so one file moves. (A store with no
            # log is not opened at all: another process may be reading it.)
            con = duckdb.connect(str(source))
            try:
                con.execute("CHECKPOINT")
            finally:
                con.close()
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        wal.unlink(missing_ok=True)

    def describe(self, ref: StoreRef) -> dict[str, Any]:
        path = db_path(ref)
        return {
            "file": DB_FILE,
            "size_bytes": path.stat().st_size if path.exists() else None,
            "memory_limit": str(self.settings.memory_limit),
            "threads": int(self.settings.threads),
        }

    def at(self, location: Mapping[str, Any]) -> DuckDBBackend:
        """Stores live in dataset folders: every location is reached the same way."""
        return self

    def check_table(self, name: str, columns: Sequence[str]) -> None:
        check_table_columns(name, columns)

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


def check_table_columns(name: str, columns: Sequence[str]) -> None:
    check_column_names(name, columns, engine="DuckDB", max_columns=None, case_insensitive=True)
