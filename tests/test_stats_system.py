"""``mdm stats`` and ``get_monitor()``: system metrics, the operations in progress (from
live lock holders and journals) and the operations history in ``<home>/logs``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mdm_core.performance import get_monitor
from mdm_core.performance import history as history_module
from mdm_core.performance.data import write_csv
from mdm_core.performance.history import append, history_path, read_history


def test_system_metrics_keys_and_ranges(home):
    metrics = get_monitor().get_system_metrics()
    assert 0.0 <= metrics["cpu_percent"] <= 100.0
    assert 0.0 < metrics["memory_percent"] <= 100.0
    assert metrics["memory_used_bytes"] + metrics["memory_available_bytes"] == metrics["memory_total_bytes"]
    assert metrics["cores"] == os.cpu_count() and metrics["physical_cores"] >= 1
    assert len(metrics["load_average"]) == 3
    disk = metrics["disk"]
    assert disk["path"] == str(home) and 0 < disk["free_bytes"] <= disk["total_bytes"]
    assert metrics["active_operations"] == [] and metrics["interrupted_operations"] == []


def test_history_records_register_export_remove_with_their_rows(client, home, tmp_path, cli):
    csv = write_csv(tmp_path / "sales.csv", 1_234)
    client.register_dataset("Sales", csv, generate_features=False)
    client.export_dataset("sales", tmp_path / "out", format="parquet")
    client.remove_dataset("sales")
    with pytest.raises(Exception, match="missing.csv"):
        client.register_dataset("other", tmp_path / "missing.csv")
    records = read_history(home / "logs" / "operations.jsonl")
    assert [(r["operation"], r["dataset"], r["rows"], r["status"]) for r in records] == [
        ("register", "other", None, "failed"),
        ("remove", "sales", 1_234, "ok"),
        ("export", "sales", 1_234, "ok"),
        ("register", "sales", 1_234, "ok"),
    ]
    assert "missing.csv" in records[0]["error"]
    assert [r["backend"] for r in records[1:]] == ["sqlite"] * 3 and records[3]["seconds"] >= 0
    assert set(records[3]) == set(history_module.FIELDS)

    shown = json.loads(cli("stats", "--operations", "--format", "json").stdout)
    assert [r["operation"] for r in shown["operations"]["recent"]] == ["register", "remove", "export", "register"]
    assert "system" not in shown
    only = json.loads(cli("stats", "show", "-t", "register", "-d", "Sales", "--format", "json").stdout)
    assert [(r["dataset"], r["rows"]) for r in only] == [("sales", 1_234)]
    summary = json.loads(cli("stats", "summary", "--format", "json").stdout)
    assert summary["register"]["count"] == 2 and summary["register"]["failed"] == 1
    assert summary["register"]["rows"] == 1_234 and summary["export"]["rows"] == 1_234
    table = cli("stats", "show").stdout.splitlines()
    assert table[0].strip() == "Recent operations" and max(len(line) for line in table[:8]) <= 80
    assert table[-1].endswith(f"register other: {records[0]['error']}")


def test_a_history_that_cannot_be_written_never_fails_the_operation(client, home, tmp_path):
    (home / "logs").write_text("not a folder")
    info = client.register_dataset("sales", write_csv(tmp_path / "s.csv", 50), generate_features=False)
    assert info.table("data").row_count == 50


def test_a_migration_run_is_recorded(home):
    from mdm_core.migration.orchestrator import Migration

    report = Migration(home).run()
    record = read_history(home / "logs" / "operations.jsonl", limit=1)[0]
    assert record["operation"] == "migration"
    assert record["status"] == ("ok" if report.exit_code == 0 else "failed")
    assert record["rows"] == sum(o.record.rows_written or 0 for o in report.outcomes)


HOLDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from {module} import {function}
    with {function}({args}):
        print("held", flush=True)
        sys.stdin.read()
""")


def hold(module: str, function: str, args: str) -> subprocess.Popen:
    """A process holding a lock until its stdin closes."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER.format(module=module, function=function, args=args)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def dead_pid() -> int:
    process = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(process.stdout)


def test_active_operations_come_from_live_lock_holders_only(home, cli):
    from mdm_core.datasets import journal

    datasets = home / "datasets"
    stale = datasets / ".locks" / "gone.lock"
    stale.parent.mkdir(parents=True)
    stale.write_text(json.dumps({"pid": dead_pid(), "operation": "register", "since": "2026-01-01T00:00:00+00:00"}))
    interrupted = journal.begin(datasets, "gone", "register", "sqlite")
    interrupted.pid = dead_pid()
    interrupted.save()
    holders = [hold("mdm_core.datasets.locks", "dataset_lock", f"Path({str(datasets)!r}), 'busy', 'register'"),
               hold("mdm_core.migration.lock", "migration_lock", f"Path({str(home)!r}), 'run'")]
    try:
        metrics = json.loads(cli("stats", "--system", "--format", "json").stdout)["system"]
        table = cli("stats").stdout
    finally:
        for process in holders:
            process.communicate("")
    active = metrics["active_operations"]
    assert [(a["operation"], a["dataset"], a["pid"]) for a in active] == [
        ("register", "busy", holders[0].pid), ("migration", None, holders[1].pid)]
    assert active[1]["command"] == "run"
    assert [(i["operation"], i["dataset"], i["pid"]) for i in metrics["interrupted_operations"]] == [
        ("register", "gone", interrupted.pid)]
    assert "In progress" in table and "migration (run)" in table and "Interrupted" in table
    assert get_monitor().active_operations() == []  # the holders are gone


def test_concurrent_appends_never_interleave_and_the_file_stays_bounded(tmp_path, monkeypatch):
    path = tmp_path / "logs" / "operations.jsonl"
    code = textwrap.dedent(f"""
        from pathlib import Path
        from mdm_core.performance.history import append
        for i in range(200):
            append(Path({str(path)!r}), {{"operation": "export", "dataset": "d" * 100, "rows": i}})
    """)
    writers = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(4)]
    assert [w.wait() for w in writers] == [0] * 4
    lines = path.read_text().splitlines()
    assert len(lines) == 800 and all(json.loads(line)["operation"] == "export" for line in lines)

    monkeypatch.setattr(history_module, "MAX_BYTES", 20_000)
    for i in range(300):
        append(path, {"operation": "remove", "rows": i})
    assert path.stat().st_size <= 20_000
    newest = read_history(path)
    assert newest[0]["rows"] == 299 and [r["rows"] for r in newest[:3]] == [299, 298, 297]


def test_the_history_lives_in_the_configured_logs_folder(home, monkeypatch):
    from mdm_core.config import load_settings

    monkeypatch.setenv("MDM_PATHS_LOGS_PATH", "var/log")
    assert history_path(load_settings(home, fresh=True).settings) == Path(home) / "var" / "log" / "operations.jsonl"
