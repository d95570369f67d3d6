"""``mdm storage test`` against real backends: reports every check, exit code 1 on failure."""

from __future__ import annotations

import json
import socket
import uuid

import pytest
from click.testing import CliRunner

from mdm_core.cli.main import cli
from mdm_core.testing.checks import QUICK_CHECKS


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MDM_HOME_DIR", str(tmp_path / "home"))
    return tmp_path / "home"


def _run(*args: str):
    return CliRunner().invoke(cli, ["storage", "test", *args], catch_exceptions=False)


@pytest.mark.parametrize("backend", ["sqlite", "duckdb"])
def test_all_checks_pass_as_json(home, backend):
    result = _run("--backend", backend, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["backend"] == backend and report["failed"] == 0
    assert [c["name"] for c in report["checks"]] == list(QUICK_CHECKS)


def test_default_backend_and_table_output(home):
    result = _run()
    assert result.exit_code == 0, result.output
    assert "sqlite" in result.output and "PASS" in result.output and "FAIL" not in result.output
    assert f"{len(QUICK_CHECKS)} passed, 0 failed." in result.output


@pytest.mark.postgres
def test_postgresql_checks_leave_no_schema_behind(home, monkeypatch):
    import psycopg

    from mdm_core.testing.postgres import require_server

    # A database of its own: tests running alongside create and drop schemas too.
    server = require_server()
    database = f"mdm_storage_cli_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    dsn = psycopg.conninfo.make_conninfo(server, dbname=database)
    try:
        monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", dsn)
        with psycopg.connect(dsn) as conn:
            before = {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace").fetchall()}
        result = _run("--backend", "postgresql", "--format", "json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["failed"] == 0
        with psycopg.connect(dsn) as conn:
            after = {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace").fetchall()}
        assert after == before
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def test_unreachable_postgresql_fails_every_check_without_leaking_the_password(home, monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", f"postgresql://mdm:hunter2-secret@127.0.0.1:{port}/x")
    monkeypatch.setenv("MDM_DATABASE_CONNECTION_TIMEOUT", "2")
    result = CliRunner().invoke(cli, ["storage", "test", "--backend", "postgresql", "--format", "json"])
    assert result.exit_code == 1
    assert "hunter2" not in result.output
    report = json.loads(result.stdout)
    assert report["failed"] == len(QUICK_CHECKS)
    assert all("127.0.0.1" in c["error"] for c in report["checks"])


def test_unknown_backend_is_one_line_error(home):
    result = CliRunner().invoke(cli, ["storage", "test", "--backend", "nope"])
    assert result.exit_code == 1
    assert "No storage plugin provides 'nope'" in result.output
