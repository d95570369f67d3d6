"""``mdm dataset split`` / ``client.split_dataset``: random, stratified and time splits into
a new dataset, checked row by row against the source (penguins and 20,000 NYC flights)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from mdm_core.errors import DatasetError

FLIGHT_ROWS = 20_000



def _sorted(table: pa.Table) -> pa.Table:
    return table.sort_by([(c, "ascending") for c in table.column_names])


def _assert_partition(client, source: str, table: str, split: str) -> tuple[pa.Table, pa.Table]:
    """train and test of ``split`` are disjoint (by id) and together the source's rows (a
    ``timestamp[s]`` column comes back as ``timestamp[ms]``: Parquet has no seconds unit)."""
    train, test = client.load_arrow(split, "train"), client.load_arrow(split, "test")
    whole = client.load_arrow(source, table).cast(train.schema)
    assert _sorted(pa.concat_tables([train, test])).equals(_sorted(whole))
    key = "id" if "id" in whole.column_names else None
    if key:
        assert not set(train[key].to_pylist()) & set(test[key].to_pylist())
    return train, test


def test_random_split_is_exact_and_repeatable_on_every_backend(any_backend, client, run_mdm, penguins):
    client.register_dataset("penguins", penguins, generate_features=False)
    done = run_mdm("dataset", "split", "penguins", "--test-size", "0.3", "--no-features", "--format", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    n = client.get_dataset_info("penguins").table("train").row_count
    assert result == {
        "dataset": "penguins_split", "backend": any_backend.name, "source": "penguins", "table": "train",
        "method": "random", "rows": {"train": n - round(n * 0.3), "test": round(n * 0.3)}, "test_size": 0.3,
        "seed": 42, "column": None, "test_days": None, "test_from": None, "dropped": 0,
    }
    train, test = _assert_partition(client, "penguins", "train", "penguins_split")
    info = client.get_dataset_info("penguins_split")
    source = client.get_dataset_info("penguins")
    assert (info.backend, info.target_column, info.problem_type, info.id_columns) == (
        any_backend.name, source.target_column, source.problem_type, source.id_columns)
    assert "split" in info.tags and [t.name for t in info.tables] == ["train", "test"]
    assert info.source == "split of dataset 'penguins' table 'train'"
    assert not (client.settings.home / "tmp").exists()

    again = client.split_dataset("penguins", test_size=0.3, into="again", generate_features=False)
    assert sorted(client.load_arrow("again", "test")["id"].to_pylist()) == sorted(test["id"].to_pylist())
    other = client.split_dataset("penguins", test_size=0.3, seed=7, into="other", generate_features=False)
    assert other.rows == again.rows
    assert sorted(client.load_arrow("other", "test")["id"].to_pylist()) != sorted(test["id"].to_pylist())


def test_stratified_split_keeps_exact_counts_per_class(client, penguins):
    client.register_dataset("penguins", penguins, generate_features=False)
    result = client.split_dataset("penguins", test_size=0.25, stratify=True, generate_features=False)
    assert (result.method, result.column) == ("stratified", "species")
    train, test = _assert_partition(client, "penguins", "train", "penguins_split")
    classes = Counter(client.load_arrow("penguins", "train")["species"].to_pylist())
    assert Counter(test["species"].to_pylist()) == {c: round(n * 0.25) for c, n in classes.items()}

    by_island = client.split_dataset("penguins", test_size=0.5, stratify_column="island", into="by_island",
                                     generate_features=False)
    assert by_island.column == "island"
    islands = Counter(client.load_arrow("penguins", "train")["island"].to_pylist())
    assert Counter(client.load_arrow("by_island", "test")["island"].to_pylist()) == {
        c: round(n * 0.5) for c, n in islands.items()}


def _pandas_time_split(csv: Path, test_size: float | None = None, days: int | None = None) -> tuple[int, int]:
    times = pd.to_datetime(pd.read_csv(csv)["time_hour"])
    low, high = times.min(), times.max()
    start = high - (high - low) * test_size if days is None else high - pd.Timedelta(days=days)
    return int((times < start).sum()), int((times >= start).sum())


@pytest.mark.parametrize(("test_size", "days"), [(0.2, None), (None, 3)])
def test_time_split_matches_pandas_on_every_backend(any_backend, client, flights_20k, test_size, days):
    client.register_dataset("flights", flights_20k, generate_features=False)
    options = {"test_days": days} if days else {"test_size": test_size, "time_column": "time_hour"}
    if days:
        client.update_dataset("flights", time_column="time_hour")
    result = client.split_dataset("flights", generate_features=False, **options)
    assert result.method == "time" and result.column == "time_hour" and result.seed is None
    assert (result.rows["train"], result.rows["test"]) == _pandas_time_split(flights_20k, test_size, days)
    train, test = _assert_partition(client, "flights", "data", "flights_split")
    assert pa.compute.max(train["time_hour"]).as_py() < pa.compute.min(test["time_hour"]).as_py()
    assert pd.Timestamp(result.test_from) <= pd.Timestamp(pa.compute.min(test["time_hour"]).as_py())
    assert client.get_dataset_info("flights_split").time_column == "time_hour"


def test_rows_without_time_go_to_neither_table(client, run_mdm, tmp_path):
    csv = tmp_path / "events.csv"
    csv.write_text("id,t,v\n1,2024-01-01,1\n2,,2\n3,2024-01-05,3\n4,2024-01-10,4\n5,,5\n")
    client.register_dataset("events", csv, generate_features=False)
    done = run_mdm("dataset", "split", "events", "--time-column", "t", "--test-size", "0.5", "--no-features")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Split table 'data' of dataset 'events' (by time on 't', test from 2024-01-05T12:00:00) into dataset "
        "'events_split' on sqlite: train 2 rows, test 1 rows.",
        "2 rows with no time in 't' went to neither table.",
    ]
    assert client.load_arrow("events_split", "train")["id"].to_pylist() == [1, 3]


@pytest.mark.parametrize(("args", "message"), [
    (["--test-size", "1.5"], "Error: Test size 1.5 is not between 0 and 1; pass e.g. --test-size 0.2."),
    (["--test-size", "0"], "Error: Test size 0.0 is not between 0 and 1; pass e.g. --test-size 0.2."),
    (["--stratify-column", "nope"], "Error: Column 'nope' is not in table 'train' of dataset 'penguins' (columns: "
                                    "id, species, island, bill_length_mm, bill_depth_mm, flipper_length_mm, "
                                    "body_mass_g, sex, year)."),
    (["--time-column", "species"], "Error: The column 'species' of table 'train' of dataset 'penguins' holds text "
                                   "that is not a timestamp (e.g. 'Adelie' or another species); pass --time-column with a timestamp, "
                                   "date or ISO 8601 text column."),
    (["--time-column", "year"], "Error: The column 'year' of table 'train' of dataset 'penguins' is int64, not a "
                                "timestamp, date or timestamp text; pass --time-column with a time column."),
    (["--test-days", "3"], "Error: Dataset 'penguins' has no time column; pass --time-column COLUMN."),
    (["--into", "Penguins"], "Error: Cannot split dataset 'penguins' into itself; pass --into with another name."),
    (["--test-size", "0.001"], "Error: Splitting table 'train' of dataset 'penguins' leaves 'test' empty; "
                               "change --test-size or --test-days."),
])
def test_bad_options_are_one_sentence(client, run_mdm, penguins, args, message):
    client.register_dataset("penguins", penguins, generate_features=False)
    done = run_mdm("dataset", "split", "penguins", "--no-features", *args)
    assert done.returncode == 1
    species = "|".join(("Adelie", "Chinstrap", "Gentoo"))  # pyarrow names any value that failed
    assert [re.sub(f"'({species})'", "'Adelie' or another species", line)
            for line in done.stderr.strip().splitlines()] == [message]
    assert not client.dataset_exists("penguins_split")
    assert not (client.settings.home / "tmp").exists()


def test_existing_target_needs_force(client, penguins):
    client.register_dataset("penguins", penguins, generate_features=False)
    client.split_dataset("penguins", generate_features=False)
    with pytest.raises(DatasetError, match="Dataset 'penguins_split' already exists; use --force"):
        client.split_dataset("penguins", generate_features=False)
    replaced = client.split_dataset("penguins", test_size=0.5, force=True, generate_features=False)
    assert client.get_dataset_info("penguins_split").table("test").row_count == replaced.rows["test"]


def test_features_follow_the_flag(client, penguins):
    client.register_dataset("penguins", penguins, generate_features=False)
    client.split_dataset("penguins")
    assert [t.name for t in client.get_dataset_info("penguins_split").tables] == [
        "train", "test", "train_features", "test_features"]
