"""DuckDB specifics: settings reach the engine, extra types, Parquet export, and the
file-lock rules (many read-only processes, or one writer)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mdm_plugin_duckdb.backend import DuckDBBackend
from mdm_plugin_duckdb.settings import DuckDBSettings

from mdm_core.errors import StorageError
from mdm_core.storage import StoreRef
from mdm_core.testing.data import assert_tables_equal, extra_types_table, sample_table


@pytest.fixture
def backend(tmp_path):
    return DuckDBBackend(DuckDBSettings(memory_limit="300MB", threads=1, temp_directory=str(tmp_path / "spill")))


@pytest.fixture
def ref(tmp_path):
    return StoreRef(key="ds", folder=tmp_path / "ds")


def test_settings_reach_the_engine(backend, ref, tmp_path):
    with backend.create_store(ref) as store:
        row = store.execute_sql(
            "SELECT current_setting('memory_limit') AS m, current_setting('threads') AS t, "
            "current_setting('temp_directory') AS d"
        ).to_pylist()[0]
    assert row["m"].startswith("286") or "MiB" in row["m"]  # 300MB reported in MiB
    assert int(row["t"]) == 1
    assert row["d"].endswith("spill")


def test_extra_types_round_trip(backend, ref):
    table = extra_types_table()
    with backend.create_store(ref) as store:
        store.write_table("extra", table.schema, table.to_batches())
        assert_tables_equal(table, store.read_table("extra").read_all())


def test_export_parquet(backend, ref, tmp_path):
    table = sample_table(20).drop_columns(["all_null"])
    with backend.create_store(ref) as store:
        store.write_table("t", table.schema, table.to_batches())
        path = store.export_parquet("t", tmp_path / "out 'x'.parquet")
    back = pq.read_table(path)
    assert back.num_rows == 20 and back.column_names == table.column_names
    assert back.column("int64").to_pylist() == table.column("int64").to_pylist()


def test_one_file_per_dataset(backend, ref):
    backend.create_store(ref).close()
    assert (ref.folder / "dataset.duckdb").is_file()
    assert backend.describe(ref)["file"] == "dataset.duckdb"


_READER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from mdm_plugin_duckdb.settings import DuckDBSettings
    from mdm_core.storage import StoreRef
    from mdm_plugin_duckdb.backend import DuckDBBackend
    backend = DuckDBBackend(DuckDBSettings(threads=1, memory_limit="200MB"))
    try:
        with backend.open_store(StoreRef("ds", Path(sys.argv[1])), read_only=True) as store:
            print(store.row_count("t"), flush=True)
            time.sleep(float(sys.argv[2]))
    except Exception as exc:
        print(type(exc).__name__, exc, flush=True)
    """
)


def _reader(folder, hold: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _READER, str(folder), str(hold)],
                            stdout=subprocess.PIPE, text=True)


def test_several_read_only_processes_at_once(backend, ref):
    with backend.create_store(ref) as store:
        store.write_table("t", pa.schema([("a", pa.int64())]), [pa.record_batch({"a": [1, 2, 3]})])
    readers = [_reader(ref.folder, 1.5) for _ in range(3)]
    outputs = [r.communicate(timeout=60)[0].strip() for r in readers]
    assert outputs == ["3", "3", "3"]


def test_writer_excludes_other_processes_with_a_clear_error(backend, ref):
    with backend.create_store(ref) as store:
        store.write_table("t", pa.schema([("a", pa.int64())]), [pa.record_batch({"a": [1]})])
        output = _reader(ref.folder, 0).communicate(timeout=60)[0]
    assert output.startswith("StorageError") and "locked by another process" in output


def test_open_store_cannot_be_dropped(backend, ref):
    store = backend.create_store(ref)
    with pytest.raises(StorageError, match="still open"):
        backend.drop_store(ref)
    store.close()
    backend.drop_store(ref)
    assert not backend.store_exists(ref)
