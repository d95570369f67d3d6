"""Registration fits the feature engine while it writes the training table: the feature
tables it writes equal those a later ``features regenerate`` (which fits on the stored
table) writes, on every backend, for CSV and Parquet sources, and after a late column
widening restarts the write."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from mdm_core.datasets.client import MDMClient
from mdm_core.testing.data import assert_tables_equal

BACKENDS = ["sqlite", "duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)]
FEATURE_TABLES = ("train_features", "test_features")


def _flights(flights_csv, rows: int) -> pa.Table:
    reader = pacsv.open_csv(flights_csv, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    batches, seen = [], 0
    for batch in reader:
        batches.append(batch)
        seen += batch.num_rows
        if seen >= rows:
            break
    table = pa.Table.from_batches(batches).slice(0, rows)
    return table.add_column(0, "id", pa.array(np.arange(rows)))


def _feature_tables(client: MDMClient, name: str) -> dict[str, pa.Table]:
    return {t: client.load_arrow(name, t) for t in FEATURE_TABLES}


def _assert_registration_matches_regeneration(client: MDMClient, name: str, folder, **kw) -> None:
    info = client.register_dataset(name, folder, **kw)
    try:
        registered = _feature_tables(client, name)
        assert registered["train_features"].num_rows == info.table("train").row_count
        client.regenerate_features(name)
        regenerated = _feature_tables(client, name)
        for table in FEATURE_TABLES:
            assert registered[table].schema == regenerated[table].schema, table
            assert_tables_equal(registered[table], regenerated[table])  # NaN equals NaN here
    finally:
        client.remove_dataset(name)


@pytest.mark.parametrize("backend", BACKENDS)
def test_csv_registration_features_equal_regenerated(home, monkeypatch, tmp_path, flights_csv, backend):
    if backend == "postgresql":
        from mdm_core.testing.postgres import require_server

        monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", require_server())
    flights = _flights(flights_csv, 36_000)  # past the 20,000-row detection sample
    folder = tmp_path / "flights"
    folder.mkdir()
    pacsv.write_csv(flights.slice(0, 30_000), folder / "train.csv")
    pacsv.write_csv(flights.slice(30_000).drop_columns(["arr_delay"]), folder / "test.csv")
    _assert_registration_matches_regeneration(MDMClient(), "f", folder, target="arr_delay", backend=backend)


@pytest.mark.parametrize("backend", ["sqlite", "duckdb"])
def test_parquet_with_nan_registration_features_equal_regenerated(home, tmp_path, backend):
    """SQLite stores NaN as NULL: the fit must see what the store gives back."""
    rng = np.random.default_rng(7)
    rows = 25_000
    values = rng.normal(size=rows)
    values[rng.random(rows) < 0.1] = np.nan
    data = pa.table({
        "x": pa.array(values),
        "y": pa.array(np.where(rng.random(rows) < 0.05, None, rng.exponential(size=rows))),
        "group": pa.array(rng.choice(["a", "b", "c"], size=rows)),
        "label": pa.array(rng.integers(0, 2, size=rows)),
    })
    folder = tmp_path / "nan"
    folder.mkdir()
    pq.write_table(data.slice(0, 20_000), folder / "train.parquet")
    pq.write_table(data.slice(20_000).drop_columns(["label"]), folder / "test.parquet")
    _assert_registration_matches_regeneration(MDMClient(), "n", folder, target="label", backend=backend)


def test_late_widening_restarts_the_fit(home, tmp_path):
    rows = 30_000
    train = [f"{i},{i % 97},{(i * 7) % 13}" for i in range(rows)] + [f"{rows},not-a-number,3"]
    folder = tmp_path / "late"
    folder.mkdir()
    (folder / "train.csv").write_text("id,value,label\n" + "\n".join(train) + "\n")
    (folder / "test.csv").write_text("id,value\n" + "\n".join(f"{i},{i % 50}" for i in range(500)) + "\n")
    client = MDMClient()
    info = client.register_dataset("late", folder, target="label")
    assert info.table("train").column_types()["value"] != "numeric"  # widened to text
    client.remove_dataset("late")
    _assert_registration_matches_regeneration(client, "late", folder, target="label")
