"""``mdm-migrate check`` and ``MigrationTestSuite`` on a copy of the MDM 1.0.6 fixture:
ready, blocked (a missing backend plugin, an unreachable PostgreSQL server, a held lock),
needs attention (a custom-feature file that fails), exit codes, and not a byte written."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

MIGRATE = Path(sys.executable).with_name("mdm-migrate")


@pytest.fixture
def legacy_home(legacy_fixture, monkeypatch, use_home) -> Path:
    monkeypatch.chdir(legacy_fixture)
    return use_home(legacy_fixture / "home")


def _state(home: Path) -> dict[str, str]:
    """Every file's hash and every folder of the home."""
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(home.rglob("*"))}


def _check(*args: str) -> tuple[int, dict]:
    out = subprocess.run([str(MIGRATE), "check", "--format", "json", *args], capture_output=True, text=True,
                         timeout=120)
    return out.returncode, json.loads(out.stdout)


def _item(data: dict, name: str) -> dict:
    return next(i for i in data["items"] if i["name"] == name)


def test_healthy_fixture_is_ready_and_nothing_is_written(legacy_home):
    from mdm_core.migration import MigrationTestSuite

    before = _state(legacy_home)
    result = MigrationTestSuite().test_migration_readiness()
    assert result.status == "ready" and result.overall_score == 100, [i for i in result.items if not i.ok]
    names = {i.name for i in result.items}
    assert {"disk space", "home writable", "storage plugins", "credentials", "broken datasets", "migration lock",
            "custom features"} <= names
    code, data = _check()
    assert code == 0 and data["status"] == "ready" and data["exit_code"] == 0
    table = subprocess.run([str(MIGRATE), "check"], capture_output=True, text=True, timeout=120)
    assert table.returncode == 0 and "100/100, ready" in table.stdout
    assert _state(legacy_home) == before


def test_unknown_target_backend_blocks(legacy_home):
    before = _state(legacy_home)
    code, data = _check("--to", "nosuch")
    assert code == 1 and data["status"] == "blocked" and data["overall_score"] < 60
    plugins = _item(data, "storage plugins")
    assert not plugins["ok"] and "nosuch" in plugins["message"] and plugins["fix"]
    assert _state(legacy_home) == before


def test_unreachable_postgresql_blocks(legacy_home):
    database = {"backend": "postgresql", "host": "127.0.0.1", "port": 1, "user": "alice", "password": "s3cret",
                "database": "mdm_remote"}
    (legacy_home / "config" / "datasets" / "remote.yaml").write_text(yaml.safe_dump({
        "name": "remote", "display_name": "remote", "description": "on a server that is not there",
        "database": database, "tables": {"data": "data"}, "problem_type": None, "target_column": None,
        "id_columns": [], "feature_tables": {}, "tags": [], "registered_at": "2026-11-21T01:50:45+00:00",
        "source": "remote.csv", "version": "1.0.0"}, sort_keys=False))
    before = _state(legacy_home)
    started = time.monotonic()
    code, data = _check()
    assert time.monotonic() - started < 60
    assert code == 1 and data["status"] == "blocked"
    server = _item(data, "postgresql reachable")
    assert not server["ok"] and server["severity"] == "blocked" and "remote" in server["message"]
    assert "s3cret" not in json.dumps(data)
    broken = _item(data, "broken datasets")  # the plan skips it too
    assert not broken["ok"] and "remote" in broken["message"]
    assert _state(legacy_home) == before


def test_failing_custom_feature_file_needs_attention(legacy_home):
    from mdm_core.migration import MigrationTestSuite

    (legacy_home / "config" / "custom_features" / "sample.py").write_text(
        "from mdm.features.custom.base import BaseDomainFeatures\nraise RuntimeError('half-edited file')\n")
    result = MigrationTestSuite().test_migration_readiness()
    item = next(i for i in result.items if i.name == "custom features")
    assert not item.ok and "sample.py" in item.message and "half-edited file" in item.message
    assert result.status == "needs attention" and result.overall_score == 90
    code, data = _check()
    assert code == 5 and data["status"] == "needs attention"


def test_held_lock_blocks(legacy_home):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom pathlib import Path\nfrom mdm_core.migration.lock import migration_lock\n"
         f"with migration_lock(Path({str(legacy_home)!r}), 'run'):\n    print('held', flush=True)\n"
         "    time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        code, data = _check()
        lock = _item(data, "migration lock")
        assert code == 1 and not lock["ok"] and str(holder.pid) in lock["message"]
    finally:
        holder.kill()
        holder.wait()
    code, data = _check()
    assert code == 0 and _item(data, "migration lock")["ok"]
