"""``mdm config tune`` and PerformanceTuner: proposals from this machine and the home's
largest table, each with a reason; ``--apply`` / ``apply_config`` write mdm.yaml after a
byte-for-byte backup, keeping the user's other keys; backends propose their own keys."""

from __future__ import annotations

import json

import psutil
import pytest
import yaml

from mdm_core.errors import ConfigError
from mdm_core.performance import PerformanceTuner


def _by_key(proposals):
    return {p.key: p for p in proposals}


def test_auto_tune_proposes_from_machine_and_largest_table(client, home, penguins):
    client.register_dataset("penguins", penguins, target="species")
    tuner = PerformanceTuner()
    context = tuner.context()
    assert context.memory_bytes == psutil.virtual_memory().total
    rows = max(t.row_count for t in client.get_dataset_info("penguins").tables)
    assert context.largest is not None and context.largest.rows == rows
    assert context.largest.name.startswith("penguins.")

    proposals = _by_key(tuner.auto_tune())
    assert {"performance.batch_size", "performance.memory_cache_mb", "database.duckdb.memory_limit",
            "database.duckdb.threads", "database.duckdb.temp_directory",
            "database.postgresql.pool_size"} <= set(proposals)
    batch = proposals["performance.batch_size"]
    assert batch.current == 10000 and 1000 <= batch.proposed <= 200_000 and batch.proposed % 1000 == 0
    assert context.largest.name in batch.reason
    assert proposals["database.duckdb.threads"].proposed is None  # follows performance.max_workers
    memory = proposals["database.duckdb.memory_limit"].proposed
    assert memory.endswith(("GB", "MB"))
    pool = proposals["database.postgresql.pool_size"]
    assert 5 <= pool.proposed <= 20 and "cores" in pool.reason
    assert all(p.reason for p in proposals.values())


def test_cli_tune_shows_and_applies_with_backup(cli, home, monkeypatch):
    original = "# my settings\nlogging:\n  level: INFO\nperformance:\n  batch_size: 10\n"
    (home / "mdm.yaml").write_text(original, encoding="utf-8")
    shown = cli("config", "tune", "--format", "json")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    batch = next(p for p in data["proposals"] if p["key"] == "performance.batch_size")
    assert batch["current"] == 10 and batch["changes"] and data["applied"] is None
    assert (home / "mdm.yaml").read_text(encoding="utf-8") == original
    monkeypatch.setenv("COLUMNS", "80")
    table = cli("config", "tune")
    assert f"10 -> {batch['proposed']}" in table.stdout and "mdm config tune --apply" in table.stdout

    applied = cli("config", "tune", "--apply")
    assert applied.exit_code == 0, applied.output
    backups = list(home.glob("mdm.yaml.bak-*"))
    assert len(backups) == 1 and backups[0].read_text(encoding="utf-8") == original
    assert f"(backup: {backups[0].name})" in applied.stdout
    written = yaml.safe_load((home / "mdm.yaml").read_text(encoding="utf-8"))
    assert written["logging"] == {"level": "INFO"}
    assert written["performance"]["batch_size"] == batch["proposed"]
    validate = cli("config", "validate")
    assert validate.exit_code == 0, validate.output
    again = json.loads(cli("config", "tune", "--format", "json").stdout)
    assert not any(p["changes"] for p in again["proposals"])


def test_apply_config_takes_a_mapping_and_refuses_bad_keys(home):
    tuner = PerformanceTuner()
    result = tuner.apply_config({"database.duckdb.threads": 3, "performance.batch_size": "4000"})
    assert result.backup is None  # there was no file to back up
    assert yaml.safe_load(result.path.read_text(encoding="utf-8")) == {
        "database": {"duckdb": {"threads": 3}}, "performance": {"batch_size": 4000}}
    before = result.path.read_bytes()
    with pytest.raises(ConfigError, match="Unknown config key 'performance.turbo'"):
        tuner.apply_config({"performance.turbo": True})
    with pytest.raises(ConfigError, match="does not fit config key 'database.duckdb.threads'"):
        tuner.apply_config({"database.duckdb.threads": "many"})
    assert result.path.read_bytes() == before and not list(home.glob("mdm.yaml.bak-*"))
