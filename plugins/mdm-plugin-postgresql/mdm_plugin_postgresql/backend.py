"""PostgreSQL backend: one schema per dataset (``mdm_<key>``) in the configured database.

Bulk data moves through ADBC (binary COPY in C, both ways; measured fastest, see README):
``write_table`` creates the table and ingests the Arrow stream in one transaction; a read
is ``COPY (SELECT ...) TO STDOUT`` streamed as Arrow batches of bounded size. Filter values
are bound server-side with ``set_config`` and read back with ``current_setting`` so no
value reaches the SQL text and the query still streams. Everything else (schemas,
bookkeeping, renames, counts) runs on a psycopg connection pool sized by ``pool_size`` and
``max_overflow``. Each table's Arrow schema and physical column names are kept in the
store's ``_mdm_schema`` table; a hidden ``_mdm_row`` column keeps insertion order.
"""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import adbc_driver_postgresql.dbapi as adbc_pg
import attrs
import numpy as np
import psycopg
import pyarrow as pa
from mdm_storagekit import (
    SCHEMA_TABLE,
    BackendBase,
    BaseStore,
    IngestStream,
    SchemaBook,
    TableStore,
    check_column_names,
    check_filter,
    limit_sql,
    project_schema,
    schema_without,
    where_sql,
)
from psycopg_pool import ConnectionPool, PoolTimeout

from mdm_core.checksum import checksum_batches, checksum_parts
from mdm_core.errors import StorageError, no_such_table
from mdm_core.storage import (
    BackendCapabilities,
    HealthReport,
    StoreRef,
    quote_identifier,
    rebatch,
)
from mdm_plugin_postgresql.arrow_types import (
    MAX_IDENTIFIER_BYTES,
    ROW_COLUMN,
    column_type,
    decode_batch,
    encode_column,
    physical_names,
)
from mdm_plugin_postgresql.connection import Target
from mdm_plugin_postgresql.prefetch import prefetch

SCHEMA_PREFIX = "mdm_"
#: PostgreSQL's 1,600 columns per table, less the hidden row-order column.
MAX_COLUMNS = 1599
#: Tables of at least this many pages are checksummed as two page ranges read at once.
PARALLEL_CHECKSUM_PAGES = 1_000
_MISSING_TABLE = re.compile(r'relation "(.+?)" does not exist')
_KEY = re.compile(r"^[A-Za-z0-9_]+$")
_DRIVER_ERRORS = (psycopg.Error, adbc_pg.Error)


def schema_name(ref: StoreRef) -> str:
    """The PostgreSQL schema holding the store of ``ref``."""
    if not _KEY.match(ref.key) or len(SCHEMA_PREFIX + ref.key) > MAX_IDENTIFIER_BYTES:
        raise StorageError(
            f"Store key {ref.key!r} must be letters, digits and underscores, at most "
            f"{MAX_IDENTIFIER_BYTES - len(SCHEMA_PREFIX)} characters."
        )
    return SCHEMA_PREFIX + ref.key


def schema_book(schema: str, param: Any = lambda _: "%s") -> SchemaBook:
    """The ``_mdm_schema`` table of the store in ``schema``; it also records each table's
    physical column names (JSON). Placeholders: psycopg's ``%s`` unless ``param``."""
    table = f"{quote_identifier(schema)}.{quote_identifier(SCHEMA_TABLE)}"
    return SchemaBook(table=table, text_type="text", blob_type="bytea", extra=("columns",), param=param)


class PostgreSQLStore(BaseStore, TableStore):
    """An open dataset schema. Holds no connection of its own: control statements borrow
    from the backend's pool, each bulk transfer opens its own ADBC connection."""

    def __init__(self, backend: PostgreSQLBackend, schema: str, *, read_only: bool = False) -> None:
        self.backend = backend
        self.schema = schema
        self.read_only = read_only
        self.label = f"schema {schema}"
        self.book = schema_book(schema)
        self._q = quote_identifier(schema)
        self._closed = False

    # -- plumbing ----------------------------------------------------------------------
    def _qualified(self, name: str) -> str:
        return f"{self._q}.{quote_identifier(name)}"

    def _fail(self, what: str, exc: BaseException) -> StorageError:
        return StorageError(f"{what} failed in schema {self.schema}: {self.backend.target.mask(str(exc)).strip()}")

    def _adbc(self) -> Any:
        self._check_open()
        try:
            con = adbc_pg.connect(self.backend.target.conninfo, autocommit=False)
        except _DRIVER_ERRORS as exc:
            raise self.backend.unavailable(exc) from None
        with con.cursor() as cur:
            cur.execute(f"SET search_path TO {self._q}")
            if self.read_only:
                cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        con.commit()
        return con

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"The store in schema {self.schema} is closed.")

    # -- bookkeeping -------------------------------------------------------------------
    def list_tables(self) -> list[str]:
        rows = self.backend.query(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY c.relname",
            [self.schema],
        )
        return self.user_tables([r[0] for r in rows])

    def _layout(self, name: str) -> tuple[pa.Schema, list[str], bool]:
        """(Arrow schema, physical column names, has the hidden row column) of ``name``."""
        self.require(name)
        rows = self.backend.query(self.book.select_sql(), [name])
        if rows:
            return self.book.schema(rows[0][0]), json.loads(rows[0][1]), True
        # A table MDM did not write: the driver's Arrow mapping is its schema.
        con = self._adbc()
        try:
            with con.cursor() as cur:
                cur.execute(f"SELECT * FROM {self._qualified(name)} LIMIT 0")
                schema = cur.fetch_arrow_table().schema
        finally:
            con.close()
        schema = pa.schema([pa.field(f.name, f.type) for f in schema])
        return schema, schema.names, False

    def table_schema(self, name: str) -> pa.Schema:
        return self._layout(name)[0]

    def row_count(self, name: str) -> int:
        self.require(name)
        return int(self.backend.query(f"SELECT count(*) FROM {self._qualified(name)}")[0][0])

    # -- writing -----------------------------------------------------------------------
    def check_writable(self, name: str | None = None) -> None:
        self._check_open()
        super().check_writable(name)
        if name is None:
            return
        if len(name.encode()) > MAX_IDENTIFIER_BYTES:
            raise StorageError(f"Table name '{name}' is longer than PostgreSQL's {MAX_IDENTIFIER_BYTES} bytes.")
        quote_identifier(name)

    def write_table(
        self, name: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch], *, replace: bool = False
    ) -> int:
        self.check_writable(name)
        self.backend.check_table(name, schema.names)
        if not replace and name in self.list_tables():
            raise StorageError(f"Table '{name}' already exists.")
        physical = physical_names(schema.names)
        types = [column_type(f.type) for f in schema]
        ingest_schema = pa.schema(
            [pa.field(ROW_COLUMN, pa.int64())]
            + [pa.field(p, t) for p, (_, t) in zip(physical, types, strict=True)]
        )
        columns = ", ".join(
            [f"{quote_identifier(ROW_COLUMN)} bigint NOT NULL"]
            + [f"{quote_identifier(p)} {ddl}" for p, (ddl, _) in zip(physical, types, strict=True)]
        )

        def encode(batch: pa.RecordBatch, first: int) -> pa.RecordBatch:
            order = pa.array(np.arange(first, first + batch.num_rows, dtype=np.int64))
            arrays = [order] + [encode_column(batch.column(i), f.type, f.name) for i, f in enumerate(schema)]
            return pa.RecordBatch.from_arrays(arrays, schema=ingest_schema)

        stream = IngestStream(name, schema.names, prefetch(batches), encode)
        con = self._adbc()
        try:
            with con.cursor() as cur, stream.unwrapped():
                cur.execute(f"DROP TABLE IF EXISTS {self._qualified(name)}")
                cur.execute(f"CREATE TABLE {self._qualified(name)} ({columns})")
                cur.adbc_ingest(name, stream.reader(ingest_schema), mode="append", db_schema_name=self.schema)
                sql, params = attrs.evolve(self.book, param=lambda i: f"${i}").put(name, schema, json.dumps(physical))
                cur.execute(sql, parameters=tuple(params))
            con.commit()
        except BaseException as exc:
            con.rollback()
            if isinstance(exc, _DRIVER_ERRORS):
                raise self._fail(f"Writing table '{name}'", exc) from None
            raise
        finally:
            con.close()
        return stream.rows

    def drop_table(self, name: str) -> None:
        self.check_writable(name)
        self.backend.run(
            [
                (f"DROP TABLE IF EXISTS {self._qualified(name)}", []),
                self.book.delete(name),
            ],
            what=f"Dropping table '{name}'",
        )

    def drop_columns(self, name: str, columns: Sequence[str]) -> None:
        self.check_writable(name)
        schema, physical, _ = self._layout(name)
        kept = schema_without(name, schema, columns)
        by_name = dict(zip(schema.names, physical, strict=True))
        self.backend.run(
            [
                (f"ALTER TABLE {self._qualified(name)} DROP COLUMN {quote_identifier(by_name[c])}", [])
                for c in dict.fromkeys(columns)
            ]
            + [self.book.update(name, kept, json.dumps([by_name[c] for c in kept.names]))],
            what=f"Dropping columns of table '{name}'",
        )

    def rename_table(self, old: str, new: str) -> None:
        self.check_writable(new)
        self.require(old)
        if old == new:
            return
        self.backend.run(
            [
                (f"DROP TABLE IF EXISTS {self._qualified(new)}", []),
                self.book.delete(new),
                (f"ALTER TABLE {self._qualified(old)} RENAME TO {quote_identifier(new)}", []),
                self.book.rename(old, new),
            ],
            what=f"Renaming table '{old}' to '{new}'",
        )

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
        return self._read(name, columns=columns, where=where, limit=limit, batch_size=batch_size, in_order=True)

    def checksum(self, name: str) -> str:
        """The generic checksum over an unordered scan (row order does not change it, and
        sorting a large table by its hidden row number costs as much as reading it). A
        large table on PostgreSQL 14 or later is read as two page ranges at once (TID
        range scans, each on a connection of its own) and the two checksums merged."""
        pages = self._pages(name)
        if pages < PARALLEL_CHECKSUM_PAGES:
            return checksum_batches(self._read(name, in_order=False))
        middle = pages // 2
        return checksum_parts([lambda: self._read(name, in_order=False, pages=(0, middle)),
                               lambda: self._read(name, in_order=False, pages=(middle, None))])

    def _pages(self, name: str) -> int:
        """The pages of table ``name`` when it can be read in page ranges (a plain table,
        PostgreSQL 14 or later), else 0."""
        self.require(name)
        rows = self.backend.query(
            "SELECT pg_relation_size(c.oid) / current_setting('block_size')::int, "
            "current_setting('server_version_num')::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND c.relkind = 'r'",
            [self.schema, name],
        )
        return int(rows[0][0]) if rows and int(rows[0][1]) >= 140000 else 0

    def _read(
        self,
        name: str,
        *,
        columns: Sequence[str] | None = None,
        where: Sequence[tuple[str, str, Any]] = (),
        limit: int | None = None,
        batch_size: int = 50_000,
        in_order: bool,
        pages: tuple[int, int | None] | None = None,
    ) -> pa.RecordBatchReader:
        """``pages`` ``(first, end)`` keeps the rows stored on pages first..end-1 (to the
        last page when ``end`` is None)."""
        check_filter(where)
        full, physical, ordered = self._layout(name)
        by_name = dict(zip(full.names, physical, strict=True))
        schema = project_schema(name, full, columns)
        if len(schema) == 0:
            return pa.RecordBatchReader.from_batches(schema, iter(()))
        settings: list[str] = []

        def bind(value: Any, column: str | None) -> str:
            # Bound server-side (set_config below) so the COPY query still streams.
            ddl = column_type(full.field(column).type)[0] if column is not None else "bigint"
            settings.append(_as_text(value))
            return f"current_setting('mdm.p{len(settings) - 1}')::{ddl}"

        sql = f"SELECT {', '.join(quote_identifier(by_name[f.name]) for f in schema)} FROM {self._qualified(name)}"
        sql += where_sql(name, where, by_name, bind, ref=lambda column: quote_identifier(by_name[column]))
        if pages is not None:
            sql += (" AND " if where else " WHERE ") + f"ctid >= '({int(pages[0])},0)'::tid"
            if pages[1] is not None:
                sql += f" AND ctid < '({int(pages[1])},0)'::tid"
        if ordered and in_order:
            sql += f" ORDER BY {quote_identifier(ROW_COLUMN)}"
        sql += limit_sql(limit, bind)
        con = self._adbc()
        try:
            cur = con.cursor()
            for i, text in enumerate(settings):
                cur.execute("SELECT set_config($1, $2, false)", parameters=(f"mdm.p{i}", text))
                cur.fetchall()
            cur.execute(sql)
            source = cur.fetch_record_batch()
        except _DRIVER_ERRORS as exc:
            con.close()
            raise self._fail(f"Reading table '{name}'", exc) from None
        except BaseException:
            con.close()
            raise

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                for batch in rebatch(source, int(batch_size)):
                    yield decode_batch(batch, schema)
            finally:
                cur.close()
                con.close()

        return pa.RecordBatchReader.from_batches(schema, batches())

    def execute_sql(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        """Run ``sql`` with ``search_path`` set to this store's schema; parameters are
        ``$1, $2, ...``. A read-only store runs it in a read-only transaction."""
        con = self._adbc()
        try:
            with con.cursor() as cur:
                cur.execute(sql, parameters=tuple(params) if params else None)
                result = cur.fetch_arrow_table() if cur.description else pa.table({})
            con.commit()
            return result
        except _DRIVER_ERRORS as exc:
            missing = _MISSING_TABLE.search(str(exc))
            if missing:
                raise no_such_table(missing.group(1), self.list_tables()) from None
            raise self._fail("SQL", exc) from None
        finally:
            con.close()

    def close(self) -> None:
        self._closed = True


class PostgreSQLBackend(BackendBase):
    """The ``postgresql`` backend: a store is the schema ``mdm_<key>``; creating one needs
    the CREATE privilege on the database, not CREATEDB."""

    name = "postgresql"
    #: PostgreSQL keeps NaN and NULL apart; timestamps are microseconds and text cannot
    #: hold NUL (such values are refused, never changed).
    capabilities = BackendCapabilities(timestamp_unit="us", nul_in_text=False, max_columns=MAX_COLUMNS)

    def __init__(self, settings: Any, *, timeout: int | None = 30, target: Target | None = None) -> None:
        self.settings = settings
        self.timeout = timeout
        self.target = target or Target.from_settings(settings, timeout=timeout)
        self._pool: ConnectionPool | None = None
        self._bound: dict[tuple, PostgreSQLBackend] = {}

    # -- connections -------------------------------------------------------------------
    @property
    def pool(self) -> ConnectionPool:
        """The psycopg pool: ``pool_size`` connections kept, up to ``max_overflow`` more; a
        caller waits at most ``pool_timeout`` seconds for a free one (then :meth:`exhausted`)
        and connections older than ``pool_recycle`` seconds are replaced."""
        if self._pool is None:
            # One direct connection first: an unreachable server fails now with libpq's
            # reason instead of the pool retrying until its timeout.
            try:
                psycopg.connect(self.target.conninfo).close()
            except psycopg.Error as exc:
                raise self.unavailable(exc) from None
            size = max(int(self.settings.pool_size), 1)
            pool = ConnectionPool(
                self.target.conninfo,
                min_size=size,
                max_size=size + max(int(self.settings.max_overflow), 0),
                kwargs={"autocommit": True},
                open=False,
                name="mdm-postgresql",
                timeout=float(self.settings.pool_timeout),
                max_lifetime=max(float(self.settings.pool_recycle), 1.0),
            )
            try:
                pool.open(wait=True, timeout=float(self.target_timeout))
            except Exception as exc:
                pool.close()
                raise self.unavailable(exc) from None
            self._pool = pool
            weakref.finalize(self, pool.close)
        return self._pool

    @property
    def target_timeout(self) -> float:
        return float(psycopg.conninfo.conninfo_to_dict(self.target.conninfo).get("connect_timeout") or 30)

    def unavailable(self, exc: BaseException) -> StorageError:
        """The sentence for a server MDM cannot reach: where, why (libpq's reason, password
        masked) and the settings to check; libpq gives up after ``connect_timeout``
        (``database.connection_timeout``)."""
        where = self.target.public()
        recorded = " (where the dataset was registered)" if self.target.recorded else ""
        lines = self.target.mask(str(exc)).strip().splitlines() or [type(exc).__name__]
        reason = lines[0].rsplit("failed: ", 1)[-1].strip().rstrip(".")  # libpq's own words, not its preamble
        return StorageError(
            f"Cannot connect to PostgreSQL at {where.get('host', 'localhost')}:{where.get('port', 5432)} "
            f"database {where.get('dbname', '?')} as {where.get('user', 'the default user')}{recorded} "
            f"({reason}); start the server or fix database.postgresql.host/port/dsn, and raise "
            f"database.connection_timeout (now {self.target_timeout:g} s) for a slow network."
        )

    def exhausted(self) -> StorageError:
        """The sentence for a pool with no free connection within ``pool_timeout``."""
        settings = self.settings
        limit = max(int(settings.pool_size), 1) + max(int(settings.max_overflow), 0)
        return StorageError(
            f"All {limit} PostgreSQL connections of MDM's pool stayed busy for "
            f"{float(settings.pool_timeout):g} s; close unused clients or raise database.postgresql.pool_size "
            f"(now {settings.pool_size}), max_overflow (now {settings.max_overflow}) or pool_timeout."
        )

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run one statement on a pooled connection and return its rows."""
        try:
            with self.pool.connection() as conn:
                cur = conn.execute(sql, list(params))
                return cur.fetchall() if cur.description else []
        except PoolTimeout:
            raise self.exhausted() from None
        except psycopg.Error as exc:
            raise StorageError(f"PostgreSQL query failed: {self.target.mask(str(exc)).strip()}") from None

    def run(self, statements: Sequence[tuple[str, Sequence[Any]]], *, what: str) -> None:
        """Run ``statements`` in one transaction on a pooled connection."""
        try:
            with self.pool.connection() as conn, conn.transaction():
                for sql, params in statements:
                    conn.execute(sql, list(params))
        except PoolTimeout:
            raise self.exhausted() from None
        except psycopg.Error as exc:
            raise StorageError(f"{what} failed: {self.target.mask(str(exc)).strip()}") from None

    def close(self) -> None:
        """Close the connection pools (they are also closed when the backend is collected)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        for bound in self._bound.values():
            bound.close()

    # -- stores ------------------------------------------------------------------------
    def store_exists(self, ref: StoreRef) -> bool:
        return bool(self.query("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema_name(ref)]))

    def create_store(self, ref: StoreRef) -> PostgreSQLStore:
        schema = schema_name(ref)
        if self.store_exists(ref):
            raise StorageError(f"PostgreSQL schema {schema} already exists.")
        q = quote_identifier(schema)
        self.run(
            [
                (f"CREATE SCHEMA {q}", []),
                (schema_book(schema).create_sql(), []),
            ],
            what=f"Creating schema {schema}",
        )
        return PostgreSQLStore(self, schema)

    def open_store(self, ref: StoreRef, *, read_only: bool = False) -> PostgreSQLStore:
        if not self.store_exists(ref):
            raise StorageError(f"PostgreSQL schema {schema_name(ref)} does not exist.")
        return PostgreSQLStore(self, schema_name(ref), read_only=read_only)

    def drop_store(self, ref: StoreRef) -> None:
        schema = schema_name(ref)
        self.run([(f"DROP SCHEMA IF EXISTS {quote_identifier(schema)} CASCADE", [])], what=f"Dropping schema {schema}")

    def move_store(self, src: StoreRef, dst: StoreRef) -> None:
        source, target = schema_name(src), schema_name(dst)
        if self.store_exists(dst):
            raise StorageError(f"PostgreSQL schema {target} already exists.")
        if not self.store_exists(src):
            raise StorageError(f"PostgreSQL schema {source} does not exist.")
        self.run(
            [(f"ALTER SCHEMA {quote_identifier(source)} RENAME TO {quote_identifier(target)}", [])],
            what=f"Renaming schema {source} to {target}",
        )

    def describe(self, ref: StoreRef) -> dict[str, Any]:
        return {"schema": schema_name(ref), **self.target.public()}

    def at(self, location: Mapping[str, Any]) -> PostgreSQLBackend:
        """The backend for stores on the server, database and user recorded in
        ``location``; the configured password applies only where host, port and user
        are the configured ones (else libpq's ``PGPASSWORD``/``~/.pgpass``)."""
        target = self.target.moved_to(location)
        if target == self.target:
            return self
        key = (target.conninfo,)
        if key not in self._bound:
            self._bound[key] = PostgreSQLBackend(self.settings, timeout=self.timeout, target=target)
        return self._bound[key]

    def sqlalchemy_engine(self, ref: StoreRef, *, read_only: bool = True) -> Any:
        """An engine of SQLAlchemy's ``postgresql+psycopg`` dialect connecting like this
        backend (:class:`Target`: the password stays out of the engine's URL), sessions on
        ``search_path`` = the store's schema, pooled as ``pool_size``, ``max_overflow``,
        ``pool_timeout`` and ``pool_recycle`` say. ``read_only`` sets
        ``default_transaction_read_only``, so the server refuses writes."""
        from sqlalchemy import URL, create_engine

        schema = schema_name(ref)
        if not self.store_exists(ref):
            raise StorageError(f"PostgreSQL schema {schema} does not exist.")
        conninfo = self.target.conninfo
        options = [psycopg.conninfo.conninfo_to_dict(conninfo).get("options"), f"-c search_path={quote_identifier(schema)}"]
        if read_only:
            options.append("-c default_transaction_read_only=on")
        where = self.target.public()
        port = str(where.get("port", ""))
        url = URL.create("postgresql+psycopg", username=where.get("user"), host=where.get("host"),
                         port=int(port) if port.isdigit() else None, database=where.get("dbname"))
        return create_engine(
            url,
            creator=lambda: psycopg.connect(conninfo, options=" ".join(o for o in options if o)),
            pool_size=max(int(self.settings.pool_size), 1),
            max_overflow=max(int(self.settings.max_overflow), 0),
            pool_timeout=float(self.settings.pool_timeout),
            pool_recycle=int(self.settings.pool_recycle),
        )

    def check_table(self, name: str, columns: Sequence[str]) -> None:
        if len(name.encode()) > MAX_IDENTIFIER_BYTES:
            raise StorageError(f"Table name '{name}' is longer than PostgreSQL's {MAX_IDENTIFIER_BYTES} bytes.")
        check_column_names(
            name, columns, engine="PostgreSQL", max_columns=self.capabilities.max_columns, case_insensitive=False
        )

    def health_check(self) -> HealthReport:
        details: dict[str, Any] = dict(self.target.public())
        try:
            with psycopg.connect(self.target.conninfo, autocommit=True) as conn:
                details["server_version"] = conn.execute("SHOW server_version").fetchone()[0]
                details["can_create_schema"] = conn.execute(
                    "SELECT has_database_privilege(current_database(), 'CREATE')"
                ).fetchone()[0]
        except psycopg.Error as exc:
            details["error"] = self.target.mask(str(exc)).strip()
            return HealthReport(False, self.name, details)
        details["driver"] = "psycopg + adbc_driver_postgresql"
        return HealthReport(bool(details["can_create_schema"]), self.name, details)


def _as_text(value: Any) -> str:
    """A filter value as the text PostgreSQL parses back to the column's type."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value).replace("inf", "Infinity").replace("nan", "NaN")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    return str(value)
