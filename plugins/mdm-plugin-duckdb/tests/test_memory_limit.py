"""A DuckDB query larger than ``memory_limit`` spills to ``temp_directory`` and is right,
or, when it cannot spill, fails with one sentence naming the settings."""

from __future__ import annotations

import hashlib

import pytest
from mdm_plugin_duckdb.backend import DuckDBBackend
from mdm_plugin_duckdb.settings import DuckDBSettings

from mdm_core.errors import StorageError
from mdm_core.storage import StoreRef

ROWS = 1_000_000
SORT = f"SELECT count(*) AS n, min(h) AS lo, max(h) AS hi FROM (SELECT md5(i::VARCHAR) AS h FROM range({ROWS}) t(i) ORDER BY h)"


def test_sort_over_the_limit_spills_to_temp_directory(tmp_path):
    spill = tmp_path / "spill"
    backend = DuckDBBackend(DuckDBSettings(memory_limit="32MB", threads=1, temp_directory=str(spill)))
    with backend.create_store(StoreRef("ds", tmp_path / "ds")) as store:
        row = store.execute_sql(SORT).to_pylist()[0]
        spilled = [p.name for p in spill.iterdir()] if spill.is_dir() else []
    hashes = [hashlib.md5(str(i).encode()).hexdigest() for i in range(ROWS)]
    assert row == {"n": ROWS, "lo": min(hashes), "hi": max(hashes)}
    assert any(name.startswith("duckdb_temp") for name in spilled), spilled


def test_query_that_cannot_spill_names_memory_limit(tmp_path):
    backend = DuckDBBackend(DuckDBSettings(memory_limit="10MB", threads=1, temp_directory=str(tmp_path / "spill")))
    with backend.create_store(StoreRef("ds", tmp_path / "ds")) as store, pytest.raises(StorageError) as info:
        store.execute_sql(f"SELECT len(list(md5(i::VARCHAR))) AS n FROM range({2 * ROWS}) t(i)")
    message = str(info.value)
    assert message.startswith("SQL ran out of DuckDB memory (failed to ")
    assert message.endswith(
        f"raise database.duckdb.memory_limit (now 10MB), lower database.duckdb.threads (now 1) or point "
        f"database.duckdb.temp_directory (now {tmp_path / 'spill'}) at a disk with room to spill."
    )
    assert "\n" not in message
