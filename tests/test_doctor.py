"""``mdm doctor`` and ``mdm dataset repair`` on real homes: a healthy one exits 0; each
problem of the issue (corrupted dataset.yaml, deleted store, row count that disagrees,
broken custom-feature file, plugin that fails to import, unreachable PostgreSQL, stale
lock, interrupted work) is a row with the exact command that fixes it."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mdm_core.testing.distributions import install_plugin_module


def _csv(folder: Path, name: str, rows: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    lines = ["id,amount,color,label"] + [f"{i},{i * 1.5},{'red' if i % 2 else 'blue'},{i % 3}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _register(client, tmp_path: Path, name: str, backend: str, rows: int = 30) -> None:
    client.register_dataset(name, str(_csv(tmp_path / "src", name, rows)), target="label", backend=backend,
                            generate_features=False)


def _doctor(cli, *args: str) -> tuple[int, dict[str, dict]]:
    result = cli("doctor", "--format", "json", *args)
    data = json.loads(result.stdout)
    assert data["exit_code"] == result.exit_code
    return result.exit_code, {c["name"]: c for c in data["checks"]}


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_healthy_home_exits_0_and_the_table_fits_80_columns(home, client, cli, tmp_path, monkeypatch):
    _register(client, tmp_path, "flowers", "sqlite")
    _register(client, tmp_path, "ducks", "duckdb")
    code, checks = _doctor(cli, "--deep")
    assert code == 0, [c for c in checks.values() if c["status"] != "OK"]
    assert {"config valid", "plugins load", "backend sqlite", "backend duckdb", "dataset flowers", "dataset ducks",
            "feature self-test", "custom feature files", "disk space", "home writable",
            "locks and journals"} <= set(checks)
    assert "backend postgresql" not in checks  # not configured, not used: not contacted
    assert "read in full" in checks["dataset ducks"]["detail"]
    monkeypatch.setenv("COLUMNS", "80")
    table = cli("doctor")
    assert table.exit_code == 0, table.stdout + table.stderr
    lines = table.stdout.splitlines()
    # only a word that cannot fit (the test's long tmp paths) makes a line longer
    assert all(len(line) <= 80 or max(len(w) for w in line.split()) > 50 for line in lines), table.stdout
    assert any("datasets folder writable" in line for line in lines)  # a long name is never cut
    assert lines[-1] == f"{len(checks)} OK, 0 WARN, 0 FAIL."


def test_each_problem_is_found_with_its_fix(home, client, cli, tmp_path):
    from mdm_core.config import load_settings
    from mdm_core.datasets.locks import lock_path
    from mdm_core.migration.journal import RUNNING, Journal, UnitRecord, save_journal

    for name, backend in (("corrupt", "sqlite"), ("gone", "duckdb"), ("short", "sqlite"), ("fine", "sqlite")):
        _register(client, tmp_path, name, backend)
    datasets = load_settings().settings.datasets_dir
    (datasets / "corrupt" / "dataset.yaml").write_text("name: corrupt\ntables: [unclosed\n", encoding="utf-8")
    (datasets / "gone" / "dataset.duckdb").unlink()
    with sqlite3.connect(datasets / "short" / "dataset.sqlite") as con:
        con.execute('DELETE FROM "data" WHERE rowid IN (SELECT rowid FROM "data" LIMIT 3)')
    custom = home / "config" / "custom_features"
    custom.mkdir(parents=True)
    (custom / "broken.py").write_text("x = 1\ndef f(:\n    pass\n", encoding="utf-8")
    pid = _dead_pid()
    lock = lock_path(datasets, "fine")
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(json.dumps({"pid": pid, "operation": "register", "since": "2026-01-01T00:00:00+00:00"}))
    save_journal(home, Journal(units={"copy:x/train": UnitRecord("copy", "x/train", "storage", state=RUNNING)}))

    code, checks = _doctor(cli)
    assert code == 1
    corrupt = checks["dataset corrupt"]
    assert corrupt["status"] == "FAIL" and "unreadable" in corrupt["detail"]
    assert corrupt["fix"] == "mdm dataset repair corrupt"
    gone = checks["dataset gone"]
    assert gone["status"] == "FAIL" and "duckdb store is missing" in gone["detail"]
    assert gone["fix"].startswith("mdm dataset remove gone, then register it again") and "mdm restore" in gone["fix"]
    short = checks["dataset short"]
    assert short["status"] == "FAIL" and "table data has 27 rows stored, 30 recorded" in short["detail"]
    assert short["fix"].startswith("mdm dataset register short ") and short["fix"].endswith(" --force")
    broken = checks["custom features broken.py"]
    assert broken["status"] == "FAIL" and "SyntaxError" in broken["detail"] and "line 2" in broken["detail"]
    assert str(custom / "broken.py") in broken["fix"]
    stale = checks["lock fine"]
    assert stale["status"] == "WARN" and f"pid {pid}" in stale["detail"] and stale["fix"] == "mdm doctor --fix"
    migration = checks["migration"]
    assert migration["status"] == "WARN" and "x/train" in migration["detail"]
    assert migration["fix"] == "mdm-migrate run (resumes it) or mdm-migrate rollback --all"
    assert checks["dataset fine"]["status"] == "OK"


def test_fix_clears_stale_locks_and_interrupted_registrations(home, client, cli, tmp_path):
    from mdm_core.config import load_settings
    from mdm_core.datasets import journal
    from mdm_core.datasets.locks import lock_path

    _register(client, tmp_path, "fine", "sqlite")
    datasets = load_settings().settings.datasets_dir
    pid = _dead_pid()
    lock = lock_path(datasets, "fine")
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(json.dumps({"pid": pid, "operation": "remove"}))
    operation = journal.begin(datasets, "ghost", "register", "sqlite", stage_key="ghost_1", final_key="ghost_2")
    operation.pid = pid
    operation.save()
    code, checks = _doctor(cli)
    assert code == 0 and checks["interrupted register"]["status"] == "WARN"
    assert "ghost" in checks["interrupted register"]["detail"]
    result = cli("doctor", "--fix")
    assert result.exit_code == 0
    assert "Fixed: removed the lock file of dataset 'fine'" in result.stdout
    assert "Fixed: finished or undid the interrupted register of dataset 'ghost'" in result.stdout
    assert not lock.exists() and not operation.folder.exists()
    assert _doctor(cli)[1]["locks and journals"]["status"] == "OK"


def test_repair_rebuilds_a_usable_dataset_and_refuses_without_a_store(home, client, cli, tmp_path):
    from mdm_core.config import load_settings

    _register(client, tmp_path, "flowers", "duckdb", rows=50)
    before = client.load_arrow("flowers", "data")
    folder = load_settings().settings.datasets_dir / "flowers"
    (folder / "dataset.yaml").write_text((folder / "dataset.yaml").read_text().replace("tables:", "tables: [", 1))
    assert cli("dataset", "repair", "flowers").exit_code == 0
    kept = list(folder.glob("dataset.yaml.corrupt-*"))
    assert len(kept) == 1 and "tables: [" in kept[0].read_text()
    info = client.get_dataset_info("flowers")
    assert info.backend == "duckdb" and info.target_column == "label"  # legible fields kept
    assert [(t.name, t.row_count) for t in info.tables] == [("data", 50)]
    assert {c.name: c.type for c in info.tables[0].columns}["amount"] == "numeric"
    assert client.load_arrow("flowers", "data").equals(before)
    assert _doctor(cli)[0] == 0
    again = cli("dataset", "repair", "flowers")
    assert again.exit_code == 1 and "is readable; there is nothing to repair" in again.stderr
    (folder / "dataset.yaml").write_text("{{{", encoding="utf-8")
    (folder / "dataset.duckdb").unlink()
    refused = cli("dataset", "repair", "flowers")
    assert refused.exit_code == 1 and "no store was found" in refused.stderr
    assert refused.stderr.count("\n") == 1


def test_unreachable_postgresql_fails_with_the_setting_to_change(home, cli, monkeypatch):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_HOST", "127.0.0.1")
    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_PORT", str(port))
    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_PASSWORD", "Unreach-Pw-1")
    code, checks = _doctor(cli)
    assert code == 1
    row = checks["backend postgresql"]
    assert row["status"] == "FAIL" and f"port {port} failed" in row["detail"]
    assert "database.postgresql" in row["fix"] and "mdm storage test --backend postgresql" in row["fix"]
    assert "Unreach-Pw-1" not in json.dumps(checks)


@pytest.mark.slow
def test_a_plugin_that_fails_to_import_is_a_fail_naming_it(home, tmp_path):
    site = install_plugin_module(tmp_path / "site", "mdm-broken", "mdm_broken",
                                 "raise ImportError('no such thing')\n", version="1.2.3")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MDM_") or k == "MDM_TEST_POSTGRES_DSN"}
    env.update(MDM_HOME_DIR=str(home), PYTHONPATH=str(site))
    result = subprocess.run([str(Path(sys.executable).with_name("mdm")), "doctor", "--format", "json"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1, result.stderr
    row = next(c for c in json.loads(result.stdout)["checks"] if c["name"] == "plugin mdm_broken")
    assert row["status"] == "FAIL"
    assert row["detail"] == "mdm-broken 1.2.3: failed to load: ImportError: no such thing"
    assert row["fix"] == "pip install --force-reinstall mdm-broken, or skip it: MDM_DISABLE_PLUGINS=mdm_broken"


@pytest.mark.parametrize("content", ["database: [broken\n", "database:\n  connection_timeout: soon\n"])
def test_an_invalid_config_is_a_fail(home, cli, content):
    (home / "mdm.yaml").write_text(content, encoding="utf-8")
    code, checks = _doctor(cli)
    assert code == 1 and checks["config valid"]["status"] == "FAIL"
    assert "mdm config validate" in checks["config valid"]["fix"]


@pytest.mark.slow
def test_an_mdm_1x_home_is_checked_without_a_byte_changed(legacy_fixture, use_home, cli, monkeypatch):
    import hashlib

    monkeypatch.chdir(legacy_fixture)
    home = use_home(legacy_fixture / "home")
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(home.rglob("*")) if p.is_file()}
    code, checks = _doctor(cli, "--deep")
    assert code == 0, [c for c in checks.values() if c["status"] != "OK"]
    assert checks["dataset penguins"]["status"] == "OK"
    weather = checks["dataset weather"]  # the 1.x feature table short of rows is not served
    assert weather["status"] == "WARN" and "data_features" in weather["detail"]
    assert weather["fix"] == "mdm-migrate run (its features phase regenerates them)"
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(home.rglob("*")) if p.is_file()} == before


@pytest.mark.slow
@pytest.mark.postgres
def test_a_postgresql_dataset_whose_schema_was_dropped(home, cli, tmp_path, monkeypatch, pg_database):
    import psycopg

    from mdm_core.datasets.client import MDMClient

    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", pg_database)
    client = MDMClient()
    _register(client, tmp_path, "remote", "postgresql")
    code, checks = _doctor(cli)
    assert code == 0 and checks["backend postgresql"]["status"] == "OK", checks["backend postgresql"]
    assert checks["dataset remote"]["detail"].startswith("postgresql, 1 table, 30 rows")
    schema = client.get_dataset_info("remote").store["schema"]
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    code, checks = _doctor(cli)
    assert code == 1 and checks["dataset remote"]["detail"] == "its postgresql store is missing."
