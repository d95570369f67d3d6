"""The 1.x home reader on a real PostgreSQL 1.x dataset, laid out the way 1.x did it.

MDM 1.x registered a PostgreSQL dataset by creating the database ``mdm_<name>`` (unquoted
``CREATE DATABASE``), writing each table with pandas ``to_sql`` through SQLAlchemy
(int64 -> BIGINT, float64 -> FLOAT(53) = double precision, object -> TEXT, bool ->
BOOLEAN, datetime64 -> TIMESTAMP WITHOUT TIME ZONE, zoned -> TIMESTAMP WITH TIME ZONE,
int32 -> INTEGER, int16 -> SMALLINT, float32 -> REAL), and a YAML whose ``database``
holds host, port, user and the password in plain text. The database is dropped after.
"""

from __future__ import annotations

import math
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import yaml
from mdm_plugin_legacy.catalog_1x import find_dataset, scan_home
from mdm_plugin_legacy.config_1x import load_settings_1x
from mdm_plugin_legacy.locations_1x import PostgresLocation
from mdm_plugin_legacy.open_1x import open_legacy_database

from mdm_core.errors import StorageError
from mdm_core.testing.home import snapshot

pytestmark = pytest.mark.postgres

SOURCE = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "legacy-mdm-1.0.6" / "data"
CSV = SOURCE / "penguins_raw.csv"


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch):
    for key in list(os.environ):
        if key.startswith("MDM_") and key != "MDM_TEST_POSTGRES_DSN":
            monkeypatch.delenv(key)


@pytest.fixture(scope="module")
def pg_dataset(server, write_like_to_sql):
    """A 1.x PostgreSQL dataset ``legacy_pg_<hex>`` in database ``mdm_legacy_pg_<hex>``."""
    import psycopg

    name = f"legacy_pg_{uuid.uuid4().hex[:8]}"
    dbname = f"mdm_{name}"
    with psycopg.connect(server["dsn"], autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {dbname}")  # as 1.x did: unquoted, lower-case
    try:
        frame = pd.read_csv(CSV)
        features = frame.copy()
        features["Date Egg"] = pd.to_datetime(features["Date Egg"])
        features["studyName_PAL0708"] = features["studyName"] == "PAL0708"
        features["Sample Number_bin"] = (features["Sample Number"] // 10).astype("int32")
        features["Sample Number_small"] = (features["Sample Number"] % 7).astype("int16")
        features["Body Mass (g)_half"] = (features["Body Mass (g)"] / 2).astype("float32")
        features["seen_at"] = pd.Timestamp("2013-01-01 06:00", tz="UTC") + pd.to_timedelta(features.index, unit="h")
        feature_types = {"Sample Number_bin": "INTEGER", "Sample Number_small": "SMALLINT",
                              "Body Mass (g)_half": "REAL", "seen_at": "TIMESTAMP WITH TIME ZONE"}
        target = psycopg.conninfo.make_conninfo(server["dsn"], dbname=dbname)
        with psycopg.connect(target, autocommit=True) as conn:
            write_like_to_sql(conn, "data", frame)
            write_like_to_sql(conn, "data_features", features, feature_types)
            conn.execute('CREATE TABLE "_metadata" ("key" VARCHAR(255) PRIMARY KEY, value TEXT)')
        yield {"name": name, "dbname": dbname, "frame": frame, "features": features}
    finally:
        with psycopg.connect(server["dsn"], autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@pytest.fixture
def password(server) -> str:
    return server.get("password") or f"Pl41n-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def pg_home(tmp_path, server, pg_dataset, password) -> Path:
    """A 1.x home holding the PostgreSQL dataset's YAML (plaintext password, as 1.x wrote it)."""
    home = tmp_path / "home"
    (home / "config" / "datasets").mkdir(parents=True)
    (home / "datasets" / pg_dataset["name"]).mkdir(parents=True)
    (home / "mdm.yaml").write_text("database:\n  default_backend: postgresql\n")
    info = {
        "name": pg_dataset["name"],
        "display_name": "Legacy-PG",
        "description": "",
        "database": {
            "backend": "postgresql",
            "host": server.get("host", "127.0.0.1"),
            "port": int(server.get("port", 5432)),
            "user": server.get("user", "postgres"),
            "password": password,
            "database_prefix": "mdm_",
            "sslmode": "prefer",
            "pool_size": 10,
            "database": pg_dataset["dbname"],
        },
        "tables": {"data": "data", "data_features": "data_features"},
        "problem_type": "regression",
        "target_column": "Body Mass (g)",
        "id_columns": ["Individual ID"],
        "time_column": None,
        "group_column": None,
        "feature_tables": {"data_features": "data_features"},
        "registered_at": "2026-11-21T01:50:45.468334+00:00",
        "last_updated_at": None,
        "tags": ["pg"],
        "source": "penguins_raw.csv",
        "version": "1.0.0",
        "metadata": {"datetime_columns": ["Date Egg"]},
    }
    path = home / "config" / "datasets" / f"{pg_dataset['name']}.yaml"
    path.write_text(yaml.dump(info, default_flow_style=False, sort_keys=False))
    return home


def test_a_postgresql_1x_dataset_reads_back_the_values_1x_stored(pg_home, pg_dataset):
    before = snapshot(pg_home)
    [record] = scan_home(pg_home)
    assert record.status == "ok" and record.backend == "postgresql", record.problems
    assert isinstance(record.location, PostgresLocation)
    assert record.location.dbname == pg_dataset["dbname"]
    assert record.location.origins["password"] == "dataset YAML"
    assert record.display_name == "Legacy-PG" and record.target_column == "Body Mass (g)"
    assert record.row_counts == {"data": 344, "data_features": 344}
    assert record.incomplete_features == [] and record.problems == []
    frame = pg_dataset["frame"]
    with open_legacy_database(record) as db:
        assert db.list_tables() == ["data", "data_features"]  # never _metadata
        data = db.table_schema("data")
        assert data.field("Sample Number").type == pa.int64()
        assert data.field("Body Mass (g)").type == pa.float64()
        assert data.field("Date Egg").type == pa.string()
        got = db.read_table("data", batch_size=100).read_all()
        assert got.column_names == list(frame.columns) and got.num_rows == len(frame)
        for column in frame.columns:
            want = [None if isinstance(v, float) and math.isnan(v) else v for v in frame[column].tolist()]
            assert got[column].to_pylist() == want, column
        sizes = [b.num_rows for b in db.read_table("data", batch_size=100)]
        assert sizes == [100, 100, 100, 44]
        features = db.read_table("data_features", columns=[
            "Date Egg", "studyName_PAL0708", "Sample Number_bin", "Sample Number_small",
            "Body Mass (g)_half", "seen_at"], limit=2).read_all()
        assert features.schema == pa.schema([
            ("Date Egg", pa.timestamp("us")), ("studyName_PAL0708", pa.bool_()),
            ("Sample Number_bin", pa.int64()), ("Sample Number_small", pa.int64()),
            ("Body Mass (g)_half", pa.float64()), ("seen_at", pa.timestamp("us", "UTC")),
        ])
        assert features.to_pylist()[1] == {
            "Date Egg": datetime(2007, 11, 11), "studyName_PAL0708": True, "Sample Number_bin": 0,
            "Sample Number_small": 2, "Body Mass (g)_half": 1900.0,
            "seen_at": datetime(2013, 1, 1, 7, tzinfo=UTC),
        }
        with pytest.raises(StorageError, match="_metadata"):
            db.read_table("_metadata")
    assert snapshot(pg_home) == before


def test_the_plaintext_password_never_shows(pg_home, password):
    settings = load_settings_1x(pg_home)
    record = find_dataset(pg_home, next((pg_home / "config" / "datasets").glob("*.yaml")).stem, settings)
    assert record.location.password == password
    shown = [repr(record), str(record), repr(record.location), str(record.location), repr(settings),
             " ".join(record.problems), str(record.location.describe()), str(record.database_options)]
    with open_legacy_database(record) as db:
        shown.append(str(db.describe()))
    for text in shown:
        assert password not in text
    assert "password" not in record.database_options
    broken = find_dataset(pg_home, record.name, settings, inspect=False)
    wrong_port = type(broken.location)(**{**{k: getattr(broken.location, k) for k in
                                             ("dbname", "host", "user", "sslmode", "password")}, "port": 1})
    with pytest.raises(StorageError) as caught:
        open_legacy_database(wrong_port, connect_timeout=2)
    assert password not in str(caught.value)


def test_postgresql_sessions_are_read_only(pg_home, pg_dataset):
    import psycopg

    [record] = scan_home(pg_home, inspect=False)
    with open_legacy_database(record) as db:
        db.list_tables()
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction), db._con.cursor() as cur:
            cur.execute("CREATE TABLE intruder (a int)")
        db._con.rollback()
        assert db.list_tables() == ["data", "data_features"]


def test_the_environment_overrides_the_yaml_connection(pg_home, server):
    path = next((pg_home / "config" / "datasets").glob("*.yaml"))
    data = yaml.safe_load(path.read_text())
    data["database"]["host"] = "no-such-host.invalid"
    path.write_text(yaml.dump(data, sort_keys=False))
    [stale] = scan_home(pg_home)
    assert stale.status == "broken" and "Cannot connect" in stale.problems[-1]
    env = {"MDM_DATABASE_POSTGRESQL_HOST": str(server.get("host", "127.0.0.1"))}
    [fixed] = scan_home(pg_home, load_settings_1x(pg_home, environ=env))
    assert fixed.status == "ok" and fixed.location.origins["host"] == "env MDM_DATABASE_POSTGRESQL_HOST"
    assert fixed.row_counts["data"] == 344


def test_a_missing_postgresql_database_is_broken(pg_home, pg_dataset):
    path = next((pg_home / "config" / "datasets").glob("*.yaml"))
    path.write_text(path.read_text().replace(f"database: {pg_dataset['dbname']}",
                                             f"database: {pg_dataset['dbname']}_gone"))
    [record] = scan_home(pg_home)
    assert record.status == "broken"
    assert f"{pg_dataset['dbname']}_gone" in record.problems[-1]
