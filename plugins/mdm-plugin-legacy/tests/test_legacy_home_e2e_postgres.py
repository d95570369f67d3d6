"""End to end: an MDM 1.x PostgreSQL dataset, through the ``mdm`` CLI and MDMClient.

The dataset is laid out in a real database the way 1.x did it (database ``mdm_<name>``,
tables written like pandas ``to_sql``: BIGINT, FLOAT(53), TEXT, BOOLEAN, TIMESTAMP), with
its YAML in a 1.x home holding the password in plain text, as 1.x wrote it. The password
must be used and never shown: not on stdout or stderr of any command (also failed ones,
also with ``--debug``), not in the log file, not in any file MDM writes. The database is
dropped afterwards.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mdm_core.errors import MDMError

pytestmark = pytest.mark.postgres

DATA = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "legacy-mdm-1.0.6" / "data"
CSV = DATA / "penguins_raw.csv"
MDM = Path(sys.executable).with_name("mdm")


@pytest.fixture(autouse=True)
def _nothing_from_outside(monkeypatch):
    for key in list(os.environ):
        if (key.startswith("MDM_") and key not in {"MDM_TEST_POSTGRES_DSN", "MDM_STRICT_PLUGINS"}) \
                or key.startswith("PG"):
            monkeypatch.delenv(key)


@pytest.fixture(scope="module")
def pg_dataset(server, write_like_to_sql):
    """1.x dataset ``legacy_e2e_<hex>`` in database ``mdm_legacy_e2e_<hex>``, dropped after."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    name = f"legacy_e2e_{uuid.uuid4().hex[:8]}"
    dbname = f"mdm_{name}"
    with psycopg.connect(server["dsn"], autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {dbname}")  # as 1.x did: unquoted, lower-case
    try:
        frame = pd.read_csv(CSV)
        features = frame.copy()
        features["Date Egg"] = pd.to_datetime(features["Date Egg"])
        features["studyName_PAL0708"] = features["studyName"] == "PAL0708"
        features["Body Mass (g)_log"] = features["Body Mass (g)"].apply(math.log)
        with psycopg.connect(make_conninfo(server["dsn"], dbname=dbname), autocommit=True) as conn:
            write_like_to_sql(conn, "data", frame)
            write_like_to_sql(conn, "data_features", features)
            conn.execute('CREATE TABLE "_metadata" ("key" VARCHAR(255) PRIMARY KEY, value TEXT)')
        yield {"name": name, "dbname": dbname, "frame": frame}
    finally:
        with psycopg.connect(server["dsn"], autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        with psycopg.connect(server["dsn"], autocommit=True) as admin:
            left = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchall()
        assert left == [], f"{dbname} was not dropped"


@pytest.fixture
def password(server) -> str:
    """The password 1.x wrote into the YAML (the server's own when it needs one)."""
    return server.get("password") or f"Pl41n-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def pg_home(tmp_path, server, pg_dataset, password) -> Path:
    """A 1.x home holding the PostgreSQL dataset's YAML (plaintext password) and an
    ``mdm.yaml`` whose ``database.postgresql`` section holds the password too."""
    home = tmp_path / "home"
    (home / "config" / "datasets").mkdir(parents=True)
    (home / "datasets" / pg_dataset["name"]).mkdir(parents=True)
    host, port, user = server.get("host", "127.0.0.1"), int(server.get("port", 5432)), server.get("user", "postgres")
    (home / "mdm.yaml").write_text(yaml.safe_dump({
        "database": {"default_backend": "sqlite",
                     "postgresql": {"host": host, "port": port, "user": user, "password": password}},
        "logging": {"level": "DEBUG"},
    }, sort_keys=False))
    info = {
        "name": pg_dataset["name"], "display_name": "Legacy-E2E-PG", "description": "penguins on postgres",
        "database": {"backend": "postgresql", "host": host, "port": port, "user": user, "password": password,
                     "database_prefix": "mdm_", "sslmode": "prefer", "pool_size": 10,
                     "database": pg_dataset["dbname"]},
        "tables": {"data": "data", "data_features": "data_features"},
        "problem_type": "regression", "target_column": "Body Mass (g)", "id_columns": ["Individual ID"],
        "time_column": None, "group_column": None,
        "feature_tables": {"data_features": "data_features"},
        "registered_at": "2026-11-21T01:50:45.468334+00:00", "last_updated_at": None,
        "tags": ["pg", "birds"], "source": "penguins_raw.csv", "version": "1.0.0",
        "metadata": {"datetime_columns": ["Date Egg"]},
    }
    (home / "config" / "datasets" / f"{pg_dataset['name']}.yaml").write_text(
        yaml.safe_dump(info, default_flow_style=False, sort_keys=False))
    return home


@pytest.fixture
def log_file(tmp_path) -> Path:
    return tmp_path / "logs-outside" / "mdm.log"


@pytest.fixture
def mdm(pg_home, log_file, password):
    """Run ``mdm --debug ARGS`` with a DEBUG log file outside the home; every result is
    checked for the password on the spot."""
    log_file.parent.mkdir(exist_ok=True)

    def run(*args: str, env: dict | None = None, cwd: Path | None = None):
        full = {k: v for k, v in os.environ.items() if not k.startswith(("MDM_", "PG"))}
        full.update({"MDM_HOME_DIR": str(pg_home), "COLUMNS": "250", "MDM_LOGGING_FILE": str(log_file),
                     **(env or {})})
        result = subprocess.run([str(MDM), "--debug", *args], capture_output=True, text=True, env=full,
                                cwd=cwd, timeout=300)
        assert password not in result.stdout and password not in result.stderr, args
        return result

    return run


def assert_nowhere(home: Path, password: str) -> None:
    """No file of ``home`` holds the password but the 1.x files that always did (``mdm.yaml``
    and the dataset YAMLs, unchanged by MDM)."""
    written_by_1x = {home / "mdm.yaml", *(home / "config" / "datasets").glob("*.yaml")}
    for path in home.rglob("*"):
        if path.is_file() and path not in written_by_1x:
            assert password.encode() not in path.read_bytes(), path


def plain(values: list) -> list:
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else (v.item() if hasattr(v, "item") else v)
            for v in values]


# -- the tests -----------------------------------------------------------------------------------
def test_list_info_and_load_of_a_postgresql_1x_dataset(pg_home, pg_dataset, mdm, password, log_file, monkeypatch):
    name = pg_dataset["name"]
    flags = json.loads(mdm("flags", "list", "--format", "json").stdout)
    assert flags["use_new_storage"]["source"].startswith("1.x home detected")

    listed = mdm("dataset", "list")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if line.startswith(f"│ {name}"))
    cells = [c.strip() for c in row.split("│")[1:-1]]
    assert cells[:7] == [name, "Legacy-E2E-PG", "postgresql", "data 344; +1 features", "Body Mass (g)",
                         "pg, birds", "penguins on postgres"]
    assert cells[-1] == "1.x"
    assert listed.stdout.strip().splitlines()[-1].startswith("1 MDM 1.x dataset(s)")

    [entry] = json.loads(mdm("dataset", "list", "--format", "json").stdout)
    assert entry["status"] == "ok", entry["problems"]
    assert entry["layout"] == "1.x" and entry["backend"] == "postgresql"
    assert {t["name"]: t["row_count"] for t in entry["tables"]} == {"data": 344, "data_features": 344}
    assert entry["store"]["layout"] == "1.x" and "password" not in entry["store"]

    info = mdm("dataset", "info", name)
    assert info.returncode == 0, info.stderr
    assert "Backend:          postgresql" in info.stdout and "Datetime columns: Date Egg" in info.stdout
    assert "_metadata" not in info.stdout
    as_json = json.loads(mdm("dataset", "info", name, "--format", "json").stdout)
    data = next(t for t in as_json["tables"] if t["name"] == "data")
    types = {c["name"]: (c["type"], c["arrow_type"]) for c in data["columns"]}
    assert types["Date Egg"] == ("datetime", "string") and types["Sample Number"] == ("numeric", "int64")
    assert types["Body Mass (g)"] == ("numeric", "double") and types["Individual ID"][0] == "id"
    for args in (("config", "show"), ("config", "show", "--sources"), ("plugins", "list"),
                 ("dataset", "info", "nosuch"), ("features", "regenerate", name, "--force")):
        mdm(*args)  # the password check is in mdm()

    monkeypatch.setenv("MDM_HOME_DIR", str(pg_home))
    from mdm_core import MDMClient

    client = MDMClient(pg_home)
    frame = pg_dataset["frame"]
    loaded = client.load_dataset(name)
    assert list(loaded.columns) == list(frame.columns) and len(loaded) == 344
    for column in frame.columns:
        assert plain(loaded[column].tolist()) == plain(frame[column].tolist()), column
    assert loaded["Date Egg"].tolist()[:2] == ["2007-11-11", "2007-11-11"]  # TEXT, as stored
    some = client.load_dataset(name, table="data_features", columns=["Date Egg", "studyName_PAL0708"], limit=3)
    assert some["studyName_PAL0708"].tolist() == [True, True, True]
    assert [str(v)[:10] for v in some["Date Egg"]] == ["2007-11-11", "2007-11-11", "2007-11-16"]
    sizes = [b.num_rows for b in client.iter_batches(name, batch_size=100)]
    assert sizes == [100, 100, 100, 44]
    meta = client.get_dataset_info(name)
    assert meta.backend == "postgresql" and meta.datetime_columns == ["Date Egg"]
    assert password not in repr(meta) and password not in json.dumps(meta.store)
    with pytest.raises(MDMError, match="read-only until migrated"):
        client.query(name, "SELECT 1")
    with pytest.raises(MDMError) as caught:
        client.load_dataset(name, table="_metadata")
    assert password not in str(caught.value)

    assert log_file.is_file() and log_file.stat().st_size > 0  # the debug log was written...
    assert password not in log_file.read_text()  # ...without the password
    assert_nowhere(pg_home, password)


def test_the_environment_supplies_what_the_yaml_lacks_or_gets_wrong(pg_home, pg_dataset, mdm, server, password):
    name = pg_dataset["name"]
    path = pg_home / "config" / "datasets" / f"{name}.yaml"
    data = yaml.safe_load(path.read_text())
    data["database"]["host"] = "no-such-host.invalid"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    broken = mdm("dataset", "list")
    assert f"{name}: broken: " in broken.stdout and "1.x BROKEN" in broken.stdout
    failed = mdm("dataset", "info", name)
    assert failed.returncode == 0 and "Status:           broken" in failed.stdout

    env = {"MDM_DATABASE_POSTGRESQL_HOST": str(server.get("host", "127.0.0.1"))}
    fixed = json.loads(mdm("dataset", "list", "--format", "json", env=env).stdout)
    assert fixed[0]["status"] == "ok" and fixed[0]["tables"][0]["row_count"] == 344

    del data["database"]["password"]  # a YAML without it: the variable gives it, never shown either
    data["database"]["host"] = str(server.get("host", "127.0.0.1"))
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    other = f"Env-{uuid.uuid4().hex[:12]}"
    if server.get("password"):
        other = server["password"]
    shown = mdm("dataset", "info", name, env={"MDM_DATABASE_POSTGRESQL_PASSWORD": other})
    assert shown.returncode == 0 and other not in shown.stdout + shown.stderr
    sources = mdm("config", "show", "--sources", env={"MDM_DATABASE_POSTGRESQL_PASSWORD": other})
    assert other not in sources.stdout + sources.stderr


def test_a_server_that_refuses_is_one_sentence_without_the_password(pg_home, pg_dataset, mdm, password):
    name = pg_dataset["name"]
    path = pg_home / "config" / "datasets" / f"{name}.yaml"
    data = yaml.safe_load(path.read_text())
    data["database"]["port"] = 1
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    listed = mdm("dataset", "list")
    note = next(line for line in listed.stdout.splitlines() if line.startswith(f"{name}: broken: "))
    assert "Cannot connect" in note
    from mdm_core import MDMClient

    with pytest.raises(MDMError) as caught:
        MDMClient(pg_home).load_dataset(name)
    assert str(caught.value).startswith(f"Dataset '{name}' cannot be read: ") and password not in str(caught.value)


def test_writes_beside_a_postgresql_1x_dataset_never_copy_its_password(pg_home, pg_dataset, mdm, password, log_file):
    registered = mdm("dataset", "register", "beside", str(DATA / "sample"), "--no-features")
    assert registered.returncode == 0, registered.stderr
    listing = {d["name"]: d["layout"] for d in json.loads(mdm("dataset", "list", "--format", "json").stdout)}
    assert listing == {"beside": "new", pg_dataset["name"]: "1.x"}
    assert_nowhere(pg_home, password)
    assert password.encode() not in (pg_home / "datasets" / "beside" / "dataset.yaml").read_bytes()
    assert password not in log_file.read_text()
    removed = mdm("dataset", "remove", pg_dataset["name"], "--force")
    assert removed.returncode == 0, removed.stderr
    assert not (pg_home / "config" / "datasets" / f"{pg_dataset['name']}.yaml").exists()
    assert [d["name"] for d in json.loads(mdm("dataset", "list", "--format", "json").stdout)] == ["beside"]
    assert password not in log_file.read_text()
