"""The read-only 1.x home reader on the real MDM 1.0.6 fixture (copied, then damaged).

Covers :mod:`mdm_plugin_legacy.config_1x`, :mod:`~mdm_plugin_legacy.catalog_1x` and the
SQLite/DuckDB side of :mod:`~mdm_plugin_legacy.databases_1x` (PostgreSQL:
``test_home_reader_postgres.py``). Every read is checked byte for byte: the hash of every
file of the home before and after, and no file appearing.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from mdm_plugin_legacy.catalog_1x import LegacyDataset, find_dataset, inspect_dataset, scan_home
from mdm_plugin_legacy.config_1x import is_legacy_home, load_settings_1x
from mdm_plugin_legacy.locations_1x import FileLocation
from mdm_plugin_legacy.open_1x import open_legacy_database

from mdm_core.errors import ConfigError, StorageError
from mdm_core.testing.home import snapshot

FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures"

#: (dataset, table) -> the source file 1.x registered it from (relative to data/).
SOURCES = {
    ("penguins", "train"): "penguins/train.csv",
    ("penguins", "test"): "penguins/test.csv",
    ("penguins", "sample_submission"): "penguins/sample_submission.csv",
    ("sample", "train"): "sample/train.csv",
    ("sample", "test"): "sample/test.csv",
    ("sample", "sample_submission"): "sample/sample_submission.csv",
    ("penguins_raw", "data"): "penguins_raw.csv",
    ("weather", "data"): "weather/weather.csv",
}


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch):
    for key in list(os.environ):
        if (key.startswith("MDM_") and key != "MDM_TEST_POSTGRES_DSN") or key.startswith("PG"):
            monkeypatch.delenv(key)


@pytest.fixture
def home(legacy) -> Path:
    return legacy / "home"


def by_name(records: list[LegacyDataset]) -> dict[str, LegacyDataset]:
    return {r.name: r for r in records}


def read_all(dataset: LegacyDataset, table: str, **kwargs) -> pa.Table:
    with open_legacy_database(dataset) as db:
        return db.read_table(table, **kwargs).read_all()


def expected_column(series: pd.Series) -> list:
    return [None if (isinstance(v, float) and math.isnan(v)) else (v.item() if hasattr(v, "item") else v)
            for v in series.tolist()]


def assert_same_values(name: str, column: str, expected: list, got: list) -> None:
    """Equal values; floats may differ by one unit in the last place: 1.x parsed CSVs with
    pandas' fast float parser (weather.csv's ``10.357019999999999`` was stored as
    ``10.35702``), and what 1.x stored is what must come back."""
    assert len(expected) == len(got), (name, column)
    for row, (want, have) in enumerate(zip(expected, got, strict=True)):
        if isinstance(want, float) and isinstance(have, float):
            assert abs(want - have) <= math.ulp(want), (name, column, row, want, have)
        else:
            assert want == have, (name, column, row, want, have)


# -- the catalog -----------------------------------------------------------------------
def test_the_four_datasets_and_their_metadata(home):
    records = scan_home(home)
    assert [r.name for r in records] == ["penguins", "penguins_raw", "sample", "weather"]
    ds = by_name(records)
    assert all(r.status == "ok" and r.origin == "yaml" and r.inspected for r in records)

    penguins = ds["penguins"]
    assert penguins.backend == "sqlite"
    assert penguins.tags == ["birds", "classification"]
    assert penguins.problem_type == "multiclass_classification" and penguins.problem_type_known
    assert penguins.target_column == "species"
    assert penguins.id_columns == ["id"]
    assert penguins.description == "Palmer penguins, Kaggle-style split"
    assert penguins.tables == {"train": "train", "test": "test", "sample_submission": "sample_submission"}
    assert penguins.feature_tables == {k: k for k in ("train_features", "test_features",
                                                      "sample_submission_features")}
    assert penguins.incomplete_features == [] and penguins.problems == []
    assert penguins.row_counts["train"] == 272 and penguins.row_counts["test_features"] == 72
    assert penguins.registered_at == datetime(2026, 11, 21, 1, 50, 11, 885353, tzinfo=UTC)
    assert penguins.source == "penguins" and penguins.version == "1.0.0"
    assert penguins.statistics["row_count"] == 344
    assert "journal_mode" in penguins.database_options and "path" not in penguins.database_options

    raw = ds["penguins_raw"]
    assert raw.display_name == "Penguins-Raw"
    assert raw.target_column == "Body Mass (g)" and raw.id_columns == ["Individual ID"]
    assert raw.tables == {"data": "data"} and raw.feature_tables == {"data_features": "data_features"}
    assert raw.datetime_columns == ["Date Egg"] and raw.problem_type == "regression"

    sample = ds["sample"]
    assert sample.tags == ["demo", "tiny"] and sample.feature_tables == {}
    assert sample.last_updated_at == datetime(2026, 11, 21, 1, 50, 33, 684647, tzinfo=UTC)

    weather = ds["weather"]
    assert weather.backend == "duckdb" and isinstance(weather.location, FileLocation)
    assert weather.location.engine == "duckdb"
    assert weather.id_columns == ["humid"] and weather.time_column == "time_hour"
    assert weather.datetime_columns == ["time_hour"]
    assert weather.tables == {"data": "data"}
    assert weather.feature_tables == {"data_features": "data_features"}
    assert weather.incomplete_features == ["data_features"] and weather.complete_feature_tables == {}
    assert weather.row_counts == {"data": 26115, "data_features": 5000}
    [problem] = weather.problems
    assert "data_features" in problem and "5,000 of 26,115" in problem and "not in the YAML" in problem


def test_absolute_paths_of_the_old_home_are_rerooted(home):
    for record in scan_home(home, inspect=False):
        assert record.location.recorded.startswith("/srv/mdm-legacy/.mdm/")
        assert record.location.how == "re-rooted"
        assert record.location.path == home / "datasets" / record.name / f"{record.name}.{record.backend}"


def test_stale_dataset_info_json_is_reported_and_the_yaml_wins(home):
    sample = by_name(scan_home(home))["sample"]
    assert sample.status == "ok"
    [problem] = sample.problems
    assert "datasets/sample/dataset_info.json is stale" in problem
    for field in ("description", "tags", "last_updated_at"):
        assert field in problem
    assert sample.description == "Tiny sample competition"


def test_leftovers_and_unknown_keys_are_ignored(home):
    (home / "feature_flags.yaml").write_text("use_new_backend: true\n")
    (home / "migration_state.json").write_text("{}")
    (home / "rollback_history.json").write_text("[]")
    (home / "metrics.db").write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    for folder in ("cache", "logs"):
        (home / folder).mkdir()
        (home / folder / "x.json").write_text("{}")
    (home / "config" / "datasets" / "feature_flags.yaml").write_text("a: 1\n")
    for folder in ("cache", "logs"):
        (home / "datasets" / folder).mkdir()
    yaml_path = home / "config" / "datasets" / "penguins.yaml"
    yaml_path.write_text(yaml_path.read_text() + "some_future_key: {a: 1}\nowner: me\n")
    records = scan_home(home)
    assert [r.name for r in records] == ["penguins", "penguins_raw", "sample", "weather"]
    assert by_name(records)["penguins"].problems == []


def test_odd_problem_type_is_kept_and_flagged(home):
    path = home / "config" / "datasets" / "penguins.yaml"
    path.write_text(path.read_text().replace("multiclass_classification", "time-series"))
    penguins = by_name(scan_home(home))["penguins"]
    assert penguins.status == "ok" and penguins.problem_type == "time-series"
    assert not penguins.problem_type_known
    assert any("'time-series' is not one MDM knows" in p for p in penguins.problems)


# -- values ------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "table"), sorted(SOURCES))
def test_values_read_back_equal_the_source_csv(legacy, name, table):
    dataset = find_dataset(legacy / "home", name)
    got = read_all(dataset, table, batch_size=1000)
    source = pd.read_csv(legacy / "data" / SOURCES[name, table])
    assert got.num_rows == len(source) == dataset.row_counts[table]
    assert got.column_names == list(source.columns)
    for column in source.columns:
        assert_same_values(name, column, expected_column(source[column]), got[column].to_pylist())


def test_types_are_what_1x_stored(home):
    ds = by_name(scan_home(home))
    with open_legacy_database(ds["penguins_raw"]) as db:
        data = db.table_schema("data")
        assert data.field("Sample Number").type == pa.int64()
        assert data.field("Body Mass (g)").type == pa.float64()
        assert data.field("Date Egg").type == pa.string()  # CSV dates stay TEXT
        features = db.table_schema("data_features")
        assert features.field("Date Egg").type == pa.string()  # DATETIME: pandas stored text
        assert features.field("studyName_PAL0708").type == pa.bool_()
        head = db.read_table("data_features", columns=["Date Egg", "studyName_PAL0708"], limit=2).read_all()
        assert head.column("Date Egg").to_pylist() == ["2007-11-11 00:00:00.000000"] * 2
        assert db.column_notes("data_features") == {}
    with open_legacy_database(ds["weather"]) as db:
        assert db.table_schema("data").field("time_hour").type == pa.string()
        stamps = db.read_table("data_features", columns=["time_hour"], limit=1).read_all()
        assert stamps.schema.field("time_hour").type == pa.timestamp("us", "UTC")
        assert stamps.column(0)[0].as_py() == datetime(2013, 1, 1, 6, tzinfo=UTC)


def test_feature_tables_start_with_their_source_columns(home):
    penguins = find_dataset(home, "penguins")
    train = read_all(penguins, "train")
    features = read_all(penguins, "train_features")
    assert features.column_names[: train.num_columns] == train.column_names
    assert features.select(train.column_names).equals(train)


def test_reads_stream_in_bounded_batches(home):
    weather = find_dataset(home, "weather")
    with open_legacy_database(weather) as db:
        reader = db.read_table("data", batch_size=1000)
        sizes = [batch.num_rows for batch in reader]
        assert max(sizes) <= 1000 and sum(sizes) == 26115 and len(sizes) == 27
        limited = db.read_table("data", columns=["temp", "origin"], limit=2500, batch_size=1000).read_all()
        assert limited.column_names == ["temp", "origin"] and limited.num_rows == 2500
    penguins = find_dataset(home, "penguins")
    with open_legacy_database(penguins) as db:
        sizes = [b.num_rows for b in db.read_table("train", batch_size=100)]
        assert sizes == [100, 100, 72]
        assert db.read_table("train", limit=0).read_all().num_rows == 0


def test_a_database_may_be_open_twice_at_once(home):
    for name in ("weather", "penguins"):
        dataset = find_dataset(home, name, inspect=False)
        with open_legacy_database(dataset) as first, open_legacy_database(dataset) as second:
            table = next(iter(dataset.tables.values()))
            reader = first.read_table(table, batch_size=10)
            reader.read_next_batch()
            assert second.row_count(table) == first.row_count(table)
            assert second.read_table(table, limit=5).read_all().num_rows == 5


def test_bookkeeping_tables_are_never_listed_or_read(home):
    penguins = find_dataset(home, "penguins")
    with sqlite3.connect(f"file:{penguins.location.path}?mode=ro&immutable=1", uri=True) as raw:
        present = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"_metadata", "_columns", "_statistics"} <= present
    with open_legacy_database(penguins) as db:
        assert db.list_tables() == ["train", "test", "sample_submission", "train_features",
                                    "test_features", "sample_submission_features"]
        for hidden in ("_metadata", "_columns", "_statistics"):
            with pytest.raises(StorageError, match=hidden):
                db.read_table(hidden)
    assert set(penguins.row_counts) == set(penguins.tables.values()) | set(penguins.feature_tables.values())


def test_unknown_tables_and_columns_are_one_sentence(home):
    with open_legacy_database(find_dataset(home, "sample")) as db:
        with pytest.raises(StorageError, match=r"Table 'nope' is not in the 1.x sqlite file .*tables: train"):
            db.read_table("nope")
        with pytest.raises(StorageError, match="has no column 'nope'"):
            db.read_table("train", columns=["id", "nope"])
        with pytest.raises(StorageError, match="limit"):
            db.read_table("train", limit=-1)


# -- reading never writes ----------------------------------------------------------------
def test_reading_never_changes_a_byte_of_the_home(home, legacy):
    for name in ("penguins", "penguins_raw", "sample"):  # WAL mode: header bytes 18-19 are 2
        header = (home / "datasets" / name / f"{name}.sqlite").read_bytes()[:20]
        assert header[18] == header[19] == 2
    before = snapshot(legacy)

    def unchanged(step: str) -> None:
        assert snapshot(legacy) == before, f"{step} changed the home"

    settings = load_settings_1x(home)
    assert is_legacy_home(home, settings)
    records = scan_home(home, settings)
    unchanged("scan_home")
    for record in records:
        inspect_dataset(record)
        find_dataset(home, record.name)
        unchanged(f"inspecting {record.name}")
        with open_legacy_database(record) as db:
            for table in db.list_tables():
                db.table_schema(table)
                db.row_count(table)
                db.column_notes(table)
                for _ in db.read_table(table, batch_size=777):
                    pass
                db.read_table(table, columns=db.table_schema(table).names[:2], limit=3).read_all()
                unchanged(f"reading {record.name}.{table}")
            with pytest.raises(StorageError):
                db.read_table("missing_table")
        unchanged(f"closing {record.name}")


def test_a_pending_wal_is_read_from_a_private_copy(home):
    sample = find_dataset(home, "sample")
    writer = sqlite3.connect(sample.location.path)
    try:  # a 1.x process that committed a row and has not checkpointed yet
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute("INSERT INTO train (id, target) VALUES (999, 1)")
        writer.commit()
        assert (home / "datasets" / "sample" / "sample.sqlite-wal").stat().st_size > 0
        before = snapshot(home)
        temp_before = set(os.listdir(tempfile.gettempdir()))
        with open_legacy_database(sample) as db:
            assert db.row_count("train") == 11
            assert db.read_table("train", columns=["id"]).read_all().column(0).to_pylist()[-1] == 999
            assert "private copy" in db.describe()["read_from"]
        assert snapshot(home) == before
        assert set(os.listdir(tempfile.gettempdir())) - temp_before == set()
    finally:
        writer.close()


def test_a_leftover_duckdb_wal_is_replayed_without_writing(home):
    weather = find_dataset(home, "weather", inspect=False)
    code = (
        "import duckdb, os, sys\n"
        "con = duckdb.connect(sys.argv[1])\n"
        "con.execute('PRAGMA disable_checkpoint_on_shutdown')\n"
        "con.execute(\"SET checkpoint_threshold = '10GB'\")\n"
        "con.execute(\"INSERT INTO data (origin, year) VALUES ('XYZ', 2099)\")\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(weather.location.path)], check=True, timeout=120)
    wal = weather.location.path.with_name("weather.duckdb.wal")
    assert wal.is_file()
    before = snapshot(home)
    with open_legacy_database(weather) as db:
        assert db.row_count("data") == 26116
        last = db.read_table("data", columns=["origin", "year"]).read_all().slice(26115)
        assert last.to_pylist() == [{"origin": "XYZ", "year": 2099}]
    assert snapshot(home) == before


# -- damaged homes ---------------------------------------------------------------------------
def test_a_dataset_whose_yaml_is_gone_is_discovered(home):
    (home / "config" / "datasets" / "penguins.yaml").unlink()
    penguins = by_name(scan_home(home))["penguins"]
    assert penguins.origin == "discovered" and penguins.status == "ok"
    assert penguins.yaml_path is None and penguins.info_path == home / "datasets" / "penguins" / "dataset_info.json"
    assert penguins.tags == ["birds", "classification"] and penguins.target_column == "species"
    assert penguins.tables == {"train": "train", "test": "test", "sample_submission": "sample_submission"}
    assert penguins.registered_at == datetime(2026, 11, 21, 1, 50, 11, 885353, tzinfo=UTC)
    assert any("config/datasets/penguins.yaml is gone" in p and "may be stale" in p for p in penguins.problems)
    assert read_all(penguins, "train").num_rows == 272


def test_a_folder_with_only_a_database_is_discovered(home):
    (home / "config" / "datasets" / "sample.yaml").unlink()
    (home / "datasets" / "sample" / "dataset_info.json").unlink()
    sample = by_name(scan_home(home))["sample"]
    assert sample.origin == "discovered" and sample.status == "ok" and sample.backend == "sqlite"
    assert sample.tables == {"train": "train", "test": "test", "sample_submission": "sample_submission"}
    assert any("metadata unknown" in p for p in sample.problems)


def test_a_missing_database_is_broken_and_the_others_still_work(home):
    (home / "datasets" / "sample" / "sample.sqlite").unlink()
    records = by_name(scan_home(home))
    sample = records["sample"]
    assert sample.status == "broken"
    message = " ".join(sample.problems)
    assert "database is missing" in message
    for tried in ("/srv/mdm-legacy/.mdm/datasets/sample/sample.sqlite", "datasets/sample/sample.sqlite",
                  "datasets/sample/dataset.sqlite", "datasets/sample/sample.db"):
        assert tried in message
    with pytest.raises(StorageError, match="sample"):
        open_legacy_database(sample)
    for name in ("penguins", "penguins_raw", "weather"):
        assert records[name].status == "ok"
        assert read_all(records[name], records[name].tables[next(iter(records[name].tables))]).num_rows > 0


def test_a_missing_data_table_makes_the_dataset_broken(home):
    path = home / "datasets" / "sample" / "sample.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("DROP TABLE test")
    sample = by_name(scan_home(home))["sample"]
    assert sample.status == "broken"
    assert any("Data table 'test' is missing from the database" in p for p in sample.problems)


def test_a_moved_home_is_rerooted(home, tmp_path):
    first = find_dataset(home, "penguins", inspect=False).location.path
    for path in (home / "config" / "datasets").glob("*.yaml"):  # paths of this very home
        text = path.read_text().replace("/srv/mdm-legacy/.mdm", str(home))
        path.write_text(text)
    assert find_dataset(home, "penguins", inspect=False).location.how == "recorded path"
    moved = tmp_path / "elsewhere" / "mdm-home"
    moved.parent.mkdir()
    shutil.move(str(home), str(moved))
    records = by_name(scan_home(moved))
    assert all(r.status == "ok" for r in records.values())
    penguins = records["penguins"]
    assert penguins.location.how == "re-rooted" and penguins.location.path == moved / first.relative_to(home)
    assert read_all(penguins, "test").num_rows == 72


def test_older_database_file_names_are_found_by_their_content(home):
    folder = home / "datasets"
    (folder / "penguins" / "penguins.sqlite").rename(folder / "penguins" / "dataset.sqlite")
    (folder / "weather" / "weather.duckdb").rename(folder / "weather" / "weather.db")
    records = by_name(scan_home(home))
    assert records["penguins"].location.path.name == "dataset.sqlite"
    assert records["penguins"].location.how == "fallback name"
    weather = records["weather"]
    assert weather.location.path.name == "weather.db" and weather.location.engine == "duckdb"
    assert weather.status == "ok" and weather.row_counts["data"] == 26115


def test_a_partial_declared_feature_table_is_incomplete(home):
    with sqlite3.connect(home / "datasets" / "penguins" / "penguins.sqlite") as con:
        con.execute("DELETE FROM train_features WHERE rowid > 100")
    penguins = by_name(scan_home(home))["penguins"]
    assert penguins.status == "ok"
    assert penguins.incomplete_features == ["train_features"]
    assert "train_features" not in penguins.complete_feature_tables.values()
    assert any("'train_features' has 100 of 272 rows of 'train' (incomplete)" in p for p in penguins.problems)


def test_find_dataset_never_looks_outside_the_home(home):
    assert find_dataset(home, "no_such_dataset") is None
    for name in ("../home/config/datasets/penguins", "", ".hidden", "a/b"):
        assert find_dataset(home, name) is None


def test_garbage_yaml_is_broken_with_the_reason_and_the_scan_goes_on(home):
    datasets = home / "config" / "datasets"
    (datasets / "penguins.yaml").write_text("name: penguins\ntables: {train: [unclosed\n")
    (datasets / "sample.yaml").write_text("- just\n- a list\n")
    weather = datasets / "weather.yaml"
    weather.write_text(weather.read_text().replace("tables:\n  data: data\n", "tables:\n- data\n"))
    raw = datasets / "penguins_raw.yaml"
    raw.write_text(raw.read_text().replace("database:\n  backend: sqlite\n", "database:\n  backend: 42x\n")
                   .replace("tags: []", "tags: single").replace("id_columns:\n- Individual ID\n", "id_columns: 7\n"))
    (datasets / "empty.yaml").write_text("")
    records = by_name(scan_home(home))
    assert set(records) == {"penguins", "sample", "weather", "penguins_raw", "empty"}
    penguins = records["penguins"]
    assert penguins.status == "broken"
    assert "config/datasets/penguins.yaml is not valid YAML at line" in penguins.problems[0]
    assert records["sample"].status == "broken" and "holds a list" in records["sample"].problems[0]
    assert records["empty"].status == "broken"
    assert records["weather"].status == "broken" and "'tables' is a list" in records["weather"].problems[0]
    assert records["penguins_raw"].status == "broken"
    assert "backend '42x' is not one MDM 1.x used" in records["penguins_raw"].problems[-1]
    assert records["penguins_raw"].tags == ["single"]
    for record in records.values():
        with pytest.raises(StorageError):
            open_legacy_database(record)


def test_wrong_types_in_minor_fields_are_ignored_with_a_note(home):
    path = home / "config" / "datasets" / "sample.yaml"
    path.write_text(path.read_text().replace("tags:\n- demo\n- tiny\n", "tags: demo\n")
                    .replace("description: Tiny sample competition", "description: [a, b]")
                    .replace("target_column: target", "target_column: 2020"))
    sample = by_name(scan_home(home))["sample"]
    assert sample.status == "ok"
    assert sample.tags == ["demo"] and sample.description == "" and sample.target_column == "2020"
    notes = " ".join(sample.problems)
    assert "'tags' is a single text" in notes and "'description' is a list" in notes


def test_naive_and_aware_timestamps(home):
    path = home / "config" / "datasets" / "sample.yaml"
    text = path.read_text()
    text = text.replace("registered_at: '2026-11-21T01:50:24.589639+00:00'", "registered_at: 2024-01-02 03:04:05+02:00")
    text = text.replace("last_updated_at: '2026-11-21T01:50:33.684647'", "last_updated_at: '2024-03-04T05:06:07'")
    path.write_text(text)
    sample = find_dataset(home, "sample")
    assert sample.registered_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert sample.registered_at.utcoffset() == timedelta(hours=2)
    assert sample.last_updated_at == datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)  # naive = UTC (1.x utcnow)
    path.write_text(text.replace("last_updated_at: '2024-03-04T05:06:07'", "last_updated_at: 'soon'"))
    sample = find_dataset(home, "sample")
    assert sample.status == "ok" and sample.last_updated_at is None
    assert any("'last_updated_at' 'soon' is not a timestamp" in p for p in sample.problems)


def test_custom_paths_from_the_1x_config_are_followed(home):
    (home / "mdm.yaml").write_text("paths:\n  configs_path: meta/\n  datasets_path: stores/\n")
    shutil.move(str(home / "config" / "datasets"), str(home / "meta"))
    shutil.move(str(home / "datasets"), str(home / "stores"))
    settings = load_settings_1x(home)
    assert settings.configs_dir == home / "meta" and settings.datasets_dir == home / "stores"
    assert is_legacy_home(home, settings)
    records = by_name(scan_home(home, settings))
    assert all(r.status == "ok" for r in records.values()) and len(records) == 4
    assert records["sample"].location.path == home / "stores" / "sample" / "sample.sqlite"


def test_a_file_that_is_no_database_is_broken(home):
    (home / "datasets" / "sample" / "sample.sqlite").write_bytes(b"not a database at all")
    (home / "datasets" / "penguins" / "penguins.sqlite").write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    before = snapshot(home)
    records = by_name(scan_home(home))
    sample = records["sample"]
    assert sample.status == "broken" and "neither a SQLite nor a DuckDB database" in sample.problems[-1]
    penguins = records["penguins"]  # SQLite magic, garbage after it
    assert penguins.status == "broken" and "cannot be read" in penguins.problems[-1]
    assert records["weather"].status == "ok"
    assert snapshot(home) == before


@pytest.mark.parametrize("halves", [False, True], ids=["whole", "halves"])
def test_values_that_do_not_fit_their_declared_type_are_read_as_text(home, halves, monkeypatch):
    """1.x appended CSV chunks with to_sql: a later chunk could put text into a FLOAT column
    (its first chunk was all missing) or reals into a BIGINT one. Nothing is lost, also
    when the type scan reads the table as two halves at once (a large table)."""
    from mdm_plugin_legacy import sqlite_1x

    monkeypatch.setattr(sqlite_1x, "PARALLEL_SCAN_ROWS", 1 if halves else 10**9)
    path = home / "datasets" / "sample" / "sample.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("INSERT INTO train (id, feature1, feature2, feature3, category, target) "
                    "VALUES (11, 'n/a', 2.5, 20240101, 'C', 1)")
        con.execute("INSERT INTO train (id, feature1, feature2, target) VALUES (12, 0.30000000000000004, 7, 0)")
        con.execute("CREATE TABLE blobs (a BIGINT, b)")
        con.execute("INSERT INTO blobs VALUES (1, x'00ff'), (2, 'text'), (3, 4.5)")
        con.execute("CREATE TABLE empty (a BIGINT, b FLOAT, c TEXT, d BOOLEAN, e DATETIME)")
    before = snapshot(home)
    sample = find_dataset(home, "sample")
    assert "Table 'blobs' is in the database but not in the dataset's tables; not served." in sample.problems
    with open_legacy_database(sample) as db:
        schema = db.table_schema("train")
        assert schema.field("feature1").type == pa.string()  # FLOAT holding text
        assert schema.field("feature2").type == pa.string()  # BIGINT holding a real
        assert schema.field("feature3").type == pa.string()  # TEXT: the integer became text
        assert schema.field("id").type == pa.int64() and schema.field("target").type == pa.int64()
        notes = db.column_notes("train")
        assert notes == {
            "feature1": "read as text: declared FLOAT but it also holds text values",
            "feature2": "read as text: declared BIGINT but it also holds real values",
        }
        rows = db.read_table("train", columns=["id", "feature1", "feature2", "feature3"]).read_all().to_pylist()
        assert rows[0] == {"id": 1, "feature1": "0.5", "feature2": "10", "feature3": "2024-01-01"}
        assert rows[-2] == {"id": 11, "feature1": "n/a", "feature2": "2.5", "feature3": "20240101"}
        assert rows[-1]["feature1"] == "0.30000000000000004"  # exact: float(text) round-trips
        blobs = db.read_table("blobs").read_all()
        assert blobs.schema.field("b").type == pa.binary()
        assert blobs.column("b").to_pylist() == [b"\x00\xff", b"text", b"4.5"]
        assert "read as binary" in db.column_notes("blobs")["b"]
        empty = db.table_schema("empty")
        assert [f.type for f in empty] == [pa.int64(), pa.float64(), pa.string(), pa.bool_(), pa.string()]
        assert db.read_table("empty").read_all().num_rows == 0
    assert snapshot(home) == before


# -- 1.x settings ----------------------------------------------------------------------------
def test_nested_config_with_env_overrides(home):
    env = {
        "MDM_PERFORMANCE_BATCH_SIZE": "777",
        "MDM_DATABASE_SQLITE_JOURNAL_MODE": "DELETE",  # multi-word key 1.x ignored
        "MDM_FEATURE_ENGINEERING_GENERIC_BINNING_N_BINS": "3,4",
        "MDM_BACKEND": "postgresql",  # flat form: the nested one wins
        "MDM_DATABASE_DEFAULT_BACKEND": "duckdb",
        "MDM_LOG_LEVEL": "ERROR",
        "MDM_DATABASE_NO_SUCH_KEY": "1",
        "MDM_HOME_DIR": "/elsewhere",
    }
    settings = load_settings_1x(home, environ=env)
    mdm_yaml = str(home / "mdm.yaml")
    assert settings.files == (mdm_yaml,)
    assert settings.values["performance"]["batch_size"] == "777"
    assert settings.sources["performance.batch_size"] == "env MDM_PERFORMANCE_BATCH_SIZE"
    assert settings.get("database.sqlite.journal_mode") == "DELETE"
    assert settings.sources["database.sqlite.journal_mode"] == "env MDM_DATABASE_SQLITE_JOURNAL_MODE"
    assert settings.get("feature_engineering.generic.binning.n_bins") == "3,4"
    assert settings.get("database.default_backend") == "duckdb"
    assert settings.sources["database.default_backend"] == "env MDM_DATABASE_DEFAULT_BACKEND"
    assert settings.get("logging.level") == "ERROR" and settings.sources["logging.level"] == "env MDM_LOG_LEVEL"
    assert settings.unknown == ["env MDM_DATABASE_NO_SUCH_KEY"]
    plain = load_settings_1x(home, environ={})
    assert plain.values == {"database": {"default_backend": "sqlite"}, "performance": {"batch_size": 5000},
                            "logging": {"level": "WARNING"}}
    assert set(plain.sources.values()) == {mdm_yaml}
    assert plain.get("paths.datasets_path") == "datasets/" and plain.get("cli.page_size") == 20


def test_flat_config_yaml_maps_to_the_nested_keys(tmp_path):
    home = tmp_path / "old-home"
    home.mkdir()
    shutil.copy(FIXTURES / "legacy-config" / "config.yaml", home / "config.yaml")
    with open(home / "config.yaml", "a") as handle:
        handle.write("colour_scheme: dark\n")
    flat = str(home / "config.yaml")
    settings = load_settings_1x(home, environ={"MDM_BATCH_SIZE": "3000"})
    assert settings.values == {
        "database": {"default_backend": "duckdb", "duckdb": {"memory_limit": "2GB"},
                     "sqlite": {"journal_mode": "WAL"},
                     "postgresql": {"host": "localhost", "port": 5432, "user": "mdm"}},
        "performance": {"batch_size": "3000"},
        "logging": {"level": "DEBUG"},
        "paths": {"datasets_path": "datasets/"},
        "feature_engineering": {"enabled": True},
        "colour_scheme": "dark",
    }
    assert settings.sources["database.default_backend"] == flat
    assert settings.sources["performance.batch_size"] == "env MDM_BATCH_SIZE"
    assert settings.sources["database.postgresql.port"] == flat
    assert settings.unknown == ["colour_scheme"]
    # the nested mdm.yaml wins over the flat file, key by key
    (home / "mdm.yaml").write_text("database:\n  default_backend: sqlite\n")
    both = load_settings_1x(home, environ={"MDM_BACKEND": "postgresql", "MDM_LOG_LEVEL": "INFO"})
    assert both.get("database.default_backend") == "postgresql"  # env beats both files
    assert both.get("database.duckdb.memory_limit") == "2GB"
    assert both.get("logging.level") == "INFO"
    assert load_settings_1x(home, environ={}).get("database.default_backend") == "sqlite"


def test_unknown_keys_are_kept_and_listed(home):
    (home / "mdm.yaml").write_text(
        "database:\n  default_backend: duckdb\n  mystery: 1\n"
        "future_section:\n  knob: true\n"
        "logging: loud\n"
    )
    settings = load_settings_1x(home, environ={"MDM_FUTURE_SECTION_KNOB": "false"})
    assert settings.values["database"] == {"default_backend": "duckdb", "mystery": 1}
    assert settings.values["future_section"] == {"knob": "false"}  # env reaches keys the file has
    assert settings.sources["future_section.knob"] == "env MDM_FUTURE_SECTION_KNOB"
    assert settings.unknown == ["database.mystery", "future_section.knob", "logging"]


def test_garbage_config_is_one_sentence_naming_the_file(home):
    (home / "mdm.yaml").write_text("database:\n  default_backend: [sqlite\n")
    with pytest.raises(ConfigError) as caught:
        load_settings_1x(home, environ={})
    message = str(caught.value)
    assert str(home / "mdm.yaml") in message and "invalid YAML" in message and "\n" not in message
    (home / "mdm.yaml").write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="mdm.yaml"):
        load_settings_1x(home, environ={})
    assert is_legacy_home(home)  # a bad config file does not hide the datasets


def test_passwords_in_settings_are_masked(home):
    (home / "mdm.yaml").write_text("database:\n  postgresql:\n    password: Pl41nTextPass\n")
    settings = load_settings_1x(home, environ={"MDM_DATABASE_POSTGRESQL_DSN": "postgresql://u:Dsn-S3cret@h/db"})
    assert settings.get("database.postgresql.password") == "Pl41nTextPass"
    for text in (repr(settings), str(settings)):
        assert "Pl41nTextPass" not in text and "Dsn-S3cret" not in text


def test_is_legacy_home(tmp_path, home):
    assert is_legacy_home(home)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not is_legacy_home(empty)
    new = tmp_path / "new"
    (new / "datasets" / "iris").mkdir(parents=True)
    (new / "datasets" / "iris" / "dataset.yaml").write_text("name: iris\n")
    (new / "datasets" / "iris" / "dataset_info.json").write_text("{}")
    assert not is_legacy_home(new)
    folder_only = tmp_path / "folder-only"
    (folder_only / "datasets" / "iris").mkdir(parents=True)
    (folder_only / "datasets" / "iris" / "dataset_info.json").write_text(json.dumps({"name": "iris"}))
    assert is_legacy_home(folder_only)
