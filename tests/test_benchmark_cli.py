"""``mdm benchmark``: rows/s per backend and operation on generated data in a temporary
home, and ``--compare``: the legacy vs the new generation on a file."""

from __future__ import annotations

import json
import os

import pyarrow.compute as pc
import pytest

from mdm_core.performance.benchmark import OPERATIONS, QUICK_ROWS, PerformanceBenchmark
from mdm_core.performance.data import generate_table, write_csv


def assert_rates_are_real(results: dict, rows: int) -> None:
    """Every operation handled all ``rows`` and its rate is rows / seconds."""
    assert set(results) == set(OPERATIONS)
    for op, timing in results.items():
        assert timing["rows"] == rows, op
        assert timing["seconds"] > 0, op
        assert timing["rows_per_second"] == pytest.approx(rows / timing["seconds"], rel=1e-3), op


def north_rows(rows: int) -> int:
    """Rows of the generated table the benchmark's filter (region = 'north') matches."""
    return pc.sum(pc.equal(generate_table(rows).column("region"), "north")).as_py()


def test_quick_json_on_sqlite_measures_every_operation_in_a_temporary_home(cli, home):
    result = cli("benchmark", "--quick", "--backend", "sqlite", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rows"] == QUICK_ROWS and report["quick"] is True and report["skipped"] == {}
    assert list(report["backends"]) == ["sqlite"]
    sqlite = report["backends"]["sqlite"]
    assert_rates_are_real(sqlite, QUICK_ROWS)
    assert sqlite["filter"]["matched"] == north_rows(QUICK_ROWS)
    assert sqlite["features"]["columns"] > len(generate_table(1).column_names)
    summary = report["summary"]
    assert summary["fastest"] == dict.fromkeys(OPERATIONS, "sqlite")
    assert summary["backend_seconds"]["sqlite"] == pytest.approx(sum(t["seconds"] for t in sqlite.values()), abs=2e-3)
    assert summary["total_seconds"] >= summary["backend_seconds"]["sqlite"]
    assert summary["machine"]["cores"] == os.cpu_count() and summary["machine"]["memory_bytes"] > 0
    assert list(home.iterdir()) == []  # the user's home: no dataset, no history, nothing


def test_the_table_names_each_backend_and_fits_80_columns(cli):
    result = cli("benchmark", "--rows", "500", "--backend", "duckdb")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "500 generated rows" in lines[0]
    assert any("duckdb" in line and "fastest" in line for line in lines)
    assert [line.split("│")[1].strip() for line in lines if line.startswith("│")] == list(OPERATIONS)


def test_an_unknown_backend_is_one_sentence(run_mdm):
    result = run_mdm("benchmark", "--backend", "nosuch", "--rows", "10")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: No storage backend 'nosuch' is installed (installed: ")


def test_compare_runs_both_generations_and_says_where_they_differ(home, tmp_path):
    csv = write_csv(tmp_path / "sample.csv", 1_500)
    report = PerformanceBenchmark().compare_implementations(test_dataset=str(csv), backend="sqlite")
    assert report["backend"] == "sqlite" and report["dataset"] == str(csv)
    operations = report["operations"]
    assert list(operations) == ["register", "load", "filter", "export", "features"]
    for op, result in operations.items():
        for generation in ("legacy", "new"):
            assert result[generation]["rows"] == 1_500, (op, generation)
            assert result[generation]["seconds"] > 0
        assert result["speedup"] == pytest.approx(result["legacy"]["seconds"] / result["new"]["seconds"], abs=1e-3)
    features = operations["features"]
    assert features["same_implementation"] is False
    assert features["legacy"]["implementation"].startswith("features-legacy: ")
    assert features["new"]["implementation"].startswith("features-new: ")
    for op in ("register", "load", "filter", "export"):  # the legacy storage serves new stores through the new one
        assert operations[op]["same_implementation"] is True, op
    summary = report["summary"]
    assert summary["differing_operations"] == ["features"]
    assert summary["flags"]["legacy"]["use_new_features"] is False and summary["flags"]["new"]["use_new_features"]
    assert summary["selected"]["legacy"]["storage"] == "legacy (legacy)"
    assert summary["selected"]["new"]["storage"] == "sqlite (new)"
    assert list(home.iterdir()) == []


def test_compare_table_fits_80_columns(cli, tmp_path):
    csv = write_csv(tmp_path / "sample.csv", 300)
    result = cli("benchmark", "--compare", str(csv), "--backend", "duckdb")
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.startswith("│")}
    assert "differs" in rows["features"] and "same code" in rows["register"]
    assert max(len(line) for line in result.stdout.splitlines()[:12]) <= 80


@pytest.mark.slow
@pytest.mark.postgres
def test_quick_all_backends_and_nothing_left_on_the_server(cli, pg_database, monkeypatch):
    import psycopg

    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", pg_database)
    result = cli("benchmark", "--quick", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["skipped"] == {}
    assert list(report["backends"]) == ["sqlite", "duckdb", "postgresql"]
    for results in report["backends"].values():
        assert_rates_are_real(results, QUICK_ROWS)
        assert results["filter"]["matched"] == north_rows(QUICK_ROWS)
    assert set(report["summary"]["fastest"].values()) <= {"sqlite", "duckdb", "postgresql"}
    with psycopg.connect(pg_database) as conn:
        left = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'mdm\\_%'").fetchall()
    assert left == []
