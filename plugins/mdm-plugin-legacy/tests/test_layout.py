"""The names of MDM 1.x bookkeeping tables belong to this plugin: they are what a real 1.x
database holds, and the new backends (which write only ``_mdm_schema``) do not hide them."""

from __future__ import annotations

import sqlite3

import pyarrow as pa
from mdm_plugin_legacy.layout import LEGACY_BOOKKEEPING_TABLES


def test_the_names_are_those_of_a_real_1x_database(legacy):
    database = legacy / "home" / "datasets" / "penguins" / "penguins.sqlite"
    con = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        names = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        con.close()
    assert {"_metadata", "_columns", "_statistics"} == LEGACY_BOOKKEEPING_TABLES
    assert names >= LEGACY_BOOKKEEPING_TABLES


def test_new_backends_do_not_reserve_the_1x_names(home, tmp_path):
    from mdm_core.backends import get_backend
    from mdm_core.config import load_settings
    from mdm_core.storage import StoreRef

    table = pa.table({"x": pa.array([1, 2], pa.int64())})
    backend = get_backend("sqlite", load_settings().settings)
    with backend.create_store(StoreRef("ds", tmp_path / "ds")) as store:
        for name in sorted(LEGACY_BOOKKEEPING_TABLES):
            store.write_table(name, table.schema, table.to_batches())
        assert set(store.list_tables()) >= LEGACY_BOOKKEEPING_TABLES
        assert store.read_table("_metadata").read_all().equals(table)
