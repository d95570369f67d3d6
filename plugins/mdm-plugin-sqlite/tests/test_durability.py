"""A store is built with an in-memory journal and gets its configured journal mode when
moved into place; rollback works while it is being built."""

from __future__ import annotations

import sqlite3

import pyarrow as pa
import pytest
from mdm_plugin_sqlite.backend import SQLiteBackend, db_path
from mdm_plugin_sqlite.settings import SQLiteSettings

from mdm_core.storage import StoreRef

TABLE = pa.table({"x": pa.array([1, 2, 3], pa.int64())})


def journal_mode(ref: StoreRef) -> str:
    con = sqlite3.connect(db_path(ref))
    try:
        return con.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        con.close()


@pytest.mark.parametrize("configured", ["WAL", "DELETE", "TRUNCATE"])
def test_moved_store_has_the_configured_journal_mode(tmp_path, configured) -> None:
    backend = SQLiteBackend(SQLiteSettings(journal_mode=configured))
    staging, final = StoreRef("s", tmp_path / "staging"), StoreRef("f", tmp_path / "final")
    with backend.create_store(staging) as store:
        store.write_table("t", TABLE.schema, TABLE.to_batches())
    backend.move_store(staging, final)
    # Only WAL is recorded in the file; other modes are set by every writing connection.
    assert journal_mode(final) == ("wal" if configured == "WAL" else "delete")
    with backend.open_store(final) as store:
        assert store.execute_sql("PRAGMA journal_mode").column(0).to_pylist() == [configured.lower()]
        assert store.read_table("t").read_all().equals(TABLE)


def test_a_failed_write_while_building_rolls_back(tmp_path) -> None:
    backend = SQLiteBackend(SQLiteSettings())
    ref = StoreRef("s", tmp_path / "staging")

    def failing():
        yield from TABLE.to_batches()
        raise RuntimeError("source broke")

    with backend.create_store(ref) as store:
        store.write_table("t", TABLE.schema, TABLE.to_batches())
        with pytest.raises(RuntimeError, match="source broke"):
            store.write_table("t", TABLE.schema, failing(), replace=True)
        assert store.read_table("t").read_all().equals(TABLE)
        assert store.list_tables() == ["t"]
