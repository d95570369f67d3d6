"""The same data through every installed backend: identical tables and identical checksums.

Backends are found through the plugin entry points (``get_backend``), as MDM finds them.
PostgreSQL joins when a server is available (``@pytest.mark.postgres``).
"""

from __future__ import annotations

import datetime as dt

import attrs
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from mdm_plugin_postgresql.settings import PostgreSQLSettings

from mdm_core.backends import get_backend
from mdm_core.checksum import checksum_batches
from mdm_core.config.composed import DatabaseSettings, Settings
from mdm_core.testing.checks import CheckContext
from mdm_core.testing.data import (
    assert_tables_equal,
    expected_checksum,
    extra_types_table,
    sample_table,
    unsign_zeros,
)
from mdm_core.testing.strategies import arrow_tables

SETS = [
    pytest.param(("sqlite", "duckdb"), id="files"),
    pytest.param(("sqlite", "duckdb", "postgresql"), id="all", marks=pytest.mark.postgres),
]
EXAMPLES = settings(max_examples=15, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(params=SETS)
def stores(request, tmp_path):
    """name -> (CheckContext, open store) for each backend of the parameter set."""
    names = request.param
    database = DatabaseSettings()
    if "postgresql" in names:
        from mdm_core.testing.postgres import require_server

        database = attrs.evolve(database, postgresql=PostgreSQLSettings(dsn=require_server(), pool_size=1))
    config = Settings(home=tmp_path, database=database)
    opened = {}
    try:
        for name in names:
            ctx = CheckContext(get_backend(name, config), tmp_path / name)
            opened[name] = (ctx, ctx.new_store())
        yield opened
    finally:
        for ctx, store in opened.values():
            store.close()
            ctx.cleanup()
            close = getattr(ctx.backend, "close", None)
            if close:
                close()


def _through_all(stores, table: pa.Table, name: str = "t", skip: tuple[str, ...] = ()) -> dict:
    """backend -> (table read back, checksum) after writing ``table`` to each store."""
    out = {}
    for backend, (_ctx, store) in stores.items():
        if backend in skip:
            continue
        store.write_table(name, table.schema, table.to_batches(max_chunksize=4), replace=True)
        out[backend] = (store.read_table(name, batch_size=5).read_all(), store.checksum(name))
    return out


@EXAMPLES
@given(table=arrow_tables(allow_nan=False, max_rows=20))
def test_random_tables_agree_across_backends(stores, table):
    table = unsign_zeros(table)  # the one float difference SQLite is allowed (see capabilities)
    results = _through_all(stores, table)
    want = expected_checksum(table)
    for backend, (back, checksum) in results.items():
        assert_tables_equal(table, back)
        assert checksum == want, f"{backend} checksum {checksum} != {want}"


def test_sample_table_checksums_follow_capabilities(stores):
    table = sample_table(30)
    results = _through_all(stores, table)
    for backend, (back, checksum) in results.items():
        ctx = stores[backend][0]
        assert_tables_equal(ctx.expected(table), back)
        assert checksum == expected_checksum(ctx.expected(table))
    exact = {checksum for backend, (_, checksum) in results.items() if backend != "sqlite"}
    assert len(exact) == 1, "backends that keep NaN and -0.0 disagree"


def test_extra_types_agree_between_duckdb_and_postgresql(stores):
    # uint64 max does not fit SQLite. The generic checksum cannot hash non-UTF-8 binary
    # (reported against mdm_core.storage.checksum_batches), so binary is compared by value.
    table = extra_types_table()
    results = _through_all(stores, table.drop_columns(["binary"]), skip=("sqlite",))
    for back, checksum in results.values():
        assert_tables_equal(table.drop_columns(["binary"]), back)
        assert checksum == checksum_batches(table.drop_columns(["binary"]).to_batches())
    for _backend, (_ctx, store) in stores.items():
        if _backend != "sqlite":
            store.write_table("bin", table.schema, table.to_batches(), replace=True)
            assert_tables_equal(table, store.read_table("bin").read_all())


def test_filters_agree_across_backends(stores):
    table = sample_table(40)
    for _ctx, store in stores.values():
        store.write_table("f", table.schema, table.to_batches())
    queries = [
        [("int64", ">", 0)],
        [("string", "=", "it's")],
        [("bool", "=", True), ("int8", "is not null", None)],
        [("date", "<", dt.date(1970, 1, 1))],
        [("float64", "is null", None)],
    ]
    for where in queries:
        answers = {
            name: store.read_table("f", columns=["int32", "string"], where=where, limit=25).read_all()
            for name, (_ctx, store) in stores.items()
        }
        if where == [("float64", "is null", None)]:
            answers.pop("sqlite")  # SQLite stored the NaNs as NULL: more rows match
        first = next(iter(answers.values()))
        for answer in answers.values():
            assert_tables_equal(first, answer)
