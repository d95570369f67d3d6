"""Reading a 1.x DuckDB dataset file without changing a byte of it.

The file is opened with ``read_only=True``: DuckDB then never writes the file, never
creates a ``.wal`` (an existing one, left by a 1.x process that did not checkpoint, is
replayed in memory only) and takes only a shared lock. Its temporary directory (for
spilling; by default ``<file>.tmp`` next to the file) is a private folder outside the
home, one per process (DuckDB shares one instance per file among connections opened with
the same configuration), removed at exit. A file still opened for writing by a 1.x
process cannot be opened (DuckDB's lock): a StorageError says so.

Types are DuckDB's own (DuckDB enforces them), made canonical: every integer type up to
64 bits becomes int64, FLOAT/DOUBLE float64, VARCHAR string, BLOB binary, BOOLEAN bool,
TIMESTAMP ``timestamp[us]`` and TIMESTAMP WITH TIME ZONE ``timestamp[us, UTC]`` (pandas
``to_sql`` wrote datetime64 columns as those; CSV dates it left as text stay VARCHAR),
DATE date32; other types keep DuckDB's Arrow mapping (enums are read as their text).
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from mdm_core.errors import StorageError
from mdm_core.storage import quote_identifier
from mdm_plugin_legacy.databases_1x import LegacyDatabase, first_line

_TEMP_DIR: Path | None = None
_TEMP_LOCK = threading.Lock()


def _temp_directory() -> Path:
    """This process's private DuckDB temporary folder (outside any home)."""
    global _TEMP_DIR
    with _TEMP_LOCK:
        if _TEMP_DIR is None:
            _TEMP_DIR = Path(tempfile.mkdtemp(prefix="mdm-legacy-duckdb-"))
            atexit.register(shutil.rmtree, _TEMP_DIR, True)
        return _TEMP_DIR


def canonical_type(typ: pa.DataType) -> pa.DataType:
    """The Arrow type a DuckDB column of Arrow type ``typ`` is returned as."""
    if pa.types.is_dictionary(typ):
        return canonical_type(typ.value_type)
    if pa.types.is_integer(typ) and not pa.types.is_uint64(typ):
        return pa.int64()
    if pa.types.is_floating(typ):
        return pa.float64()
    if pa.types.is_large_string(typ) or pa.types.is_string_view(typ):
        return pa.string()
    if pa.types.is_large_binary(typ) or pa.types.is_binary_view(typ):
        return pa.binary()
    if pa.types.is_timestamp(typ) and typ.tz is not None:
        return pa.timestamp(typ.unit, "UTC")
    return typ


class DuckDBDatabase1x(LegacyDatabase):
    """A 1.x DuckDB dataset file, read-only (see the module doc)."""

    engine = "duckdb"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        try:
            import duckdb
        except ImportError:
            raise StorageError("Reading 1.x DuckDB datasets needs the duckdb package.") from None
        self._error = duckdb.Error
        try:
            self._con = duckdb.connect(str(self.path), read_only=True,
                                       config={"temp_directory": str(_temp_directory())})
        except duckdb.Error as exc:
            self.close()
            text = first_line(exc)
            if "lock" in text.lower():
                text += " (a 1.x process still has it open: close it and try again)"
            raise StorageError(f"The 1.x DuckDB file {self.path} cannot be opened read-only: {text}") from None

    def _rows(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        cur = self._con.cursor()
        try:
            return cur.execute(sql, params or []).fetchall()
        except self._error as exc:
            raise StorageError(f"The 1.x DuckDB file {self.path} cannot be read: {first_line(exc)}") from None
        finally:
            cur.close()

    def _all_tables(self) -> list[str]:
        rows = self._rows("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
                          "AND schema_name = current_schema() ORDER BY table_oid")
        return [r[0] for r in rows]

    def _count(self, name: str) -> int:
        return int(self._rows(f"SELECT count(*) FROM {quote_identifier(name)}")[0][0])

    def _schema(self, name: str) -> pa.Schema:
        cur = self._con.cursor()
        try:
            raw = cur.sql(f"SELECT * FROM {quote_identifier(name)} LIMIT 0").to_arrow_table().schema
        except self._error as exc:
            raise StorageError(f"Table {name!r} of the 1.x DuckDB file {self.path} cannot be read: "
                               f"{first_line(exc)}") from None
        finally:
            cur.close()
        return pa.schema([pa.field(f.name, canonical_type(f.type)) for f in raw])

    def _batches(self, name: str, schema: pa.Schema, limit: int | None, batch_size: int) -> Iterator[pa.RecordBatch]:
        sql = f"SELECT {', '.join(quote_identifier(f.name) for f in schema)} FROM {quote_identifier(name)}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        cur = self._con.cursor()
        try:
            source = cur.sql(sql).to_arrow_reader(batch_size)
        except self._error as exc:
            cur.close()
            raise StorageError(f"Table {name!r} of the 1.x DuckDB file {self.path} cannot be read: "
                               f"{first_line(exc)}") from None
        return self._cast(name, cur, source, schema)

    def _cast(self, name: str, cur: Any, source: pa.RecordBatchReader, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
        try:
            while True:
                try:
                    batch = source.read_next_batch()
                except StopIteration:
                    return
                except (self._error, pa.ArrowException) as exc:
                    raise StorageError(f"Reading table {name!r} of the 1.x DuckDB file {self.path} "
                                       f"failed: {first_line(exc)}") from None
                if batch.num_rows:
                    arrays = [col if col.type == field.type else col.cast(field.type)
                              for col, field in zip(batch.columns, schema, strict=True)]
                    yield pa.RecordBatch.from_arrays(arrays, schema=schema)
        finally:
            cur.close()

    def describe(self) -> dict[str, Any]:
        return {"engine": "duckdb", "path": str(self.path)}

    def close(self) -> None:
        con, self._con = getattr(self, "_con", None), None
        if con is not None:
            with contextlib.suppress(Exception):
                con.close()
