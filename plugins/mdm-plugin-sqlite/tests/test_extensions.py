"""SQLite keeps an extension's new columns beside its base (no copy of the base's data)
and refuses to change the base underneath it."""

from __future__ import annotations

import sqlite3

import pyarrow as pa
import pytest
from mdm_plugin_sqlite.backend import SQLiteBackend, db_path
from mdm_plugin_sqlite.settings import SQLiteSettings

from mdm_core.errors import StorageError
from mdm_core.storage import StoreRef

BASE = pa.table({"a": [1, 2, 3], "b": ["x", "y", None]})
EXTENDED = BASE.append_column("c", pa.array([0.5, None, 2.5]))


@pytest.fixture
def store(tmp_path):
    ref = StoreRef("s", tmp_path / "s")
    with SQLiteBackend(SQLiteSettings()).create_store(ref) as store:
        store.write_table("base", BASE.schema, BASE.to_batches())
        store.write_extension("ext", "base", EXTENDED.schema, EXTENDED.to_batches())
        yield store, ref


def test_only_the_new_columns_are_stored_and_the_side_table_is_hidden(store):
    store, ref = store
    assert store.list_tables() == ["base", "ext"]
    con = sqlite3.connect(db_path(ref))
    try:
        kinds = dict(con.execute("SELECT name, type FROM sqlite_master WHERE name IN ('ext', '_mdm_ext_ext')"))
        side_columns = [r[1] for r in con.execute("PRAGMA table_info(_mdm_ext_ext)")]
        rows = con.execute('SELECT * FROM "ext"').fetchall()
    finally:
        con.close()
    assert kinds == {"ext": "view", "_mdm_ext_ext": "table"}
    assert side_columns == ["c"]
    assert rows == [(1, "x", 0.5), (2, "y", None), (3, None, 2.5)]


@pytest.mark.parametrize("change", [
    lambda s: s.drop_table("base"),
    lambda s: s.drop_columns("base", ["b"]),
    lambda s: s.write_table("base", BASE.schema, BASE.to_batches(), replace=True),
    lambda s: s.rename_table("ext", "base"),
])
def test_the_base_of_an_extension_cannot_be_changed(store, change):
    store, _ = store
    with pytest.raises(StorageError, match="ext extend"):
        change(store)
    assert store.read_table("ext").read_all().equals(EXTENDED)


def test_names_of_side_tables_are_reserved(store):
    store, _ = store
    with pytest.raises(StorageError, match="reserved"):
        store.write_table("_mdm_ext_other", BASE.schema, BASE.to_batches())
