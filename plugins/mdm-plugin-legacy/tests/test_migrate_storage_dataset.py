"""The ``legacy-storage`` and ``legacy-dataset`` migration steps, driven by the real
orchestrator on a copy of the MDM 1.0.6 fixture home: onto SQLite, DuckDB and PostgreSQL,
content against the source CSVs, metadata kept, flags flipped, rollback byte for byte,
re-runs, broken datasets, the legacy catalog between the phases, cleanup."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pandas as pd
import pytest
import yaml
from mdm_plugin_legacy.catalog_1x import find_dataset
from mdm_plugin_legacy.migration_1x import store_key
from mdm_plugin_legacy.open_1x import open_legacy_database

from mdm_core.config import load_settings
from mdm_core.datasets.client import MDMClient
from mdm_core.migration.orchestrator import EXIT_OK, EXIT_SKIPPED, Migration
from mdm_core.migration.step import RunOptions
from mdm_core.testing.home import snapshot

#: dataset -> table -> source CSV (relative to the fixture's data/), and the columns to sort by.
SOURCES = {
    "penguins": {t: f"penguins/{t}.csv" for t in ("train", "test", "sample_submission")},
    "sample": {t: f"sample/{t}.csv" for t in ("train", "test", "sample_submission")},
    "penguins_raw": {"data": "penguins_raw.csv"},
    "weather": {"data": "weather/weather.csv"},
}
FEATURES = {"penguins": ["train_features", "test_features", "sample_submission_features"],
            "penguins_raw": ["data_features"], "sample": ["train_features", "test_features"],
            "weather": ["data_features"]}
#: Feature tables the features phase leaves as the storage phase copied them (no features
#: for a submission template); the others it regenerates.
COPIED_FEATURES = {"sample_submission_features"}
KEPT = ("display_name", "description", "tags", "target_column", "id_columns", "problem_type", "registered_at",
        "time_column", "source")


@pytest.fixture
def home(legacy, use_home) -> Path:
    """The fixture's 1.x home, as MDM_HOME_DIR, nothing else of the caller's MDM_* set."""
    return use_home(legacy / "home")


@pytest.fixture
def pg_target(server, monkeypatch) -> str:
    """New PostgreSQL stores go to the test server."""
    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", server["dsn"])
    return server["dsn"]


def client_of(home: Path) -> MDMClient:
    return MDMClient(settings=load_settings(home, fresh=True).settings)


def sorted_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def assert_migrated(home: Path, data: Path, legacy_before: dict) -> None:
    """Every migrated table equals its source CSV (data tables; values compared as text
    when a column was stored with another type) or its 1.x table (feature tables), and
    the metadata of the 1.x record is kept."""
    client = client_of(home)
    listed = {i.name: i for i in client.list_datasets()}
    assert sorted(listed) == sorted(SOURCES)
    for name, tables in SOURCES.items():
        info = client.get_dataset_info(name)
        assert info.format_version == 2 and not info.legacy
        old = legacy_before[name]
        for key in KEPT:
            assert getattr(info, key) == getattr(old, key), (name, key)
        assert sorted(t.name for t in info.tables) == sorted([*tables, *FEATURES[name]])
        for table, csv in tables.items():
            got = client.load_dataset(name, table=table)
            expected = pd.read_csv(data / csv)
            assert list(got.columns) == list(expected.columns)
            pd.testing.assert_frame_equal(sorted_frame(got), sorted_frame(_as_stored(expected, got)),
                                          check_dtype=False, rtol=1e-12)
        for table in FEATURES[name]:
            if table not in COPIED_FEATURES:
                assert info.table(table).row_count == info.table(table.removesuffix("_features")).row_count
                continue
            record = find_dataset(home, name)
            with open_legacy_database(record) as db:
                expected = db.read_table(table).read_all().to_pandas()
            got = client.load_dataset(name, table=table)
            pd.testing.assert_frame_equal(sorted_frame(got.astype(str)), sorted_frame(expected.astype(str)))


def _as_stored(csv: pd.DataFrame, stored: pd.DataFrame) -> pd.DataFrame:
    """The CSV's columns converted to the kind the store keeps (a timestamp parsed, text
    as text, numbers as numbers), for a comparison of values."""
    out = csv.copy()
    for column in csv.columns:
        kind = stored[column].dtype
        if pd.api.types.is_datetime64_any_dtype(kind):
            out[column] = pd.to_datetime(csv[column]).astype(kind)
        elif pd.api.types.is_numeric_dtype(kind) and not pd.api.types.is_bool_dtype(kind):
            out[column] = pd.to_numeric(csv[column])
        else:
            out[column] = csv[column].astype(kind)
    return out


def legacy_records(home: Path) -> dict:
    return {name: client_of(home).get_dataset_info(name) for name in SOURCES}


def read_flags(home: Path) -> dict:
    return yaml.safe_load((home / "mdm.yaml").read_text())["flags"]


def test_steps_are_installed():
    from mdm_core.migration.step import installed_steps

    steps = {step.name: step.phase for _, step in installed_steps()}
    assert steps["legacy-storage"] == "storage" and steps["legacy-dataset"] == "dataset"


def test_plan_on_the_fixture(home):
    plan = Migration(home).plan()
    storage = next(s.plan for p in plan.phases for s in p.steps if s.step.name == "legacy-storage")
    units = {u.id: u for u in storage.units}
    assert units["penguins/train"].rows == 272 and units["penguins/train"].detail == "sqlite 1.x -> sqlite"
    assert units["weather/data"].detail == "duckdb 1.x -> duckdb" and units["weather/data"].rows == 26_115
    assert "weather/data_features" not in units and "penguins/train_features" in units
    partial = [s for s in storage.skipped if s.what == "weather/data_features"]
    assert partial and not partial[0].blocking and "5,000 of 26,115 rows" in partial[0].reason
    assert storage.space_bytes > 0 and storage.fingerprint
    dataset = next(s.plan for p in plan.phases for s in p.steps if s.step.name == "legacy-dataset")
    assert sorted(u.id for u in dataset.units) == sorted(SOURCES)
    assert any("re-rooted" in n for n in dataset.notes)


def test_run_onto_own_engines_then_rollback_byte_for_byte(home, legacy):
    before = snapshot(home, files_only=True)
    legacy_before = legacy_records(home)
    report = Migration(home).run()
    assert report.exit_code == EXIT_OK, [o.record.error for o in report.outcomes]
    flags = read_flags(home)
    assert flags["use_new_storage"] and flags["use_new_dataset"]
    assert client_of(home).get_dataset_info("weather").backend == "duckdb"
    assert client_of(home).get_dataset_info("penguins").backend == "sqlite"
    assert_migrated(home, legacy / "data", legacy_before)
    assert not [o for o in Migration(home).validate(deep=True) if o.problems]

    again = Migration(home).run()
    assert again.exit_code == EXIT_OK and again.outcomes == []

    Migration(home).rollback()
    after = snapshot(home, files_only=True)
    assert {k: after.get(k) for k in before} == before
    assert set(after) - set(before) <= {".migration/lock"}


def test_run_to_duckdb_through_the_cli(home, legacy):
    legacy_before = legacy_records(home)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MDM_") or k == "MDM_STRICT_PLUGINS"}
    env["MDM_HOME_DIR"] = str(home)
    migrate = Path(sys.executable).with_name("mdm-migrate")
    done = subprocess.run([str(migrate), "run", "--to", "duckdb", "--yes", "--format", "json"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert {"storage", "dataset"} <= set(json.loads(done.stdout)["phases_done"])
    for name in SOURCES:
        assert (home / "datasets" / name / "dataset.duckdb").is_file()
        assert client_of(home).get_dataset_info(name).backend == "duckdb"
    assert_migrated(home, legacy / "data", legacy_before)
    listed = subprocess.run([str(Path(sys.executable).with_name("mdm")), "dataset", "list", "--format", "json"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    rows = rows if isinstance(rows, list) else rows.get("datasets", rows)
    assert sorted(r["name"] for r in rows) == sorted(SOURCES)
    assert all(r.get("layout", "new") == "new" and r.get("format_version", 2) == 2 for r in rows)


@pytest.mark.postgres
def test_run_to_postgresql_and_rollback_drops_every_schema(home, legacy, pg_target):
    import psycopg

    before = snapshot(home, files_only=True)
    legacy_before = legacy_records(home)
    report = Migration(home, RunOptions(to="postgresql")).run()
    assert report.exit_code == EXIT_OK, [o.record.error for o in report.outcomes]
    schemas = {f"mdm_{store_key(home, name)}" for name in SOURCES}
    assert _schemas(pg_target) >= schemas
    assert_migrated(home, legacy / "data", legacy_before)
    Migration(home, RunOptions(to="postgresql")).rollback()
    assert not _schemas(pg_target) & schemas
    after = snapshot(home, files_only=True)
    assert {k: after.get(k) for k in before} == before
    with psycopg.connect(pg_target) as conn:
        staged = conn.execute("SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE %s",
                              [f"mdm_%{store_key(home, 'penguins')[-9:]}%"]).fetchone()[0]
    assert staged == 0


def _schemas(dsn: str) -> set[str]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        return {r[0] for r in conn.execute("SELECT schema_name FROM information_schema.schemata")}


@pytest.mark.postgres
def test_postgresql_1x_dataset_migrates_without_its_password(home, legacy, pg_target, server, write_like_to_sql):
    """A 1.x PostgreSQL dataset (database mdm_<name>, plaintext password in its YAML)
    moves into a new PostgreSQL store; the password is in no new file of the home."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    name = f"pgmig_{uuid.uuid4().hex[:8]}"
    password = f"Pl41n-{uuid.uuid4().hex[:12]}"
    frame = pd.read_csv(legacy / "data" / "penguins_raw.csv")
    with psycopg.connect(server["dsn"], autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE mdm_{name}")
    try:
        with psycopg.connect(make_conninfo(server["dsn"], dbname=f"mdm_{name}"), autocommit=True) as conn:
            write_like_to_sql(conn, "data", frame)
        database = {"backend": "postgresql", "host": server.get("host", "127.0.0.1"),
                    "port": int(server.get("port", 5432)), "user": server.get("user", "postgres"),
                    "password": password, "database": f"mdm_{name}"}
        (home / "config" / "datasets" / f"{name}.yaml").write_text(yaml.safe_dump({
            "name": name, "display_name": name, "description": "on postgres", "database": database,
            "tables": {"data": "data"}, "problem_type": "regression", "target_column": "Body Mass (g)",
            "id_columns": ["Individual ID"], "feature_tables": {}, "tags": ["pg"],
            "registered_at": "2026-11-21T01:50:45+00:00", "source": "penguins_raw.csv", "version": "1.0.0",
        }, sort_keys=False))
        before = snapshot(home, files_only=True)
        plan = Migration(home).plan()
        notes = [n for p in plan.phases for s in p.steps for n in s.plan.notes]
        assert any(name in n and "MDM_DATABASE_POSTGRESQL_PASSWORD" in n for n in notes)
        report = Migration(home).run()
        assert report.exit_code == EXIT_OK, [o.record.error for o in report.outcomes]
        info = client_of(home).get_dataset_info(name)
        assert info.backend == "postgresql" and info.store["key"] == store_key(home, name)
        got = client_of(home).load_dataset(name, table="data")
        pd.testing.assert_frame_equal(sorted_frame(got.astype(str)), sorted_frame(frame.astype(str)))
        changed = [k for k, digest in snapshot(home, files_only=True).items() if before.get(k) != digest]
        assert changed and not [k for k in changed if password.encode() in (home / k).read_bytes()]
        removed = Migration(home).cleanup()
        assert any(f"mdm_{name}" in line and "left on the server" in line for line in removed)
    finally:
        with psycopg.connect(server["dsn"], autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "mdm_{name}" WITH (FORCE)')
            admin.execute(f'DROP SCHEMA IF EXISTS "mdm_{store_key(home, name)}" CASCADE')


def test_broken_dataset_is_skipped_with_exit_code_5(home):
    (home / "datasets" / "sample" / "sample.sqlite").unlink()
    report = Migration(home).run()
    assert report.exit_code == EXIT_SKIPPED
    skipped = {(o.record.step, o.record.unit) for o in report.outcomes if o.record.state == "skipped"}
    assert skipped == {("legacy-storage", "sample"), ("legacy-dataset", "sample")}
    assert read_flags(home)["use_new_dataset"]
    assert not (home / "datasets" / "sample" / "dataset.yaml").exists()
    assert client_of(home).get_dataset_info("penguins").format_version == 2


def test_catalog_serves_a_copied_1x_dataset_from_its_new_store(home):
    """Between the storage and dataset phases a 1.x dataset stays readable: still
    format_version 1, but read from its new store."""
    expected = client_of(home).load_dataset("penguins", table="train")
    report = Migration(home).run("storage")
    assert report.exit_code == EXIT_OK and read_flags(home)["use_new_storage"]
    assert not read_flags(home).get("use_new_dataset")
    client = client_of(home)
    info = client.get_dataset_info("penguins")
    assert info.legacy and info.backend == "sqlite" and info.store["key"] == store_key(home, "penguins")
    assert "layout" not in info.store
    got = client.load_dataset("penguins", table="train")
    pd.testing.assert_frame_equal(sorted_frame(got), sorted_frame(expected))


def test_in_place_name_clash_is_skipped(home):
    folder = home / "datasets" / "sample"
    (folder / "sample.sqlite").rename(folder / "dataset.sqlite")
    plan = Migration(home).plan()
    storage = next(s.plan for p in plan.phases for s in p.steps if s.step.name == "legacy-storage")
    clash = [s for s in storage.skipped if s.what == "sample"]
    assert clash and clash[0].blocking and "in place" in clash[0].reason
    assert not [u for u in storage.units if u.dataset == "sample"]


def test_cleanup_removes_the_1x_files_it_replaced(home):
    assert Migration(home).run().exit_code == EXIT_OK
    removed = Migration(home).cleanup()
    assert "datasets/penguins/penguins.sqlite" in removed and "datasets/weather/weather.duckdb" in removed
    assert "config/datasets/penguins.yaml" in removed and "datasets/penguins/dataset_info.json" in removed
    assert not (home / "config" / "datasets" / "penguins.yaml").exists()
    assert client_of(home).load_dataset("weather").shape[0] == 26_115
    assert Migration(home).run().exit_code == EXIT_OK


def test_discovered_datasets_are_migrated(home):
    """A folder whose YAML is gone (from dataset_info.json), and one with only its
    database (metadata rebuilt from the database), are registered in the new layout."""
    (home / "config" / "datasets" / "sample.yaml").unlink()
    (home / "config" / "datasets" / "penguins_raw.yaml").unlink()
    (home / "datasets" / "penguins_raw" / "dataset_info.json").unlink()
    report = Migration(home).run()
    assert report.exit_code == EXIT_OK, [o.record.error for o in report.outcomes]
    client = client_of(home)
    sample = client.get_dataset_info("sample")
    info_json = json.loads((home / "datasets" / "sample" / "dataset_info.json").read_text())  # stale: as it says
    assert sample.format_version == 2 and sample.target_column == info_json["target_column"] == "target"
    assert sample.registered_at.startswith("2026-11-21T01:50:24")
    assert sorted(t.name for t in sample.data_tables) == ["sample_submission", "test", "train"]
    raw = client.get_dataset_info("penguins_raw")
    assert raw.format_version == 2 and raw.registered_at
    assert {t.name: t.row_count for t in raw.data_tables} == {"data": 344}
    assert client.load_dataset("penguins_raw", table="data").shape == (344, 17)


def test_a_dataset_whose_yaml_is_unreadable_is_migrated_from_its_folder(legacy, home):
    """The reader serves it as broken; the migration rebuilds its metadata from
    dataset_info.json and moves it, and cleanup removes the unusable YAML too."""
    from mdm_core.datasets.client import MDMClient
    from mdm_core.migration.orchestrator import Migration

    (home / "config" / "datasets" / "sample.yaml").write_text("name: sample\n  bad: [yaml\n")
    assert next(i for i in MDMClient(home).list_datasets() if i.name == "sample").status == "broken"
    report = Migration(home).run()
    assert report.exit_code == 0, [o.record.error for o in report.outcomes if o.record.error]
    info = MDMClient(home).get_dataset_info("sample")
    assert not info.legacy and {t.name: t.row_count for t in info.tables} == {
        "train": 10, "test": 5, "sample_submission": 5, "train_features": 10, "test_features": 5}
    assert info.target_column == "target"  # from dataset_info.json
    removed = Migration(home).cleanup()
    assert "config/datasets/sample.yaml" in removed
