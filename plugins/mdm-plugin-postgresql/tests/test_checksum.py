"""A large table's checksum is read as two page ranges at once: it equals the checksum of
the table read whole, whatever deletions and updates moved, and sees a change in either
range. Real server (see mdm_core.testing.postgres)."""

from __future__ import annotations

import uuid

import psycopg
import pyarrow as pa
import pytest
from mdm_plugin_postgresql import backend as pg_backend
from mdm_plugin_postgresql.backend import PostgreSQLBackend, schema_name
from mdm_plugin_postgresql.settings import PostgreSQLSettings

from mdm_core.checksum import checksum_batches
from mdm_core.storage import StoreRef
from mdm_core.testing.postgres import postgres_dsn  # noqa: F401  (session fixture)

pytestmark = pytest.mark.postgres
ROWS = 5_000


@pytest.fixture
def store(postgres_dsn, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(pg_backend, "PARALLEL_CHECKSUM_PAGES", 2)
    backend = PostgreSQLBackend(PostgreSQLSettings(dsn=postgres_dsn, pool_size=1, max_overflow=2), timeout=10)
    ref = StoreRef(key=f"t_{uuid.uuid4().hex[:10]}", folder=tmp_path)
    table = pa.table({
        "i": pa.array(range(ROWS), pa.int64()),
        "f": pa.array([float("nan") if i % 7 == 0 else i / 3 for i in range(ROWS)]),
        "s": pa.array([None if i % 5 == 0 else f"value {i % 13}" for i in range(ROWS)]),
    })
    try:
        with backend.create_store(ref) as created:
            created.write_table("data", table.schema, table.to_batches(max_chunksize=777))
        with backend.open_store(ref) as opened:
            yield opened, schema_name(ref), postgres_dsn
    finally:
        backend.drop_store(ref)
        backend.close()


def _whole(store) -> str:
    return checksum_batches(store.read_table("data", batch_size=500))


def _run(dsn: str, sql: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql)


def test_the_table_spans_enough_pages_to_be_split(store):
    store, _, _ = store
    assert store._pages("data") >= 4


def test_two_ranges_give_the_checksum_of_the_whole(store):
    store, _, _ = store
    assert store.checksum("data") == _whole(store) and store.checksum("data").startswith(f"{ROWS}:")


def test_deleted_and_moved_rows_are_counted_once(store):
    store, schema, dsn = store
    _run(dsn, f'DELETE FROM "{schema}"."data" WHERE i % 3 = 0')
    _run(dsn, f'UPDATE "{schema}"."data" SET s = s || \'!\' WHERE i < 500')  # new row versions on later pages
    remaining = store.row_count("data")
    assert store.checksum("data") == _whole(store) and store.checksum("data").startswith(f"{remaining}:")


@pytest.mark.parametrize("i", [1, ROWS - 1])
def test_a_change_in_either_range_changes_it(store, i):
    store, schema, dsn = store
    before = store.checksum("data")
    _run(dsn, f'UPDATE "{schema}"."data" SET f = -1 WHERE i = {i} AND true')
    assert store.checksum("data") != before and store.checksum("data") == _whole(store)
