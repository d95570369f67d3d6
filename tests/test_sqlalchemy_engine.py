"""``client.get_engine``: a SQLAlchemy engine on a dataset's store, on every backend."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest
import sqlalchemy as sa
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from mdm_core.errors import MDMError

PASSWORD = "engine-s3cret-pw"


@pytest.fixture
def registered(client, any_backend, penguins):
    """The penguins example registered as ``p`` on each backend; its engine, disposed after."""
    client.register_dataset("p", penguins, generate_features=False)
    engine = client.get_engine("p")
    yield engine
    engine.dispose()


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("id").reset_index(drop=True)


def test_read_sql_gives_the_stored_table(client, registered):
    expected = client.load_dataset("p", "train")
    got = pd.read_sql("SELECT * FROM train", registered)
    # PostgreSQL tables also hold MDM's hidden row-order column.
    assert set(got.columns) - set(expected.columns) <= {"_mdm_row"}
    pd.testing.assert_frame_equal(_sorted(got[list(expected.columns)]), _sorted(expected), check_dtype=False)


def test_core_select_counts_rows(client, registered):
    with registered.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(sa.table("train"))).scalar_one()
    assert count == client.get_dataset_info("p").table("train").row_count == 272


def test_read_only_engine_refuses_writes(client, registered):
    tables = client.open_store("p").list_tables()
    for statement in ("INSERT INTO train (id) VALUES (100000)", "CREATE TABLE scratch (x INTEGER)"):
        with pytest.raises(sa.exc.DBAPIError), registered.begin() as conn:
            conn.execute(sa.text(statement))
    registered.dispose()  # DuckDB: a writer needs this process's read-only connections closed
    assert client.open_store("p").list_tables() == tables
    assert client.load_dataset("p", "train").shape[0] == 272
    writable = client.get_engine("p", read_only=False)
    try:
        with writable.begin() as conn:
            conn.execute(sa.text("CREATE TABLE scratch (x INTEGER)"))
            conn.execute(sa.text("DROP TABLE scratch"))
    finally:
        writable.dispose()


@pytest.mark.postgres
def test_postgresql_engine_pools_from_config_and_hides_the_password(home, penguins, pg_database, monkeypatch):
    dsn = make_conninfo(**{**conninfo_to_dict(pg_database), "password": PASSWORD})  # the test server trusts
    for key, value in {"DEFAULT_BACKEND": "postgresql", "POSTGRESQL_DSN": dsn, "POSTGRESQL_POOL_SIZE": "3",
                       "POSTGRESQL_MAX_OVERFLOW": "1", "POSTGRESQL_POOL_TIMEOUT": "0.5",
                       "POSTGRESQL_POOL_RECYCLE": "60"}.items():
        monkeypatch.setenv(f"MDM_DATABASE_{key}", value)
    from mdm_core.datasets.client import MDMClient

    client = MDMClient()
    client.register_dataset("p", penguins, generate_features=False)
    engine = client.get_engine("p")
    try:
        assert engine.pool.size() == 3
        assert engine.pool.timeout() == 0.5
        assert engine.pool._recycle == 60  # no public accessor
        held = [engine.connect() for _ in range(4)]  # pool_size + max_overflow
        with pytest.raises(sa.exc.TimeoutError):
            engine.connect()
        schema = client.get_dataset_info("p").store["schema"]
        assert held[0].execute(sa.text("SHOW search_path")).scalar_one() == f'"{schema}"'
        for conn in held:
            conn.close()
        assert PASSWORD not in repr(engine.url) and PASSWORD not in str(engine.url)
        assert engine.url.username == "postgres" and engine.url.database == conninfo_to_dict(pg_database)["dbname"]
    finally:
        engine.dispose()
    metadata = (home / "datasets" / "p" / "dataset.yaml").read_text()
    assert PASSWORD not in metadata and "password" not in metadata.lower()


def test_a_1x_dataset_refuses_an_engine(home, legacy_fixture, monkeypatch):
    monkeypatch.setenv("MDM_HOME_DIR", str(legacy_fixture / "home"))
    from mdm_core.datasets.client import MDMClient

    with pytest.raises(MDMError, match="read-only until migrated"):
        MDMClient().get_engine("penguins")


def test_importing_mdm_does_not_import_sqlalchemy():
    code = "import mdm_core, mdm_core.datasets.client, sys; assert 'sqlalchemy' not in sys.modules"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, timeout=120)
    assert done.returncode == 0, done.stderr
