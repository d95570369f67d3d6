"""Batches that fit the memory budget (mdm_core.memory): with wide rows and a tiny
``performance.memory_budget_mb`` a registration, an export and a migration copy read
fewer rows per batch and still move every row; a MemoryError is retried once with half
the rows, then reported naming ``performance.batch_size``."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mdm_core.backends import get_backend
from mdm_core.datasets.client import MDMClient
from mdm_core.datasets.export import export_tables
from mdm_core.errors import OutOfMemory
from mdm_core.memory import MIB, WORKING_COPIES, governed_rows, retry_on_memory_error
from mdm_core.migration.copy import copy_table
from mdm_core.storage import StoreRef

ROWS = 3_000
WIDTH = 2_000  # bytes of text per row: 1 MB holds about 130 such rows four times over


@pytest.fixture
def wide_csv(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("id,text\n" + "".join(f"{i},{chr(97 + i % 26) * WIDTH}\n" for i in range(ROWS)))
    return path


class RecordingStore:
    """A real store whose reads record the rows of every batch they yield."""

    def __init__(self, store):
        self._store = store
        self.batch_rows: list[int] = []

    def __getattr__(self, name):
        return getattr(self._store, name)

    def read_table(self, name, **options):
        reader = self._store.read_table(name, **options)

        def batches():
            for batch in reader:
                self.batch_rows.append(batch.num_rows)
                yield batch

        return pa.RecordBatchReader.from_batches(reader.schema, batches())


def _expected_cap() -> int:
    return int(MIB // (WIDTH * WORKING_COPIES))  # each row holds at least WIDTH bytes


@pytest.mark.slow
def test_registration_lowers_its_batch_size_for_wide_rows(run_mdm, home, wide_csv, tmp_path):
    log_file = tmp_path / "mdm.log"
    env = {"MDM_PERFORMANCE_MEMORY_BUDGET_MB": "1", "MDM_LOGGING_FILE": str(log_file),
           "MDM_LOGGING_LEVEL": "INFO", "MDM_LOGGING_FORMAT": "json"}
    result = run_mdm("dataset", "register", "wide", str(wide_csv), "--no-features", env=env)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in log_file.read_text().splitlines() if line.startswith("{")]
    lowered = [r for r in records if r.get("event") == "batch size lowered to fit the memory budget"]
    assert lowered and lowered[0]["stream"] == "wide.csv" and lowered[0]["batch_size"] == 10_000
    assert 100 <= lowered[0]["rows"] <= _expected_cap()
    table = MDMClient().load_arrow("wide")
    assert table.num_rows == ROWS
    assert table.column("id").to_pylist() == list(range(ROWS))
    assert all(len(t) == WIDTH for t in table.column("text").to_pylist())


def test_export_and_copy_read_smaller_batches_and_move_every_row(home, wide_csv, tmp_path):
    client = MDMClient()
    info = client.register_dataset("wide", wide_csv, generate_features=False, backend="sqlite")
    expected = client.load_arrow("wide")
    with client.open_store("wide") as real:
        store = RecordingStore(real)
        export_tables(store, info, tmp_path / "out", fmt="parquet", batch_size=10_000, memory_budget_mb=1)
        exported = pq.read_table(next((tmp_path / "out").iterdir()))
        assert exported.num_rows == ROWS and exported.column("text").equals(expected.column("text"))
        export_sizes, store.batch_rows = store.batch_rows, []

        backend = get_backend("duckdb", client.settings)
        with backend.create_store(StoreRef("copy", tmp_path / "copy")) as target:
            result = copy_table(store, "data", target, backend, batch_size=10_000, memory_budget_mb=1)
        copy_sizes = store.batch_rows
    assert result.verified and result.rows_written == ROWS
    for sizes in (export_sizes, copy_sizes):
        body = sizes[1:]  # the first read is the probe
        assert sum(body) == ROWS and max(body) <= _expected_cap() and len(body) > 10, sizes


def test_default_budget_keeps_batch_size_for_narrow_rows():
    batch = pa.record_batch({"x": pa.array(range(1_000), pa.int64())})
    assert governed_rows(10_000, 0, lambda n: [batch.slice(0, n)], what="narrow") == 10_000


def test_memory_error_is_retried_with_half_the_rows_then_named():
    tried: list[int] = []

    def run(rows: int) -> int:
        tried.append(rows)
        if rows > 600:
            raise MemoryError
        return rows

    assert retry_on_memory_error(run, 1_000, what="Exporting table 'train'", batch_size=1_000) == 500
    assert tried == [1_000, 500]
    with pytest.raises(OutOfMemory) as info:
        retry_on_memory_error(run, 4_000, what="Exporting table 'train'", batch_size=10_000)
    assert str(info.value) == (
        "Exporting table 'train' ran out of memory with batches of 2,000 rows; lower performance.batch_size "
        "(now 10,000) or performance.memory_budget_mb, or free memory by closing other programs."
    )
