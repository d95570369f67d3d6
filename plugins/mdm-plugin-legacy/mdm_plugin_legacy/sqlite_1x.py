"""Reading a 1.x SQLite dataset file without changing a byte of it.

1.x kept its SQLite files in WAL mode. Opened normally, SQLite would create or update the
``-wal`` and ``-shm`` files next to the database, even to read. So:

- with no ``-wal`` (or an empty one) and no hot ``-journal``: the file is opened with the
  URI ``file:<path>?mode=ro&immutable=1``: SQLite then takes no locks, opens no
  ``-wal``/``-shm``/journal and cannot write;
- with a non-empty ``-wal`` (a 1.x process crashed or is still running) or a non-empty
  ``-journal``: committed pages may live there only, so the database and that file are
  copied into a private temporary folder, SQLite recovers the copy there, and the copy
  is read; the folder is removed by :meth:`SQLiteDatabase1x.close`.

A database still being written by a 1.x process at the same time is not supported.

Column types: :mod:`mdm_plugin_legacy.sqlite_types_1x` (declared type plus the storage
classes present, found by one scan of the table per process, two halves at once for a
large table; text or binary when values do not fit). Reads go through ADBC's SQLite driver, which builds Arrow batches natively.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc

from mdm_core.errors import StorageError
from mdm_core.storage import quote_identifier
from mdm_plugin_legacy.databases_1x import LegacyDatabase, first_line
from mdm_plugin_legacy.sqlite_types_1x import SENTINEL, ColumnPlan, plan_column, scan_expression

#: Column plans by (file identity, table): the type scan runs once per process.
_PLANS: dict[tuple[Any, ...], tuple[ColumnPlan, ...]] = {}
_PLANS_LOCK = threading.Lock()
_PLANS_MAX = 512
#: Tables spanning at least this many rowids are type-scanned as two halves at once.
PARALLEL_SCAN_ROWS = 100_000


def _pending_file(path: Path, suffix: str) -> Path | None:
    side = path.with_name(path.name + suffix)
    try:
        return side if side.is_file() and side.stat().st_size > 0 else None
    except OSError:
        return None


class SQLiteDatabase1x(LegacyDatabase):
    """A 1.x SQLite dataset file, read-only (see the module doc)."""

    engine = "sqlite"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        try:
            import adbc_driver_sqlite.dbapi as adbc_sqlite
        except ImportError:
            raise StorageError("Reading 1.x SQLite datasets needs the adbc-driver-sqlite package.") from None
        self._error = adbc_sqlite.Error
        self._adbc = adbc_sqlite
        self._copy_dir: Path | None = None
        self._identity = self._file_identity()
        try:
            self._target = self._open_target()
            self._con = adbc_sqlite.connect(self._target, autocommit=True)
            self._query("SELECT count(*) FROM sqlite_master")
        except self._error as exc:
            self.close()
            raise StorageError(f"The 1.x SQLite file {self.path} cannot be read: {first_line(exc)}") from None
        except OSError as exc:
            self.close()
            raise StorageError(f"The 1.x SQLite file {self.path} cannot be copied for reading: {exc}") from None
        self._plans: dict[str, tuple[ColumnPlan, ...]] = {}

    # -- opening -----------------------------------------------------------------------
    def _file_identity(self) -> tuple[Any, ...]:
        parts: list[Any] = [str(self.path.resolve())]
        for suffix in ("", "-wal", "-journal"):
            side = self.path.with_name(self.path.name + suffix)
            try:
                stat = side.stat()
                parts += [stat.st_size, stat.st_mtime_ns]
            except OSError:
                parts += [None, None]
        return tuple(parts)

    def _open_target(self) -> str:
        pending = [p for p in (_pending_file(self.path, "-wal"), _pending_file(self.path, "-journal")) if p]
        if not pending:
            return f"file:{quote(str(self.path.absolute()))}?mode=ro&immutable=1"
        self._copy_dir = Path(tempfile.mkdtemp(prefix="mdm-legacy-sqlite-"))
        copy = self._copy_dir / self.path.name
        for side in pending:  # the log first: pages it holds are newer than the file's
            shutil.copyfile(side, self._copy_dir / side.name)
        shutil.copyfile(self.path, copy)
        return str(copy)

    # -- engine primitives ---------------------------------------------------------------
    def _query(self, sql: str, params: tuple[Any, ...] | None = None) -> list[tuple]:
        cur = self._con.cursor()
        try:
            cur.execute(sql, params)
            return cur.fetchall()
        finally:
            cur.close()

    def _all_tables(self) -> list[str]:
        rows = self._query("SELECT name FROM sqlite_master WHERE type = 'table' "
                           "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid")
        return [r[0] for r in rows]

    def _count(self, name: str) -> int:
        return int(self._query(f"SELECT count(*) FROM {quote_identifier(name)}")[0][0])

    def plans(self, name: str) -> tuple[ColumnPlan, ...]:
        """How each column of table ``name`` is read (type, SQL, why not as declared)."""
        self._require(name)
        if name not in self._plans:
            key = (*self._identity, name)
            with _PLANS_LOCK:
                cached = _PLANS.get(key)
            if cached is None:
                cached = self._scan(name)
                with _PLANS_LOCK:
                    if len(_PLANS) >= _PLANS_MAX:
                        _PLANS.pop(next(iter(_PLANS)))
                    _PLANS[key] = cached
            self._plans[name] = cached
        return self._plans[name]

    def _scan(self, name: str) -> tuple[ColumnPlan, ...]:
        columns = self._query("SELECT name, type FROM pragma_table_info(?) ORDER BY cid", (name,))
        if not columns:
            return ()
        scan = f"SELECT {', '.join(scan_expression(col, declared) for col, declared in columns)} " \
               f"FROM {quote_identifier(name)}"
        try:
            found = self._scan_halves(name, scan) or self._query(scan)[0]
        except self._error as exc:
            raise StorageError(f"Table {name!r} of the 1.x SQLite file {self.path} cannot be read: "
                               f"{first_line(exc)}") from None
        return tuple(plan_column(col, declared or "", classes)
                     for (col, declared), classes in zip(columns, found, strict=True))

    def _scan_halves(self, name: str, scan: str) -> list[str | None] | None:
        """``scan`` run over the two halves of a large table's rowids at once, each on a
        connection of its own, and the storage classes found merged; None for a small
        table (or one without rowids), which is scanned whole."""
        try:
            low, high = self._query(f"SELECT MIN(rowid), MAX(rowid) FROM {quote_identifier(name)}")[0]
        except self._error:
            return None
        if low is None or int(high) - int(low) < PARALLEL_SCAN_ROWS:
            return None
        middle = (int(low) + int(high)) // 2
        halves = [f"{scan} WHERE rowid <= {middle}", f"{scan} WHERE rowid > {middle}"]

        def run(sql: str) -> tuple:
            con = self._adbc.connect(self._target, autocommit=True)
            try:
                with con.cursor() as cur:
                    cur.execute(sql)
                    return cur.fetchall()[0]
            finally:
                con.close()

        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="mdm-legacy-scan") as pool:
            first, second = pool.map(run, halves)
        return [",".join(sorted({c for part in pair if part for c in part.split(",")})) or None
                for pair in zip(first, second, strict=True)]

    def _schema(self, name: str) -> pa.Schema:
        return pa.schema([pa.field(p.name, p.type) for p in self.plans(name)])

    def column_notes(self, name: str) -> dict[str, str]:
        return {p.name: p.note for p in self.plans(name) if p.note}

    def _batches(self, name: str, schema: pa.Schema, limit: int | None, batch_size: int) -> Iterator[pa.RecordBatch]:
        by_name = {p.name: p for p in self.plans(name)}
        chosen = [by_name[f.name] for f in schema]
        inner = f"SELECT {', '.join(p.expr for p in chosen)} FROM {quote_identifier(name)}"
        if limit is not None:
            inner += f" LIMIT {int(limit)}"
        sentinel = ", ".join(SENTINEL[p.wire] for p in chosen)
        sql = f"SELECT {sentinel} UNION ALL SELECT * FROM ({inner})"
        cur = self._con.cursor()
        try:
            cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(int(batch_size))})
            cur.execute(sql)
            source = cur.fetch_record_batch()
        except self._error as exc:
            cur.close()
            raise StorageError(f"Table {name!r} of the 1.x SQLite file {self.path} cannot be read: "
                               f"{first_line(exc)}") from None
        return self._decoded(name, cur, source, chosen, schema)

    def _decoded(self, name: str, cur: Any, source: pa.RecordBatchReader, chosen: list[ColumnPlan],
                 schema: pa.Schema) -> Iterator[pa.RecordBatch]:
        try:
            first = True
            while True:
                try:
                    batch = source.read_next_batch()
                except StopIteration:
                    return
                except (self._error, pa.ArrowException) as exc:
                    raise StorageError(f"Reading table {name!r} of the 1.x SQLite file {self.path} "
                                       f"failed: {first_line(exc)}") from None
                if first:
                    batch, first = batch.slice(1), False
                if batch.num_rows == 0:
                    continue
                arrays = [col if col.type == plan.type else pc.cast(col, plan.type)
                          for col, plan in zip(batch.columns, chosen, strict=True)]
                yield pa.RecordBatch.from_arrays(arrays, schema=schema)
        finally:
            cur.close()

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"engine": "sqlite", "path": str(self.path)}
        if self._copy_dir is not None:
            info["read_from"] = "a private copy (the file has a pending -wal/-journal)"
        return info

    def close(self) -> None:
        con, self._con = getattr(self, "_con", None), None
        if con is not None:
            with contextlib.suppress(self._error):
                con.close()
        copy_dir, self._copy_dir = getattr(self, "_copy_dir", None), None
        if copy_dir is not None:
            shutil.rmtree(copy_dir, ignore_errors=True)
