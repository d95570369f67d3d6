"""The storage conformance checks: plain functions that raise AssertionError.

Every check receives a :class:`CheckContext` (the backend plus a factory of fresh store
references it cleans up afterwards). The pytest suite
(:class:`mdm_core.testing.conformance.StorageConformance`) runs all of them at full size;
``mdm storage test`` runs :data:`QUICK_CHECKS` at reduced size through :func:`run_checks`.

The checks expect exactly what the backend declares in its ``capabilities``
(:class:`mdm_core.storage.BackendCapabilities`): NULL wherever NaN was written when NaN
is not distinct from NULL, 0.0 for -0.0 when signed zeros are not kept, a StorageError
for timestamps finer than ``timestamp_unit`` and for text with NUL when ``nul_in_text`` is
False, and a refusal above ``max_columns``.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pyarrow as pa

from mdm_core.errors import StorageError
from mdm_core.storage import (
    FILTER_OPS,
    BackendCapabilities,
    StorageBackend,
    Store,
    StoreRef,
)
from mdm_core.testing.data import (
    HOSTILE_NAMES,
    assert_tables_equal,
    expected_checksum,
    nan_to_null,
    sample_table,
    unsign_zeros,
)

CAPABILITIES = tuple(f.name for f in attrs.fields(BackendCapabilities))


def capability(backend: Any, name: str) -> Any:
    """One field of the backend's declared :class:`BackendCapabilities`."""
    return getattr(backend.capabilities, name)


@attrs.define
class CheckContext:
    """What a check needs: the backend, a scratch folder, and fresh store references
    (unique keys, so checks may run side by side in one PostgreSQL database)."""

    backend: StorageBackend
    folder: Path
    size: str = "full"  # "full" (pytest suite) or "quick" (mdm storage test)
    created: list[StoreRef] = attrs.Factory(list)

    def new_ref(self, label: str = "s") -> StoreRef:
        key = f"{label}_{uuid.uuid4().hex[:12]}"
        ref = StoreRef(key=key, folder=self.folder / key)
        self.created.append(ref)
        return ref

    def new_store(self) -> Store:
        return self.backend.create_store(self.new_ref())

    def expected(self, table: pa.Table) -> pa.Table:
        """What reading ``table`` back must give on this backend."""
        if not capability(self.backend, "nan_distinct_from_null"):
            table = nan_to_null(table)
        if not capability(self.backend, "signed_zero_preserved"):
            table = unsign_zeros(table)
        return table

    def cleanup(self) -> None:
        for ref in reversed(self.created):
            self.backend.drop_store(ref)
        self.created.clear()


def read_all(store: Store, name: str, **kwargs: Any) -> pa.Table:
    reader = store.read_table(name, **kwargs)
    return reader.read_all()


def write(store: Store, name: str, table: pa.Table, *, replace: bool = False, chunk: int = 1_000) -> int:
    return store.write_table(name, table.schema, table.to_batches(max_chunksize=chunk), replace=replace)


def raises_storage_error(action: Callable[[], Any], what: str) -> None:
    try:
        action()
    except StorageError:
        return
    raise AssertionError(f"{what}: expected StorageError, nothing was raised")


# -- stores ------------------------------------------------------------------------------
def check_health(ctx: CheckContext) -> None:
    report = ctx.backend.health_check()
    assert report.ok, f"health check failed: {report.details}"
    assert report.backend == ctx.backend.name


def check_store_lifecycle(ctx: CheckContext) -> None:
    backend = ctx.backend
    ref = ctx.new_ref()
    assert not backend.store_exists(ref), "a fresh reference already exists"
    raises_storage_error(lambda: backend.open_store(ref), "opening a missing store")
    with backend.create_store(ref) as store:
        assert store.list_tables() == [], "a new store is not empty"
    assert backend.store_exists(ref)
    raises_storage_error(lambda: backend.create_store(ref), "creating an existing store")
    with backend.open_store(ref) as store:
        write(store, "t", pa.table({"a": [1, 2]}))
    with backend.open_store(ref, read_only=True) as store:
        assert store.row_count("t") == 2
        raises_storage_error(lambda: write(store, "u", pa.table({"a": [1]})), "writing to a read-only store")
    backend.drop_store(ref)
    assert not backend.store_exists(ref), "store still exists after drop_store"
    backend.drop_store(ref)  # dropping a missing store is not an error


def check_move_store(ctx: CheckContext) -> None:
    backend = ctx.backend
    src, dst, other = ctx.new_ref("src"), ctx.new_ref("dst"), ctx.new_ref("other")
    table = pa.table({"a": [1, 2, 3], "b": ["x", "y", None]})
    with backend.create_store(src) as store:
        write(store, "data", table)
    backend.create_store(other).close()
    raises_storage_error(lambda: backend.move_store(src, other), "moving onto an existing store")
    backend.move_store(src, dst)
    assert not backend.store_exists(src), "the source still exists after move_store"
    assert backend.store_exists(dst)
    with backend.open_store(dst) as store:
        assert_tables_equal(table, read_all(store, "data"))


def check_describe(ctx: CheckContext) -> None:
    ref = ctx.new_ref()
    ctx.backend.create_store(ref).close()
    info = ctx.backend.describe(ref)
    assert isinstance(info, dict)
    text = json.dumps(info, default=str)
    assert str(ref.folder.resolve()) not in text and str(ref.folder) not in text, (
        f"describe() shows an absolute path: {text}"
    )
    assert "password" not in text.lower(), f"describe() mentions a password: {text}"


def check_recorded_location(ctx: CheckContext) -> None:
    """``at(describe(ref))`` reaches the store, as every later command on a dataset does."""
    ref = ctx.new_ref()
    table = sample_table(rows=6)
    with ctx.backend.create_store(ref) as store:
        write(store, "data", table)
    located = ctx.backend.at(ctx.backend.describe(ref))
    assert located.store_exists(ref), "at(describe(ref)) does not find the store"
    with located.open_store(ref, read_only=True) as store:
        assert_tables_equal(ctx.expected(table), read_all(store, "data"))


def check_table_limits_checked_up_front(ctx: CheckContext) -> None:
    """``check_table`` accepts what ``write_table`` stores and refuses, with one short
    sentence, what it would refuse."""
    table = sample_table(rows=3)
    ctx.backend.check_table("data", table.column_names)
    with ctx.new_store() as store:
        assert write(store, "data", table) == 3
    raises_storage_error(lambda: ctx.backend.check_table("data", ["a", "b", "a"]), "a repeated column name")
    too_wide = [f"c{i}" for i in range(40_000)]
    try:
        ctx.backend.check_table("data", too_wide)
    except StorageError as exc:
        assert len(str(exc)) < 300 and "40,000" in str(exc), f"unclear refusal: {str(exc)[:400]}"


def check_declared_capabilities(ctx: CheckContext) -> None:
    """What ``capabilities`` declares is what the store does: sub-microsecond timestamps
    and text with NUL round-trip exactly or are refused (never changed); a table of
    ``max_columns`` columns is accepted and one more refused."""
    caps = ctx.backend.capabilities
    ns = pa.table({"t": pa.array([1_700_000_000_123_456_789, None], pa.timestamp("ns", tz="UTC"))})
    nul = pa.table({"s": pa.array(["a\x00b", None])})
    with ctx.new_store() as store:
        for name, table, kept in (("ns", ns, caps.timestamp_unit == "ns"), ("nul", nul, caps.nul_in_text)):
            if kept:
                write(store, name, table)
                assert_tables_equal(table, read_all(store, name))
            else:
                raises_storage_error(lambda name=name, table=table: write(store, name, table), f"refusing {name}")
                assert name not in store.list_tables(), f"a refused table {name!r} was left behind"
    if caps.max_columns is not None:
        ctx.backend.check_table("wide", [f"c{i}" for i in range(caps.max_columns)])
        raises_storage_error(
            lambda: ctx.backend.check_table("wide", [f"c{i}" for i in range(caps.max_columns + 1)]),
            f"a table wider than max_columns={caps.max_columns}",
        )


# -- round trips -------------------------------------------------------------------------
def check_round_trip_all_types(ctx: CheckContext) -> None:
    table = sample_table(rows=24)
    with ctx.new_store() as store:
        assert write(store, "types", table, chunk=5) == table.num_rows
        assert store.list_tables() == ["types"], f"internal tables leak: {store.list_tables()}"
        assert store.table_schema("types") == table.schema
        assert store.row_count("types") == table.num_rows
        back = read_all(store, "types")
        assert_tables_equal(ctx.expected(table), back)
        as_stored = pa.Table.from_batches([ctx.backend.as_stored(b) for b in table.to_batches()], schema=table.schema)
        assert_tables_equal(as_stored, back)


def check_empty_table(ctx: CheckContext) -> None:
    table = sample_table(rows=0)
    with ctx.new_store() as store:
        assert store.write_table("empty", table.schema, iter(())) == 0
        assert store.row_count("empty") == 0
        assert store.table_schema("empty") == table.schema
        back = read_all(store, "empty")
        assert back.num_rows == 0 and back.schema == table.schema
        assert store.checksum("empty") == expected_checksum(table)


def check_wide_table(ctx: CheckContext) -> None:
    width = 1_000 if ctx.size == "full" else 200
    rows = 20
    kinds = [pa.int64(), pa.float64(), pa.string(), pa.bool_()]
    arrays, names = [], []
    for i in range(width):
        typ = kinds[i % len(kinds)]
        values = [None if (r + i) % 7 == 0 else r * i for r in range(rows)]
        if pa.types.is_string(typ):
            values = [None if v is None else f"v{v}" for v in values]
        elif pa.types.is_boolean(typ):
            values = [None if v is None else bool(v % 2) for v in values]
        elif pa.types.is_floating(typ):
            values = [None if v is None else v / 3 for v in values]
        arrays.append(pa.array(values, typ))
        names.append(f"col_{i:04d}")
    table = pa.Table.from_arrays(arrays, names=names)
    with ctx.new_store() as store:
        write(store, "wide", table)
        assert_tables_equal(table, read_all(store, "wide"))
        picked = [names[-1], names[0], names[width // 2]]
        assert_tables_equal(table.select(picked), read_all(store, "wide", columns=picked))


def _long_batches(rows: int, chunk: int) -> Iterator[pa.RecordBatch]:
    for start in range(0, rows, chunk):
        ids = np.arange(start, min(start + chunk, rows), dtype=np.int64)
        yield pa.RecordBatch.from_arrays(
            [pa.array(ids), pa.array(ids * 0.5), pa.array([f"row {i}" for i in ids])],
            names=["id", "half", "label"],
        )


def check_long_table_streams(ctx: CheckContext) -> None:
    rows = 120_000 if ctx.size == "full" else 30_000
    batch_size = 10_000 if ctx.size == "full" else 4_000
    schema = next(_long_batches(1, 1)).schema
    with ctx.new_store() as store:
        assert store.write_table("long", schema, _long_batches(rows, 7_001)) == rows
        assert store.row_count("long") == rows
        sizes, next_id = [], 0
        for batch in store.read_table("long", batch_size=batch_size):
            sizes.append(batch.num_rows)
            ids = batch.column(0).to_numpy()
            assert ids[0] == next_id, f"rows out of insertion order at {next_id}"
            next_id += batch.num_rows
        assert sum(sizes) == rows
        assert max(sizes) <= batch_size, f"a batch of {max(sizes)} rows exceeds batch_size={batch_size}"
        assert len(sizes) >= math.ceil(rows / batch_size), f"not streamed: {len(sizes)} batches"
        assert store.checksum("long") == expected_checksum(pa.Table.from_batches(_long_batches(rows, 50_000)))


def check_hostile_identifiers(ctx: CheckContext) -> None:
    columns = {name: pa.array([i, i + 1, None], pa.int64()) for i, name in enumerate(HOSTILE_NAMES)}
    table = pa.table(columns)
    with ctx.new_store() as store:
        write(store, "x", pa.table({"keep": [1]}))
        for name in HOSTILE_NAMES:
            write(store, name, table)
            assert_tables_equal(table, read_all(store, name))
            assert store.row_count(name) == 3
            column = HOSTILE_NAMES[-2]
            got = read_all(store, name, columns=[column], where=[(column, "=", 8)])
            assert got.column(0).to_pylist() == [8], f"filter on {column!r} in {name!r} gave {got}"
        assert sorted(store.list_tables()) == sorted([*HOSTILE_NAMES, "x"])
        store.rename_table(HOSTILE_NAMES[0], "renamed ' \" 😀")
        assert "renamed ' \" 😀" in store.list_tables()
        for name in HOSTILE_NAMES[1:]:
            store.drop_table(name)
        assert sorted(store.list_tables()) == sorted(["renamed ' \" 😀", "x"])
        assert store.row_count("x") == 1, "table x was damaged by a hostile name"


# -- reading -----------------------------------------------------------------------------
def _filter_table() -> pa.Table:
    ids = list(range(100))
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "name": pa.array([f"n{i}" for i in ids]),
        "score": pa.array([None if i % 10 == 0 else i / 4 for i in ids], pa.float64()),
        "flag": pa.array([i % 3 == 0 for i in ids]),
    })


def check_read_columns_where_limit(ctx: CheckContext) -> None:
    table = _filter_table()
    with ctx.new_store() as store:
        write(store, "t", table, chunk=33)

        def ids(**kwargs: Any) -> list[int]:
            return read_all(store, "t", columns=["id"], **kwargs).column("id").to_pylist()

        back = read_all(store, "t", columns=["score", "id"])
        assert back.schema.names == ["score", "id"]
        assert_tables_equal(table.select(["score", "id"]), back)
        assert ids(where=[("id", ">=", 10), ("id", "<", 20)]) == list(range(10, 20))
        assert ids(where=[("id", ">", 97)]) == [98, 99]
        assert ids(where=[("id", "<=", 1)]) == [0, 1]
        assert ids(where=[("name", "=", "n5")]) == [5]
        assert len(ids(where=[("id", "!=", 0)])) == 99
        assert ids(where=[("score", "is null", None)]) == list(range(0, 100, 10))
        assert len(ids(where=[("score", "is not null", None)])) == 90
        assert ids(where=[("score", ">", 24.0)]) == list(range(97, 100))
        assert ids(where=[("flag", "=", True), ("id", "<", 10)]) == [0, 3, 6, 9]
        assert ids(limit=7) == list(range(7))
        assert ids(where=[("id", ">=", 50)], limit=3) == [50, 51, 52]
        assert ids(limit=0) == []
        assert ids(where=[("name", "=", "n1' OR '1'='1")]) == [], "a filter value was pasted into SQL"
        raises_storage_error(lambda: read_all(store, "t", where=[("id", "~", 1)]), "an unknown operator")
        raises_storage_error(lambda: read_all(store, "t", where=[("nope", "=", 1)]), "an unknown filter column")
        raises_storage_error(lambda: read_all(store, "t", columns=["nope"]), "an unknown column")
        raises_storage_error(lambda: read_all(store, "missing"), "reading a missing table")
        raises_storage_error(lambda: store.row_count("missing"), "counting a missing table")
        assert set(FILTER_OPS) >= {"=", "is null"}


def check_checksum(ctx: CheckContext) -> None:
    table = sample_table(rows=40)
    expected = ctx.expected(table)
    with ctx.new_store() as store:
        write(store, "a", table, chunk=7)
        write(store, "b", pa.concat_tables([table.slice(20), table.slice(0, 20)]))
        assert store.checksum("a") == expected_checksum(expected), "checksum differs from the generic one"
        assert store.checksum("a") == store.checksum("b"), "checksum depends on row order"
        write(store, "c", table.slice(1))
        assert store.checksum("c") != store.checksum("a"), "checksum ignores a missing row"


# -- writing -----------------------------------------------------------------------------
def check_replace_and_conflicts(ctx: CheckContext) -> None:
    first, second = pa.table({"a": [1, 2]}), pa.table({"b": ["x"], "c": [1.5]})
    with ctx.new_store() as store:
        write(store, "t", first)
        raises_storage_error(lambda: write(store, "t", second), "writing over an existing table")
        assert_tables_equal(first, read_all(store, "t"))
        write(store, "t", second, replace=True)
        assert_tables_equal(second, read_all(store, "t"))
        assert store.table_schema("t") == second.schema
        store.drop_table("t")
        assert store.list_tables() == []
        store.drop_table("t")  # dropping a missing table is not an error


def check_failed_write_leaves_nothing(ctx: CheckContext) -> None:
    table = pa.table({"a": list(range(10))})

    def failing() -> Iterator[pa.RecordBatch]:
        yield from table.to_batches(max_chunksize=3)[:2]
        raise RuntimeError("source broke")

    with ctx.new_store() as store:
        try:
            store.write_table("t", table.schema, failing())
        except RuntimeError as exc:
            assert "source broke" in str(exc), f"the source's error was replaced: {exc}"
        else:
            raise AssertionError("write_table swallowed the source's exception")
        assert store.list_tables() == [], "a failed write left a table behind"
        write(store, "t", table)
        with contextlib.suppress(RuntimeError):
            store.write_table("t", table.schema, failing(), replace=True)
        assert_tables_equal(table, read_all(store, "t"))
        bad = pa.table({"zzz": [1]})
        raises_storage_error(lambda: store.write_table("u", table.schema, bad.to_batches()), "mismatched batches")
        assert "u" not in store.list_tables()


def check_rename_table(ctx: CheckContext) -> None:
    a, b = pa.table({"a": [1, 2, 3]}), pa.table({"b": ["x"]})
    with ctx.new_store() as store:
        write(store, "a", a)
        write(store, "b", b)
        store.rename_table("a", "c")
        assert sorted(store.list_tables()) == ["b", "c"]
        assert store.table_schema("c") == a.schema
        store.rename_table("c", "b")  # replaces the existing b
        assert store.list_tables() == ["b"]
        assert_tables_equal(a, read_all(store, "b"))
        raises_storage_error(lambda: store.rename_table("missing", "z"), "renaming a missing table")


def check_execute_sql(ctx: CheckContext) -> None:
    with ctx.new_store() as store:
        write(store, "t", pa.table({"a": [1, 2, 3]}))
        result = store.execute_sql('SELECT COUNT(*) AS n FROM "t"')
        assert isinstance(result, pa.Table) and result.num_rows == 1
        assert result.column(0)[0].as_py() == 3
        raises_storage_error(lambda: store.execute_sql("SELEC nonsense"), "invalid SQL")


# -- extensions and column drops --------------------------------------------------------
def _extension_case(rows: int) -> tuple[pa.Table, pa.Table]:
    """A base table and its extension (the base's columns then typed, partly null ones)."""
    base = sample_table(rows)
    ids = np.arange(rows, dtype=np.int64)
    added = {
        "x__double": pa.array(np.where(ids % 5 == 4, np.nan, ids * 0.5)),
        "x__flag": pa.array([None if i % 7 == 6 else int(i % 2) for i in range(rows)], pa.int64()),
        "x__label": pa.array([None if i % 3 == 2 else f"level {i % 4}" for i in range(rows)]),
    }
    extended = base
    for name, column in added.items():
        extended = extended.append_column(name, column)
    return base, extended


def check_extension_round_trip(ctx: CheckContext) -> None:
    rows = 2_500 if ctx.size == "full" else 300
    base, extended = _extension_case(rows)
    with ctx.new_store() as store:
        write(store, "base", base)
        written = store.write_extension("ext", "base", extended.schema, extended.to_batches(max_chunksize=700))
        assert written == rows, f"write_extension returned {written}, expected {rows}"
        assert sorted(store.list_tables()) == ["base", "ext"]
        assert store.table_schema("ext") == extended.schema
        assert store.row_count("ext") == rows
        assert_tables_equal(ctx.expected(extended), read_all(store, "ext", batch_size=333))
        assert_tables_equal(ctx.expected(base), read_all(store, "base"))
        assert store.checksum("ext") == expected_checksum(ctx.expected(extended))
        picked = read_all(store, "ext", columns=["x__label", "int64"], where=[("x__flag", "=", 1), ("int32", "is not null", None)])
        mask = np.array([f == 1 and i is not None for f, i in zip(extended["x__flag"].to_pylist(), extended["int32"].to_pylist(), strict=True)])
        assert_tables_equal(extended.select(["x__label", "int64"]).filter(pa.array(mask)), picked)
        assert read_all(store, "ext", limit=5).num_rows == 5
        count = store.execute_sql('SELECT COUNT(*) FROM "ext"').column(0)[0].as_py()
        assert count == rows, f"SQL sees {count} rows in the extension"


def check_extension_errors(ctx: CheckContext) -> None:
    base, extended = _extension_case(40)
    with ctx.new_store() as store:
        write(store, "base", base)
        short = extended.slice(0, 39)
        raises_storage_error(lambda: store.write_extension("ext", "base", extended.schema, short.to_batches()),
                             "an extension with fewer rows than its base")
        long = pa.concat_tables([extended, extended.slice(0, 1)])
        raises_storage_error(lambda: store.write_extension("ext", "base", extended.schema, long.to_batches()),
                             "an extension with more rows than its base")
        reordered = extended.select(extended.column_names[1:] + extended.column_names[:1])
        raises_storage_error(lambda: store.write_extension("ext", "base", reordered.schema, reordered.to_batches()),
                             "an extension not starting with its base's columns")
        raises_storage_error(lambda: store.write_extension("ext", "missing", extended.schema, extended.to_batches()),
                             "an extension of a missing table")
        assert store.list_tables() == ["base"], f"failed extensions left {store.list_tables()}"


def check_extension_rename_and_replace(ctx: CheckContext) -> None:
    base, extended = _extension_case(60)
    plain = pa.table({"p": [1, 2]})
    with ctx.new_store() as store:
        write(store, "base", base)
        write(store, "final", plain)
        store.write_extension("final__tmp", "base", extended.schema, extended.to_batches())
        store.rename_table("final__tmp", "final")  # replaces the plain table
        assert sorted(store.list_tables()) == ["base", "final"]
        assert_tables_equal(ctx.expected(extended), read_all(store, "final"))
        store.write_extension("final__tmp", "base", extended.schema, extended.to_batches())
        store.rename_table("final__tmp", "final")  # replaces an extension
        assert_tables_equal(ctx.expected(extended), read_all(store, "final"))
        store.write_table("final", plain.schema, plain.to_batches(), replace=True)
        assert_tables_equal(plain, read_all(store, "final"))
        store.write_extension("final", "base", extended.schema, extended.to_batches(), replace=True)
        store.drop_table("final")
        assert store.list_tables() == ["base"]
        assert_tables_equal(ctx.expected(base), read_all(store, "base"))


def check_drop_columns(ctx: CheckContext) -> None:
    base, extended = _extension_case(80)
    with ctx.new_store() as store:
        write(store, "base", base)
        write(store, "plain", extended)
        store.write_extension("ext", "base", extended.schema, extended.to_batches())
        for name in ("plain", "ext"):
            store.drop_columns(name, ["x__flag", "int8"])
            kept = extended.drop_columns(["x__flag", "int8"])
            assert store.table_schema(name) == kept.schema, name
            assert_tables_equal(ctx.expected(kept), read_all(store, name))
            assert store.row_count(name) == 80
            raises_storage_error(lambda n=name: store.drop_columns(n, ["nope"]), "dropping an unknown column")
            raises_storage_error(lambda n=name, k=kept: store.drop_columns(n, k.column_names), "dropping every column")
        assert_tables_equal(ctx.expected(base), read_all(store, "base"))


# -- concurrency -------------------------------------------------------------------------
def check_concurrent_readers(ctx: CheckContext) -> None:
    """Readers in other threads see either the old or the new version of a table, never a
    mix, never an error, while a writer replaces it and commits several times."""
    rows, versions, reader_count = 3_000, 4 if ctx.size == "full" else 2, 3

    def version(v: int) -> pa.Table:
        return pa.table({"v": pa.array(np.full(rows, v, dtype=np.int64)),
                         "pad": pa.array([f"{v}-{i}" for i in range(rows)])})

    ref = ctx.new_ref()
    with ctx.backend.create_store(ref) as store:
        write(store, "t", version(0))
    done = threading.Event()
    errors: list[str] = []
    seen: list[set[int]] = [set() for _ in range(reader_count)]

    def reader(slot: int) -> None:
        try:
            with ctx.backend.open_store(ref, read_only=True) as store:
                reads = 0
                while not done.is_set() or reads < 2:
                    table = read_all(store, "t", batch_size=700)
                    values = set(table.column("v").to_pylist())
                    if table.num_rows != rows or len(values) != 1:
                        errors.append(f"torn read: {table.num_rows} rows, versions {sorted(values)}")
                        return
                    seen[slot] |= values
                    reads += 1
        except Exception as exc:  # reported, not raised, so the writer finishes
            errors.append(f"reader failed: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(reader_count)]
    # The writer is open before the readers come: an engine may refuse a writer while
    # read-only readers hold the file (DuckDB does), but never readers while a writer works.
    with ctx.backend.open_store(ref) as store:
        try:
            for thread in threads:
                thread.start()
            for v in range(1, versions + 1):
                write(store, "t", version(v), replace=True, chunk=500)
                time.sleep(0.02)
        finally:
            done.set()
            for thread in threads:
                thread.join(timeout=120)
    assert not errors, "; ".join(errors[:3])
    with ctx.backend.open_store(ref, read_only=True) as store:
        assert set(read_all(store, "t").column("v").to_pylist()) == {versions}


#: Every check, in the order ``mdm storage test`` reports them.
ALL_CHECKS: dict[str, Callable[[CheckContext], None]] = {
    "health": check_health,
    "store lifecycle": check_store_lifecycle,
    "move store": check_move_store,
    "describe without paths or secrets": check_describe,
    "round trip of every type": check_round_trip_all_types,
    "empty table": check_empty_table,
    "recorded location": check_recorded_location,
    "table limits checked up front": check_table_limits_checked_up_front,
    "wide table": check_wide_table,
    "long table in bounded batches": check_long_table_streams,
    "hostile identifiers": check_hostile_identifiers,
    "columns / where / limit": check_read_columns_where_limit,
    "checksum": check_checksum,
    "replace and conflicts": check_replace_and_conflicts,
    "failed write leaves nothing": check_failed_write_leaves_nothing,
    "rename table": check_rename_table,
    "execute_sql": check_execute_sql,
    "extension tables": check_extension_round_trip,
    "extension errors": check_extension_errors,
    "extension rename and replace": check_extension_rename_and_replace,
    "drop columns": check_drop_columns,
    "concurrent readers": check_concurrent_readers,
}

QUICK_CHECKS = ALL_CHECKS


@attrs.frozen
class CheckResult:
    name: str
    passed: bool
    seconds: float
    error: str | None = None


def run_checks(
    backend: StorageBackend, folder: Path, *, size: str = "quick",
    checks: dict[str, Callable[[CheckContext], None]] | None = None,
) -> list[CheckResult]:
    """Run ``checks`` (default :data:`QUICK_CHECKS`) against ``backend`` with stores under
    ``folder``; every store created is dropped afterwards, whatever happened."""
    results = []
    for name, check in (checks or QUICK_CHECKS).items():
        ctx = CheckContext(backend, folder, size=size)
        start = time.perf_counter()
        error = None
        try:
            check(ctx)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}".strip()
        finally:
            try:
                ctx.cleanup()
            except Exception as exc:
                error = error or f"cleanup failed: {type(exc).__name__}: {exc}"
        results.append(CheckResult(name, error is None, round(time.perf_counter() - start, 3), error))
    return results
