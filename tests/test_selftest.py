"""``mdm selftest`` / ``IntegrationTestFramework``: end to end on generated data in a
temporary home; the user's home is never touched; a failing part is one sentence and the
other tests still run."""

from __future__ import annotations

import json
import os
import socket

import pytest

from mdm_core.migration import IntegrationTestFramework
from mdm_core.testing.home import snapshot


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_selftest_passes_on_sqlite_and_duckdb_and_never_touches_the_users_home(cli, client, penguins, home):
    client.register_dataset("penguins", penguins, backend="sqlite")
    before = snapshot(home)

    result = cli("selftest", "--backend", "sqlite", "--backend", "duckdb", "--rows", "300", "--format", "json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["backends"] == ["sqlite", "duckdb"]
    assert data["failed_tests"] == [] and data["passed"] == data["total"] == len(data["tests"])
    names = [t["name"] for t in data["tests"]]
    for backend in ("sqlite", "duckdb"):
        for step in ("register", "load pandas", "load arrow", "features", "export csv", "export parquet"):
            assert f"{step} ({backend})" in names
    for src, dst in (("sqlite", "duckdb"), ("duckdb", "sqlite")):
        for step in ("migrate", "validate", "rollback"):
            assert f"{step} {src} -> {dst}" in names
    assert all(t["passed"] and t["error"] is None and t["seconds"] >= 0 for t in data["tests"])
    assert snapshot(home) == before
    assert os.environ["MDM_HOME_DIR"] == str(home)
    assert client.load_arrow("penguins").num_rows > 0


def test_api_on_one_backend_has_no_migration_tests(home):
    result = IntegrationTestFramework(["sqlite"], rows=200).run_all_tests()

    assert result.failed_tests == []
    assert result.passed == result.total == 6
    assert not any("migrate" in t.name for t in result.tests)
    assert not any(home.iterdir())


def test_a_postgresql_at_a_closed_port_fails_its_tests_and_the_others_still_run(cli, home, monkeypatch):
    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_HOST", "127.0.0.1")
    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_PORT", str(closed_port()))
    proc = cli("selftest", "--backend", "sqlite", "--backend", "postgresql", "--rows", "200", "--format", "json")

    assert proc.exit_code == 1
    data = json.loads(proc.stdout)
    failed = {t["name"]: t["error"] for t in data["failed_tests"]}
    assert failed["register (postgresql)"].startswith("Cannot connect to PostgreSQL at 127.0.0.1:")
    assert failed["register (postgresql)"].endswith(".")
    assert failed["load arrow (postgresql)"] == "not run: register (postgresql) failed."
    assert failed["migrate sqlite -> postgresql"] == "not run: register (postgresql) failed."
    passed = {t["name"] for t in data["tests"] if t["passed"]}
    assert {"register (sqlite)", "load arrow (sqlite)", "export parquet (sqlite)"} <= passed
    assert proc.stderr.startswith(f"Error: {len(failed)} of {data['total']} self-tests failed")
    assert not any(home.iterdir())


@pytest.mark.slow
@pytest.mark.postgres
def test_selftest_on_postgresql_leaves_no_schema_behind(cli, pg_database, monkeypatch):
    import psycopg

    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", pg_database)
    result = cli("selftest", "--backend", "sqlite", "--backend", "postgresql", "--rows", "200", "--format", "json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["failed_tests"] == []
    assert "rollback postgresql -> sqlite" in [t["name"] for t in data["tests"]]
    with psycopg.connect(pg_database, autocommit=True) as conn:
        schemas = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'mdm\\_%'").fetchall()
    assert schemas == []


def test_table_output_says_pass_or_fail_per_test(cli):
    result = cli("selftest", "--backend", "sqlite", "--rows", "200")
    assert result.exit_code == 0, result.output
    assert "register (sqlite)" in result.stdout and "PASS" in result.stdout and "FAIL" not in result.stdout
    assert "6 of 6 passed." in result.stdout
