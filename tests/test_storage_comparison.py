"""``StorageComparisonTester`` / ``mdm storage compare``: the legacy implementation (a store
written as MDM 1.x wrote it, read by the 1.x reader) and the new one agree on generated
data; a store changed on disk is reported by the test that sees it."""

from __future__ import annotations

import json
import sqlite3

import pytest

from mdm_core.migration import StorageComparisonTester
from mdm_core.testing.storage_comparison import FILTERS

#: What each backend's legacy and new sides really differ in: (test, a note it must give).
DIFFERENCES = {
    # 1.x SQLite kept datetimes as text; the new backend keeps the timestamp type
    "sqlite": ("columns and types", "'event time': legacy string, new timestamp[us]"),
    # pandas stored NaN as NULL; new DuckDB keeps NaN apart, so IS NOT NULL matches more rows there
    "duckdb": ("filter IS NOT NULL (float with NaN)", "matched only because of NaN"),
}


@pytest.mark.parametrize("backend", ["sqlite", "duckdb"])
def test_legacy_new_and_migrated_agree_and_the_differences_are_named(home, backend):
    result = StorageComparisonTester(backend, rows=500).run_all_tests()

    assert [t.error for t in result.failed] == []
    assert result.success_rate == 1.0
    questions = {"row count", "columns and types", "full content (checksum)", "store checksum",
                 "projection", "projection with limit", *FILTERS}
    names = [t.name for t in result.tests]
    assert {"write", "storage phase (mdm-migrate)", *questions, *(f"migrated: {q}" for q in questions)} == set(names)
    for test in result.tests:
        if test.name.startswith("migrated: "):
            assert set(test.seconds) == {"legacy", "migrated"}, test.name
        elif test.name != "storage phase (mdm-migrate)":
            assert set(test.seconds) == {"legacy", "new"}, test.name
    test, note = DIFFERENCES[backend]
    assert note in " ".join(result.test(test).notes)
    # the storage phase keeps what the 1.x reader returns: nothing to normalise
    assert result.test("migrated: columns and types").notes == ()
    assert not any(home.iterdir()), "the comparison wrote into the user's home"


def test_a_value_changed_on_disk_fails_the_tests_that_see_it(home):
    tester = StorageComparisonTester("sqlite", rows=500)
    try:
        tester.setup()
        with sqlite3.connect(tester.paths["new"]) as conn:
            conn.execute("UPDATE data SET label = 'tampered' WHERE id = 7")
        result = tester.compare()
    finally:
        tester.close()

    failed = {t.name: t.error for t in result.failed}
    assert "full content (checksum)" in failed
    assert "column 'label'" in failed["full content (checksum)"]
    assert "id=7" in failed["full content (checksum)"] and "'tampered'" in failed["full content (checksum)"]
    assert "row count" not in failed
    assert "migrated: full content (checksum)" not in failed
    assert result.success_rate < 1.0
    assert tester.folder is None


def test_a_migrated_store_changed_on_disk_fails_only_the_migrated_tests(home):
    tester = StorageComparisonTester("sqlite", rows=500)
    try:
        tester.setup()
        with sqlite3.connect(tester.paths["migrated"]) as conn:
            conn.execute("UPDATE data SET score = score + 1 WHERE id = 11")
        result = tester.compare()
    finally:
        tester.close()

    failed = {t.name: t.error for t in result.failed}
    assert "migrated: full content (checksum)" in failed
    assert "column 'score'" in failed["migrated: full content (checksum)"]
    assert "id=11" in failed["migrated: full content (checksum)"]
    assert all(name.startswith("migrated: ") for name in failed)
    assert "migrated: row count" not in failed


def test_a_row_deleted_on_disk_fails_the_row_count(home):
    tester = StorageComparisonTester("sqlite", rows=500)
    try:
        tester.setup()
        with sqlite3.connect(tester.paths["new"]) as conn:
            conn.execute("DELETE FROM data WHERE id = 3")
        result = tester.compare()
    finally:
        tester.close()

    assert result.test("row count").error == "legacy counts 500 rows, new 499."
    assert not result.test("full content (checksum)").passed


def test_cli_json_and_table(cli):
    result = cli("storage", "compare", "sqlite", "--rows", "300", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["failed"] == 0
    [sqlite] = data["backends"]
    assert sqlite["backend"] == "sqlite" and sqlite["rows"] == 300 and sqlite["success_rate"] == 1.0
    assert sqlite["passed"] == sqlite["total"] == len(sqlite["tests"])
    assert {"name", "passed", "error", "notes", "seconds"} <= set(sqlite["tests"][0])

    table = cli("storage", "compare", "sqlite", "--rows", "300")
    assert table.exit_code == 0
    assert "Legacy vs new: sqlite" in table.stdout and "success rate 100%" in table.stdout


def test_cli_unknown_backend_fails_with_a_sentence(cli):
    result = cli("storage", "compare", "nosuch", "--format", "json")
    assert result.exit_code == 1
    [nosuch] = json.loads(result.stdout)["backends"]
    assert nosuch["success_rate"] == 0.0
    assert "No storage plugin provides 'nosuch'" in nosuch["tests"][0]["error"]
    assert result.stderr.startswith("Error: 1 comparison(s) failed")


@pytest.mark.slow
@pytest.mark.postgres
def test_postgresql_legacy_and_new_agree_and_nothing_is_left(home, pg_database, monkeypatch):
    import psycopg

    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", pg_database)
    tester = StorageComparisonTester("postgresql", rows=500)
    result = tester.run_all_tests()

    assert [t.error for t in result.failed] == []
    assert result.success_rate == 1.0
    assert result.test("migrated: full content (checksum)").passed
    with psycopg.connect(pg_database, autocommit=True) as conn:
        schemas = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'mdm\\_%'").fetchall()
        databases = conn.execute("SELECT datname FROM pg_database WHERE datname = %s",
                                 (f"mdm_{tester.name}",)).fetchall()
    assert schemas == [] and databases == []
