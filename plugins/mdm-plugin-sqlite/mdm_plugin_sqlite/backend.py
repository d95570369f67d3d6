"""SQLite backend: one database file per dataset, written by ADBC bulk ingest.

The Arrow schema of each table is kept in ``_mdm_schema``; columns SQLite cannot hold
natively are stored as text/integers (:mod:`mdm_plugin_sqlite.codec`) and cast back on read.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import adbc_driver_sqlite.dbapi as adbc_sqlite
import pyarrow as pa
from mdm_storagekit import (
    RESERVED_TABLES,
    BaseStore,
    FileStoreBackend,
    IngestStream,
    PositionalParams,
    SchemaBook,
    TableStore,
    check_extension_schema,
    check_filter,
    limit_sql,
    project_schema,
    schema_without,
    where_sql,
)

from mdm_core.checksum import checksum_parts
from mdm_core.errors import StorageError, no_such_table
from mdm_core.storage import (
    BackendCapabilities,
    HealthReport,
    StoreRef,
    quote_identifier,
)
from mdm_plugin_sqlite.codec import as_stored, decode_batch, encode_column, text_storage_type
from mdm_plugin_sqlite.retry import is_locked, locked_error, retry_locked

DB_FILE = "dataset.sqlite"
#: Tables stored as a view of their base joined by rowid to a side table of the added
#: columns (see :meth:`SQLiteStore.write_extension`).
EXTENSIONS_TABLE = "_mdm_extensions"
SIDE_PREFIX = "_mdm_ext_"
BOOK = SchemaBook()

_DECLARED = {pa.int64(): "INTEGER", pa.float64(): "REAL", pa.string(): "TEXT", pa.binary(): "BLOB"}
_SENTINEL = {pa.int64(): "CAST(0 AS INTEGER)", pa.float64(): "CAST(0.5 AS REAL)",
             pa.string(): "CAST('' AS TEXT)", pa.binary(): "CAST(x'' AS BLOB)"}

_MISSING_TABLE = re.compile(r"no such table: ([^\n]+)")
#: Tables spanning at least this many rowids are checksummed as two rowid ranges read at once.
PARALLEL_CHECKSUM_ROWS = 100_000
#: SQLITE_MAX_COLUMN of the SQLite the ADBC driver bundles: columns per table or view.
MAX_COLUMNS = 2000


def db_path(ref: StoreRef) -> Path:
    return ref.folder / DB_FILE


class SQLiteStore(BaseStore, TableStore):
    """An open SQLite dataset database (one ADBC connection, autocommit, explicit BEGIN).

    ``building`` is for a new database nobody else sees yet (:meth:`SQLiteBackend.create_store`):
    its rollback journal is kept in memory and nothing is synced, which roughly halves
    the cost of bulk writes; :meth:`SQLiteBackend.move_store` then switches the file to
    the configured ``journal_mode`` and makes it durable. ROLLBACK still works.

    Opening, each statement outside a transaction and each ``BEGIN IMMEDIATE`` wait
    ``busy_timeout`` for a lock, then are retried (:func:`mdm_plugin_sqlite.retry.retry_locked`):
    "database is locked" reaches the user only as one sentence naming that setting."""

    reserved_names = RESERVED_TABLES | {EXTENSIONS_TABLE}
    reserved_prefixes = ("sqlite_", SIDE_PREFIX)

    def __init__(self, path: Path, settings: Any, *, read_only: bool = False, building: bool = False) -> None:
        self.path = path
        self.label = path.name
        self.read_only = read_only
        self._busy_timeout = int(settings.busy_timeout)
        self._settings = settings
        # a reader of a WAL database creates -wal/-shm: note whether they were absent (see close)
        self._made_wal_files = read_only and not any(Path(f"{path}{s}").exists() for s in ("-wal", "-shm"))
        self._con = None
        self._con = self._retry(lambda: self._connect(settings, read_only=read_only, building=building))

    def _retry(self, step: Any) -> Any:
        return retry_locked(step, path=self.path, busy_timeout_ms=self._busy_timeout)

    def _connect(self, settings: Any, *, read_only: bool, building: bool) -> Any:
        """A new connection with the PRAGMAs applied (closed again if they fail)."""
        path = self.path
        uri = f"file:{quote(str(path))}?mode=ro" if read_only else str(path)
        try:
            con = adbc_sqlite.connect(uri, autocommit=True)
        except Exception as exc:
            if is_locked(exc):
                raise
            raise StorageError(f"Cannot open SQLite database {path}: {exc}") from exc
        if building:
            durability = ["PRAGMA journal_mode=MEMORY", "PRAGMA synchronous=OFF"]
        else:
            durability = [f"PRAGMA synchronous={_word(settings.synchronous)}"]
            if not read_only:  # only WAL persists in the file; other modes are per connection
                durability.append(f"PRAGMA journal_mode={_word(settings.journal_mode)}")
        pragmas = [
            f"PRAGMA busy_timeout={int(settings.busy_timeout)}",
            *durability,
            f"PRAGMA cache_size={int(settings.cache_size)}",
            f"PRAGMA temp_store={_word(settings.temp_store)}",
            f"PRAGMA mmap_size={int(settings.mmap_size)}",
        ]
        try:
            with con.cursor() as cur:
                for pragma in pragmas:
                    cur.execute(pragma)
                if not read_only:
                    cur.execute(BOOK.create_sql())
                    cur.execute(
                        f"CREATE TABLE IF NOT EXISTS {EXTENSIONS_TABLE} "
                        "(table_name TEXT PRIMARY KEY, base TEXT NOT NULL, side TEXT NOT NULL)"
                    )
        except BaseException:
            con.close()
            raise
        return con

    # -- bookkeeping -------------------------------------------------------------------
    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        def run() -> list[tuple]:
            with self._con.cursor() as cur:
                cur.execute(sql, list(params) if params else None)
                return cur.fetchall()

        return self._retry(run)

    def list_tables(self) -> list[str]:
        rows = self._query(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
        return self.user_tables([r[0] for r in rows])

    def _extensions(self) -> dict[str, tuple[str, str]]:
        """``{table: (base, side table)}`` of the tables stored as extensions."""
        if not self._query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [EXTENSIONS_TABLE]):
            return {}
        return {name: (base, side) for name, base, side in self._query(f"SELECT * FROM {EXTENSIONS_TABLE}")}

    def _check_not_extended(self, name: str, action: str) -> None:
        dependents = sorted(t for t, (base, _) in self._extensions().items() if base == name)
        if dependents:
            raise StorageError(f"Cannot {action} table '{name}': {', '.join(dependents)} extend(s) it; drop those first.")

    def table_schema(self, name: str) -> pa.Schema:
        rows = self._query(BOOK.select_sql(), [name])
        if rows:
            return BOOK.schema(rows[0][0])
        self.require(name)
        return self._inferred_schema(name)

    def _inferred_schema(self, name: str) -> pa.Schema:
        """Schema of a table MDM did not write (e.g. an MDM 1.x database): from declared types."""
        fields = []
        for _cid, col, decl, *_ in self._query(f"PRAGMA table_info({quote_identifier(name)})"):
            decl = (decl or "").upper()
            if "INT" in decl:
                typ = pa.int64()
            elif any(k in decl for k in ("REAL", "FLOA", "DOUB", "NUMERIC")):
                typ = pa.float64()
            elif "BLOB" in decl:
                typ = pa.binary()
            else:
                typ = pa.string()
            fields.append(pa.field(col, typ))
        return pa.schema(fields)

    def row_count(self, name: str) -> int:
        self.require(name)
        stored = self._extensions().get(name, (None, name))[1]  # an extension has its base's rows
        return int(self._query(f"SELECT COUNT(*) FROM {quote_identifier(stored)}")[0][0])

    # -- writing -----------------------------------------------------------------------
    def _check_writable(self, name: str, replace: bool) -> None:
        self.check_writable(name)
        if not replace and name in self.list_tables():
            raise StorageError(f"Table '{name}' already exists.")
        if replace:
            self._check_not_extended(name, "replace")

    def write_table(
        self, name: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch], *, replace: bool = False
    ) -> int:
        self._check_writable(name, replace)
        SQLiteBackend.check_table(name, schema.names)
        with self._transaction(f"Writing table '{name}'") as cur:
            self._drop(cur, name)
            written = self._ingest(cur, name, schema, batches, schema.names)
            self._record_schema(cur, name, schema)
        return written

    def write_extension(
        self, name: str, base: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch], *, replace: bool = False
    ) -> int:
        """Stores only the added columns, in side table ``_mdm_ext_<name>`` whose rowids
        match the base's, and makes ``name`` a view joining the two: the base's data is
        not copied. (A base whose rowids are not 1..n is copied as a plain table.)"""
        self._check_writable(name, replace)
        base_schema = self.table_schema(base)
        check_extension_schema(name, base, base_schema, schema)
        SQLiteBackend.check_table(name, schema.names)
        added = pa.schema(list(schema)[len(base_schema) :])
        if not len(added) or base in self._extensions() or not self._dense_rowids(base):
            return self.write_table(name, schema, batches, replace=replace)
        side = SIDE_PREFIX + name
        first = len(base_schema)

        def added_columns() -> Iterator[pa.RecordBatch]:
            for batch in batches:
                if batch.schema.names != schema.names:
                    raise StorageError(f"Batch columns {batch.schema.names} do not match table '{name}'.")
                yield pa.RecordBatch.from_arrays(batch.columns[first:], schema=added)

        with self._transaction(f"Writing table '{name}'") as cur:
            self._drop(cur, name)
            cur.execute(f"DROP TABLE IF EXISTS {quote_identifier(side)}")
            written = self._ingest(cur, side, added, added_columns(), added.names)
            expected = self.row_count(base)
            if written != expected:
                raise StorageError(f"Table '{name}' got {written} rows; its base '{base}' has {expected}.")
            cur.execute(_view_sql(name, base, side, schema, base_schema.names))
            cur.execute(f"INSERT INTO {EXTENSIONS_TABLE} (table_name, base, side) VALUES (?, ?, ?)", [name, base, side])
            self._record_schema(cur, name, schema)
        return written

    def drop_columns(self, name: str, columns: Sequence[str]) -> None:
        self.check_writable()
        self._check_not_extended(name, "drop columns of")
        kept = schema_without(name, self.table_schema(name), columns)
        extension = self._extensions().get(name)
        with self._transaction(f"Dropping columns of table '{name}'") as cur:
            if extension is not None:  # the side table keeps them; the view stops showing them
                base, side = extension
                cur.execute(f"DROP VIEW {quote_identifier(name)}")
                cur.execute(_view_sql(name, base, side, kept, self.table_schema(base).names))
            else:
                for column in dict.fromkeys(columns):
                    cur.execute(f"ALTER TABLE {quote_identifier(name)} DROP COLUMN {quote_identifier(column)}")
            self._record_schema(cur, name, kept)

    def drop_table(self, name: str) -> None:
        self.check_writable()
        self._check_not_extended(name, "drop")
        with self._transaction(f"Dropping table '{name}'") as cur:
            self._drop(cur, name)

    def rename_table(self, old: str, new: str) -> None:
        self.require(old)
        self._check_writable(new, replace=True)
        if old == new:
            return
        extension = self._extensions().get(old)
        with self._transaction(f"Renaming table '{old}' to '{new}'") as cur:
            self._drop(cur, new)
            if extension is not None:
                base, side = extension
                schema = self.table_schema(old)
                cur.execute(f"DROP VIEW {quote_identifier(old)}")
                cur.execute(f"ALTER TABLE {quote_identifier(side)} RENAME TO {quote_identifier(SIDE_PREFIX + new)}")
                cur.execute(_view_sql(new, base, SIDE_PREFIX + new, schema, self.table_schema(base).names))
                cur.execute(
                    f"UPDATE {EXTENSIONS_TABLE} SET table_name = ?, side = ? WHERE table_name = ?",
                    [new, SIDE_PREFIX + new, old],
                )
            else:  # SQLite rewrites the views of extensions that name it
                cur.execute(f"ALTER TABLE {quote_identifier(old)} RENAME TO {quote_identifier(new)}")
                cur.execute(f"UPDATE {EXTENSIONS_TABLE} SET base = ? WHERE base = ?", [new, old])
            cur.execute(*BOOK.rename(old, new))

    @contextmanager
    def _transaction(self, what: str) -> Iterator[Any]:
        """A write transaction; driver errors become a StorageError naming ``what``."""
        with self._con.cursor() as cur:
            self._retry(lambda: cur.execute("BEGIN IMMEDIATE"))
            try:
                yield cur
                cur.execute("COMMIT")
            except BaseException as exc:
                cur.execute("ROLLBACK")
                if isinstance(exc, adbc_sqlite.Error) and is_locked(exc):
                    raise locked_error(self.path, self._busy_timeout, self._busy_timeout / 1000) from None
                if isinstance(exc, adbc_sqlite.Error):
                    raise StorageError(f"{what} in {self.path.name} failed: {exc}") from None
                raise

    def _drop(self, cur: Any, name: str) -> None:
        """Drop table or extension ``name`` and its bookkeeping (inside a transaction)."""
        extension = self._extensions().get(name)
        if extension is not None:
            cur.execute(f"DROP VIEW IF EXISTS {quote_identifier(name)}")
            cur.execute(f"DROP TABLE IF EXISTS {quote_identifier(extension[1])}")
            cur.execute(f"DELETE FROM {EXTENSIONS_TABLE} WHERE table_name = ?", [name])
        else:
            cur.execute(f"DROP TABLE IF EXISTS {quote_identifier(name)}")
        cur.execute(*BOOK.delete(name))

    def _ingest(self, cur: Any, table: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch], names: list[str]) -> int:
        """Create ``table`` for ``schema`` and bulk-insert ``batches``; rows written. An
        exception raised by ``batches`` comes out unchanged."""
        storage_types = [text_storage_type(f.type) for f in schema]
        storage_schema = pa.schema([pa.field(f.name, t) for f, t in zip(schema, storage_types, strict=True)])
        columns = ", ".join(
            f"{quote_identifier(f.name)} {_DECLARED[t]}" for f, t in zip(schema, storage_types, strict=True)
        )

        def encode(batch: pa.RecordBatch, _first: int) -> pa.RecordBatch:
            arrays = [encode_column(batch.column(i), f.type) for i, f in enumerate(schema)]
            return pa.RecordBatch.from_arrays(arrays, schema=storage_schema)

        stream = IngestStream(table, names, batches, encode)
        quoted = quote_identifier(table)
        cur.execute(f"CREATE TABLE {quoted} ({columns})" if columns else f"CREATE TABLE {quoted} (_mdm_empty INTEGER)")
        with stream.unwrapped():
            if len(schema):
                cur.adbc_ingest(table, stream.reader(storage_schema), mode="append")
            else:
                stream.drain()
        return stream.rows

    def _record_schema(self, cur: Any, name: str, schema: pa.Schema) -> None:
        cur.execute(*BOOK.put(name, schema))

    def _dense_rowids(self, table: str) -> bool:
        """Whether the rowids of ``table`` are exactly 1..row count (rows never deleted)."""
        high, count = self._query(f"SELECT COALESCE(MAX(rowid), 0), COUNT(*) FROM {quote_identifier(table)}")[0]
        return int(high) == int(count)

    # -- reading -----------------------------------------------------------------------
    def read_table(
        self,
        name: str,
        *,
        columns: Sequence[str] | None = None,
        where: Sequence[tuple[str, str, Any]] = (),
        limit: int | None = None,
        batch_size: int = 50_000,
        rowids: tuple[int, int] | None = None,
        con: Any = None,
    ) -> pa.RecordBatchReader:
        """The table as a stream of batches (see :meth:`Store.read_table`); ``rowids``
        ``(after, up_to)`` keeps only rows whose rowid is in that range, read through
        ``con`` when given (both for :meth:`checksum`)."""
        self.require(name)
        check_filter(where)
        schema = project_schema(name, self.table_schema(name), columns)
        if len(schema) == 0:
            return pa.RecordBatchReader.from_batches(schema, iter(()))
        storage_types = [text_storage_type(f.type) for f in schema]
        extension = self._extensions().get(name)
        if extension is None:
            source, order = quote_identifier(name), "rowid"

            def ref(column: str) -> str:
                return quote_identifier(column)
        else:
            base, side = extension
            base_names = set(self.table_schema(base).names)
            source = f"{quote_identifier(base)} AS b JOIN {quote_identifier(side)} AS s ON s.rowid = b.rowid"
            order = "b.rowid"

            def ref(column: str) -> str:
                return ("b." if column in base_names else "s.") + quote_identifier(column)

        select_list = ", ".join(ref(f.name) for f in schema)
        params = PositionalParams(_bindable)
        sql = f"SELECT {select_list} FROM {source}"
        sql += where_sql(name, where, self.table_schema(name).names, params, ref=ref)
        if rowids is not None:
            sql += (" AND " if where else " WHERE ") + f"{order} > {int(rowids[0])} AND {order} <= {int(rowids[1])}"
        sql += f" ORDER BY {order}" + limit_sql(limit, params)
        # ADBC infers each column's type from the first batch; a typed sentinel row first
        # makes that inference exact even when a column starts with NULLs.
        sentinel = ", ".join(_SENTINEL[t] for t in storage_types)
        sql = f"SELECT {sentinel} UNION ALL SELECT * FROM ({sql})"
        cur = (con or self._con).cursor()
        cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(int(batch_size))})

        def start() -> Any:
            cur.execute(sql, params.values or None)
            return cur.fetch_record_batch()

        try:
            source = self._retry(start)
        except BaseException:
            cur.close()
            raise

        def batches() -> Iterator[pa.RecordBatch]:
            first = True
            try:
                for batch in source:
                    if first:
                        batch = batch.slice(1)
                        first = False
                    if batch.num_rows:
                        yield decode_batch(batch, schema)
            finally:
                cur.close()

        return pa.RecordBatchReader.from_batches(schema, batches())

    def checksum(self, name: str) -> str:
        """The content checksum of ``name``; a plain table spanning many rowids is read as
        two rowid ranges at once, each on a read-only connection of its own (SQLite and
        Arrow work without the GIL, so both cores read), and the two checksums merged."""
        self.require(name)
        if name in self._extensions():
            return super().checksum(name)
        low, high = self._query(
            f"SELECT COALESCE(MIN(rowid), 0), COALESCE(MAX(rowid), 0) FROM {quote_identifier(name)}")[0]
        if int(high) - int(low) < PARALLEL_CHECKSUM_ROWS:
            return super().checksum(name)
        middle = (int(low) + int(high)) // 2
        return checksum_parts([lambda: self._range(name, (int(low) - 1, middle)),
                               lambda: self._range(name, (middle, int(high)))])

    def _range(self, name: str, rowids: tuple[int, int]) -> Iterator[pa.RecordBatch]:
        """The batches of ``name`` whose rowids are in ``rowids``, read on a read-only
        connection of their own (closed at the end)."""
        con = self._retry(lambda: self._connect(self._settings, read_only=True, building=False))
        try:
            yield from self.read_table(name, rowids=rowids, con=con)
        finally:
            con.close()

    def execute_sql(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        def run(cur: Any) -> pa.Table:
            cur.execute(sql, [_bindable(p) for p in params] if params else None)
            return cur.fetch_arrow_table() if cur.description else pa.table({})

        with self._con.cursor() as cur:
            try:
                return self._retry(lambda: run(cur))
            except Exception as exc:
                if isinstance(exc, StorageError):
                    raise
                missing = _MISSING_TABLE.search(str(exc))
                if missing:
                    raise no_such_table(missing.group(1).strip(), self.list_tables()) from None
                raise StorageError(f"SQL failed: {exc}") from exc

    def close(self) -> None:
        """Close the connection. A read-only store whose opening created the WAL files
        leaves the folder as it found it: SQLite deletes them when the last connection
        closes, but a read-only connection cannot checkpoint, so it never does. While the
        WAL is empty and nothing else in this process has the files open, a read-write
        connection (``mode=rw``: never creates a database removed meanwhile) reads the
        schema and closes: SQLite deletes both files only if that is the last connection
        (its exclusive lock proves no other process has the database open), and the
        empty checkpoint writes nothing. Otherwise, or on any failure, the two files stay."""
        con, self._con = getattr(self, "_con", None), None
        if con is None:
            return
        con.close()
        if not self._made_wal_files:
            return
        self._made_wal_files = False
        try:
            if Path(f"{self.path}-wal").stat().st_size or _open_here(self.path):
                return
            tidy = adbc_sqlite.connect(f"file:{quote(str(self.path))}?mode=rw", autocommit=True)
            try:
                with tidy.cursor() as cur:
                    cur.execute("SELECT count(*) FROM sqlite_master")
                    cur.fetchall()
            finally:
                tidy.close()
        except (OSError, adbc_sqlite.Error):
            return


def _open_here(path: Path) -> bool:
    """True unless this process provably holds no file descriptor on the database or its
    WAL files. The process may hold two SQLite libraries (the ADBC driver's and the
    standard ``sqlite3`` module's); POSIX locks never conflict within one process, so
    neither library sees the other's connections: only the descriptors tell. Without
    ``/proc/self/fd`` (not Linux) the answer is True."""
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        return True
    names = {str(path.resolve()) + suffix for suffix in ("", "-wal", "-shm")}
    for fd in fds.iterdir():
        try:
            if str(fd.readlink()) in names:
                return True
        except OSError:  # closed since listed
            continue
    return False


class SQLiteBackend(FileStoreBackend):
    """The ``sqlite`` backend: stores are ``<dataset folder>/dataset.sqlite``."""

    name = "sqlite"
    engine = "SQLite"
    file_name = DB_FILE
    sidecars = ("-wal", "-shm", "-journal")
    #: SQLite itself turns a floating-point NaN into NULL and stores a REAL -0.0 as 0;
    #: timestamps are stored as text, so every unit is kept.
    capabilities = BackendCapabilities(nan_distinct_from_null=False, signed_zero_preserved=False, max_columns=MAX_COLUMNS)

    def as_stored(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        return as_stored(batch)

    def open_file(self, path: Path, *, read_only: bool, building: bool) -> SQLiteStore:
        return SQLiteStore(path, self.settings, read_only=read_only, building=building)

    def prepare_move(self, path: Path) -> None:
        con = sqlite3.connect(path)
        try:
            # A store fresh from create_store gets its configured journal mode here.
            con.execute(f"PRAGMA journal_mode={_word(self.settings.journal_mode)}")
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            con.close()

    def sqlalchemy_engine(self, ref: StoreRef, *, read_only: bool = True) -> Any:
        """An engine of SQLAlchemy's ``sqlite`` dialect on the store's file, waiting up to
        ``busy_timeout`` for locks. ``read_only`` opens the file with the URI
        ``file:<path>?mode=ro``: SQLite itself refuses every write."""
        from sqlalchemy import URL, create_engine

        path = self.db_path(ref)
        if not path.is_file():
            raise StorageError(f"{self.engine} database {path} does not exist.")
        if read_only:
            url = URL.create("sqlite", database=f"file:{quote(str(path.absolute()))}", query={"mode": "ro", "uri": "true"})
        else:
            url = URL.create("sqlite", database=str(path))
        return create_engine(url, connect_args={"timeout": int(self.settings.busy_timeout) / 1000})

    def health_check(self) -> HealthReport:
        con = sqlite3.connect(":memory:")
        try:
            version = con.execute("select sqlite_version()").fetchone()[0]
        finally:
            con.close()
        return HealthReport(True, self.name, {"sqlite_version": version, "driver": "adbc_driver_sqlite"})


def _word(value: str) -> str:
    """A pragma keyword value: letters only, so nothing else reaches the PRAGMA text."""
    text = str(value)
    if not text.isalpha():
        raise StorageError(f"Invalid SQLite pragma value {text!r}.")
    return text


def _bindable(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return value


def _view_sql(name: str, base: str, side: str, schema: pa.Schema, base_names: Sequence[str]) -> str:
    """The view presenting extension ``name``: its columns from the base or the side table."""
    in_base = set(base_names)
    columns = ", ".join(("b." if c in in_base else "s.") + quote_identifier(c) for c in schema.names)
    return (
        f"CREATE VIEW {quote_identifier(name)} AS SELECT {columns} FROM {quote_identifier(base)} AS b "
        f"JOIN {quote_identifier(side)} AS s ON s.rowid = b.rowid"
    )

