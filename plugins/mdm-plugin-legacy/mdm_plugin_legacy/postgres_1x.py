"""Reading a 1.x PostgreSQL dataset (database ``mdm_<name>``) with psycopg 3, read-only.

Every session is ``read_only`` (the server refuses writes). Tables are the ones 1.x's
unqualified names reach: tables visible through the session's ``search_path`` outside
the system schemas (1.x wrote them with pandas ``to_sql`` and no schema, normally into
``public``). Identifiers are always quoted; nothing is pasted into SQL but quoted names
and integers. A read uses its own connection and a server-side cursor, fetching
``batch_size`` rows at a time.

Types, from the catalog (pandas ``to_sql`` through SQLAlchemy wrote BIGINT, DOUBLE
PRECISION, TEXT, BOOLEAN, TIMESTAMP [WITH TIME ZONE], and INTEGER/SMALLINT/REAL/DATE/TIME
for narrower dtypes): int2/int4/int8 -> int64, float4/float8 -> float64, text/varchar/
char -> string, boolean -> bool, timestamp -> ``timestamp[us]``, timestamptz ->
``timestamp[us, UTC]``, date -> date32, time -> ``time64[us]``, bytea -> binary,
numeric(p, s) with p <= 38 -> decimal128(p, s); anything else (unconstrained numeric,
json, uuid, interval, ...) is read as its PostgreSQL text form (string), exactly.

The password (from the dataset's YAML or the environment) is used to connect and is
masked in every message (:func:`mdm_core.secrets.mask`).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import attrs
import pyarrow as pa

from mdm_core.errors import StorageError
from mdm_core.secrets import mask, remember
from mdm_core.storage import quote_identifier
from mdm_plugin_legacy.databases_1x import LegacyDatabase

_SIMPLE = {
    "int2": pa.int64(), "int4": pa.int64(), "int8": pa.int64(),
    "float4": pa.float64(), "float8": pa.float64(),
    "text": pa.string(), "varchar": pa.string(), "bpchar": pa.string(), "name": pa.string(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us"), "timestamptz": pa.timestamp("us", "UTC"),
    "date": pa.date32(), "time": pa.time64("us"),
    "bytea": pa.binary(),
}
_cursor_ids = itertools.count()


@attrs.frozen
class _Column:
    name: str
    type: pa.DataType
    expr: str


def column_for(name: str, typname: str, typmod: int) -> _Column:
    """How column ``name`` of PostgreSQL type ``typname`` (modifier ``typmod``) is read."""
    col = quote_identifier(name)
    if typname in _SIMPLE:
        return _Column(name, _SIMPLE[typname], col)
    if typname == "numeric" and typmod >= 4:
        precision, scale = ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF
        if 0 < precision <= 38 and scale <= precision:
            return _Column(name, pa.decimal128(precision, scale), col)
    return _Column(name, pa.string(), f"{col}::text")


class PostgresDatabase1x(LegacyDatabase):
    """The PostgreSQL database of a 1.x dataset, read-only (see the module doc)."""

    engine = "postgresql"

    def __init__(self, location: Any, *, connect_timeout: int = 10) -> None:
        super().__init__()
        try:
            import psycopg
        except ImportError:
            raise StorageError("Reading 1.x PostgreSQL datasets needs the psycopg package.") from None
        self._psycopg = psycopg
        self.location = location
        self._timeout = connect_timeout
        self._columns: dict[str, list[_Column]] = {}
        self._relations: dict[str, tuple[str, int]] = {}
        self._con = self._connect()

    def _connect(self) -> Any:
        remember(os.environ.get("PGPASSWORD"))  # libpq may use it: masked in messages too
        try:
            con = self._psycopg.connect(**self.location.connect_params(), connect_timeout=self._timeout,
                                        application_name="mdm-legacy-reader")
        except self._psycopg.Error as exc:
            raise StorageError(f"Cannot connect to the 1.x {self._where()}: {_message(exc)}") from None
        con.read_only = True
        return con

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple]:
        try:
            with self._con.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        except self._psycopg.Error as exc:
            raise StorageError(f"Reading the 1.x {self._where()} failed: {_message(exc)}") from None
        finally:
            self._con.rollback()

    def _all_tables(self) -> list[str]:
        rows = self._rows(
            "SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') AND pg_catalog.pg_table_is_visible(c.oid) "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY c.oid"
        )
        self._relations = {name: (schema, int(oid)) for oid, schema, name in rows}
        return [name for _, _, name in rows]

    def _qualified(self, name: str) -> str:
        schema, _ = self._relations[name]
        return f"{quote_identifier(schema)}.{quote_identifier(name)}"

    def _count(self, name: str) -> int:
        return int(self._rows(f"SELECT count(*) FROM {self._qualified(name)}")[0][0])

    def _table_columns(self, name: str) -> list[_Column]:
        if name not in self._columns:
            rows = self._rows(
                "SELECT a.attname, t.typname, a.atttypmod FROM pg_catalog.pg_attribute a "
                "JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
                "WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                (self._relations[name][1],),
            )
            self._columns[name] = [column_for(col, typname, int(typmod)) for col, typname, typmod in rows]
        return self._columns[name]

    def _schema(self, name: str) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type) for c in self._table_columns(name)])

    def _batches(self, name: str, schema: pa.Schema, limit: int | None, batch_size: int) -> Iterator[pa.RecordBatch]:
        by_name = {c.name: c for c in self._table_columns(name)}
        chosen = [by_name[f.name] for f in schema]
        sql = f"SELECT {', '.join(c.expr for c in chosen)} FROM {self._qualified(name)}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        con = self._connect()
        try:
            cur = con.cursor(name=f"mdm_legacy_read_{next(_cursor_ids)}")
            cur.itersize = batch_size
            cur.execute(sql)
        except self._psycopg.Error as exc:
            con.close()
            raise StorageError(f"Reading table {name!r} of the 1.x {self._where()} failed: {_message(exc)}") from None
        return self._fetch(name, con, cur, schema, batch_size)

    def _fetch(self, name: str, con: Any, cur: Any, schema: pa.Schema, batch_size: int) -> Iterator[pa.RecordBatch]:
        try:
            while True:
                try:
                    rows = cur.fetchmany(batch_size)
                except self._psycopg.Error as exc:
                    raise StorageError(f"Reading table {name!r} of the 1.x {self._where()} failed: "
                                       f"{_message(exc)}") from None
                if not rows:
                    return
                columns = list(zip(*rows, strict=True))
                arrays = [pa.array(values, type=field.type) for values, field in zip(columns, schema, strict=True)]
                yield pa.RecordBatch.from_arrays(arrays, schema=schema)
        finally:
            try:
                cur.close()
            finally:
                con.close()

    def describe(self) -> dict[str, Any]:
        return self.location.describe()

    def close(self) -> None:
        con, self._con = getattr(self, "_con", None), None
        if con is not None:
            con.close()


def _message(exc: BaseException) -> str:
    text = mask(str(exc)).strip()
    return " ".join(text.split()) if text else type(exc).__name__
