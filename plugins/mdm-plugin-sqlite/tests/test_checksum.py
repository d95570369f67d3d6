"""A large table's checksum is read as two rowid ranges at once: it equals the checksum
of the table read whole, whatever gaps deletions left in the rowids, and it sees a change
in either half."""

from __future__ import annotations

import sqlite3

import pyarrow as pa
import pytest
from mdm_plugin_sqlite import backend as sqlite_backend
from mdm_plugin_sqlite.backend import SQLiteBackend, db_path
from mdm_plugin_sqlite.settings import SQLiteSettings

from mdm_core.checksum import checksum_batches
from mdm_core.storage import StoreRef

ROWS = 1_000


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_backend, "PARALLEL_CHECKSUM_ROWS", 10)
    table = pa.table({
        "i": pa.array(range(ROWS), pa.int64()),
        "f": pa.array([float("nan") if i % 7 == 0 else i / 3 for i in range(ROWS)]),
        "s": pa.array([None if i % 5 == 0 else f"v{i % 13}" for i in range(ROWS)]),
        "t": pa.array(range(ROWS), pa.timestamp("us", tz="UTC")),
    })
    ref = StoreRef("s", tmp_path / "s")
    with SQLiteBackend(SQLiteSettings()).create_store(ref) as created:
        created.write_table("data", table.schema, table.to_batches(max_chunksize=97))
    with SQLiteBackend(SQLiteSettings()).open_store(ref) as opened:
        yield opened, ref


def _whole(store) -> str:
    return checksum_batches(store.read_table("data", batch_size=64))


def test_two_ranges_give_the_checksum_of_the_whole(store):
    store, _ = store
    assert store.checksum("data") == _whole(store) and store.checksum("data").startswith(f"{ROWS}:")


def test_gaps_in_the_rowids_do_not_lose_or_repeat_rows(store):
    store, ref = store
    con = sqlite3.connect(db_path(ref))
    with con:
        con.execute('DELETE FROM "data" WHERE rowid % 3 = 0 OR rowid < 200 OR rowid > 990')
    con.close()
    remaining = store.row_count("data")
    assert store.checksum("data") == _whole(store) and store.checksum("data").startswith(f"{remaining}:")


@pytest.mark.parametrize("rowid", [1, ROWS])
def test_a_change_in_either_range_changes_it(store, rowid):
    store, ref = store
    before = store.checksum("data")
    con = sqlite3.connect(db_path(ref))
    with con:
        con.execute('UPDATE "data" SET "i" = -1 WHERE rowid = ?', (rowid,))
    con.close()
    assert store.checksum("data") != before and store.checksum("data") == _whole(store)
