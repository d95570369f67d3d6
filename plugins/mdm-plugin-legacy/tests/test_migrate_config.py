"""The ``legacy-config`` migration step (phase ``config``), driven through the real
orchestrator and through ``mdm-migrate`` in a subprocess, on copies of the shared
fixtures (the flat ``legacy-config/config.yaml`` and the MDM 1.0.6 home)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from mdm_plugin_legacy.migrate_config import TEMP_FILE, LegacyConfigStep

from mdm_core.config import load_settings
from mdm_core.errors import ConfigError
from mdm_core.flags import Flags
from mdm_core.migration.orchestrator import Migration
from mdm_core.migration.step import RunOptions, StepContext, Unit, UnitResult
from mdm_core.testing.home import snapshot

FLAT = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "legacy-config" / "config.yaml"
#: Where every key of the flat fixture lands (its README), with its value.
FLAT_LANDS = {
    "database.default_backend": "duckdb",
    "performance.batch_size": 2000,
    "logging.level": "DEBUG",
    "paths.datasets_path": "datasets/",
    "database.duckdb.memory_limit": "2GB",
    "database.sqlite.journal_mode": "WAL",
    "database.postgresql.host": "localhost",
    "database.postgresql.port": 5432,
    "database.postgresql.user": "mdm",
    "feature_engineering.enabled": True,
}
NESTED_1X = """\
database:
  default_backend: sqlite
  postgresql:
    host: db.example
    password: s3cret-pass
    database_prefix: mdm_
performance:
  batch_size: "5000"
  max_concurrent_operations: 3
logging:
  level: WARNING
export:
  default_format: parquet
my_plugin:
  thing: 1
flags:
  use_new_storage: false
"""


def _setting(settings, dotted: str):
    value = settings
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def _step_plan(migration: Migration):
    (phase,) = migration.plan("config").phases
    return next(s.plan for s in phase.steps if s.step.name == "legacy-config")


def _mdm_yaml(home: Path) -> dict:
    return yaml.safe_load((home / "mdm.yaml").read_text())


@pytest.fixture
def flat_home(home) -> Path:
    """A home holding only the flat fixture ``config.yaml``."""
    shutil.copy(FLAT, home / "config.yaml")
    (home / "config.yaml").chmod(0o644)
    return home


@pytest.fixture
def home_1x(home, legacy) -> Path:
    """The home as a copy of the MDM 1.0.6 fixture home (nested 1.x mdm.yaml, datasets)."""
    shutil.copytree(legacy / "home", home, dirs_exist_ok=True)
    return home


def _context(home: Path) -> StepContext:
    """A context on a 1.x home (the legacy config loader reads it), outside any run."""
    return StepContext(home=home, settings=SimpleNamespace(flags=Flags(use_new_config=False)),
                       options=RunOptions(), backup_dir=home / "unused")


def _cli(home: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MDM_") or k == "MDM_STRICT_PLUGINS"}
    full_env.update({"MDM_HOME_DIR": str(home), **(env or {})})
    return subprocess.run([str(Path(sys.executable).with_name(args[0])), *args[1:]], capture_output=True,
                          text=True, env=full_env, timeout=300)


def test_every_flat_key_lands_where_the_fixture_says(flat_home):
    plan = _step_plan(Migration(flat_home))
    assert [u.id for u in plan.units] == ["mdm.yaml"]
    assert "config.yaml: batch_size -> performance.batch_size = 2000" in plan.notes
    assert len(plan.details["mapped"]) == len(FLAT_LANDS)

    report = Migration(flat_home).run("config")

    assert report.exit_code == 0 and report.phases_done == ["config"]
    loaded = load_settings(flat_home, fresh=True)
    assert loaded.loader == "core:loader"  # the new generation reads it
    for dotted, value in FLAT_LANDS.items():
        assert _setting(loaded.settings, dotted) == value, dotted
        assert loaded.sources[dotted] == str(flat_home / "mdm.yaml")
    assert loaded.settings.flags.use_new_config is True
    assert (flat_home / "config.yaml").read_bytes() == FLAT.read_bytes()  # left for cleanup
    assert _step_plan(Migration(flat_home)).units == ()  # done: nothing left to plan


def test_unknown_keys_are_named_and_the_password_never_written(home_1x):
    (home_1x / "mdm.yaml").write_text(NESTED_1X)
    plan = _step_plan(Migration(home_1x))
    assert "kept out of mdm.yaml: unknown key 'my_plugin.thing' (from mdm.yaml)" in plan.notes
    assert plan.details["unknown"] == ["my_plugin.thing"]
    assert set(plan.details["no_new_home"]) == {"database.postgresql.database_prefix",
                                                "performance.max_concurrent_operations", "export.default_format"}
    assert plan.details["password_dropped"] is True
    assert any("database.postgresql.password" in n and "MDM_DATABASE_POSTGRESQL_PASSWORD" in n for n in plan.notes)
    assert not any("s3cret-pass" in n for n in plan.notes)

    assert Migration(home_1x).run("config").exit_code == 0

    text = (home_1x / "mdm.yaml").read_text()
    assert "password" not in text and "s3cret-pass" not in text
    written = _mdm_yaml(home_1x)
    assert "export" not in written and "my_plugin" not in written
    assert written["performance"] == {"batch_size": 5000}  # the 1.x string, converted as 1.x did
    assert written["flags"] == {"use_new_storage": False, "use_new_config": True}
    settings = load_settings(home_1x, fresh=True).settings
    assert settings.database.postgresql.host == "db.example"
    assert settings.database.postgresql.password is None
    assert settings.flags.use_new_storage is False
    journal = (home_1x / ".migration" / "journal.json").read_text()
    assert "s3cret-pass" not in journal


def test_nested_wins_over_flat_as_in_1x(home_1x):
    shutil.copy(FLAT, home_1x / "config.yaml")
    plan = _step_plan(Migration(home_1x))
    assert "config.yaml: batch_size -> performance.batch_size: mdm.yaml's value wins, as in MDM 1.x" in plan.notes
    assert plan.details["mapped"]["batch_size"] == "performance.batch_size"

    assert Migration(home_1x).run("config").exit_code == 0

    settings = load_settings(home_1x, fresh=True).settings
    nested_wins = {"database.default_backend": "sqlite", "performance.batch_size": 5000, "logging.level": "WARNING"}
    for dotted, value in {**FLAT_LANDS, **nested_wins}.items():
        assert _setting(settings, dotted) == value, dotted


def test_legacy_variables_are_reported_not_written(home_1x, monkeypatch):
    monkeypatch.setenv("MDM_BACKEND", "duckdb")
    monkeypatch.setenv("MDM_BATCH_SIZE", "123")
    monkeypatch.setenv("MDM_LOG_LEVEL", "ERROR")
    plan = _step_plan(Migration(home_1x))
    assert plan.details["env"] == {"MDM_BACKEND": "MDM_DATABASE_DEFAULT_BACKEND",
                                   "MDM_BATCH_SIZE": "MDM_PERFORMANCE_BATCH_SIZE",
                                   "MDM_LOG_LEVEL": "MDM_LOGGING_LEVEL"}
    assert any(n.startswith("env MDM_BACKEND -> MDM_DATABASE_DEFAULT_BACKEND") for n in plan.notes)
    assert any("MDM_BATCH_SIZE is set: use MDM_PERFORMANCE_BATCH_SIZE" in n for n in plan.notes)
    monkeypatch.setenv("MDM_BATCH_SIZE", "124")
    assert _step_plan(Migration(home_1x)).fingerprint != plan.fingerprint

    assert Migration(home_1x).run("config").exit_code == 0

    written = _mdm_yaml(home_1x)
    assert written["database"]["default_backend"] == "sqlite"
    assert written["performance"]["batch_size"] == 5000
    assert written["logging"]["level"] == "WARNING"


def test_a_new_mdm_yaml_has_nothing_to_migrate(home):
    (home / "mdm.yaml").write_text("performance:\n  batch_size: 4000\n")
    plan = _step_plan(Migration(home))
    assert plan.units == ()
    assert "new format already" in plan.summary


def test_broken_yaml_is_one_sentence_naming_the_file(flat_home):
    (flat_home / "config.yaml").write_text("backend: [duckdb\n")
    with pytest.raises(ConfigError) as caught:
        LegacyConfigStep().plan(_context(flat_home))
    message = str(caught.value)
    assert str(flat_home / "config.yaml") in message and "invalid YAML" in message and "\n" not in message
    with pytest.raises(ConfigError, match="config.yaml"):
        Migration(flat_home).plan("config")


def test_plan_writes_nothing(home_1x):
    shutil.copy(FLAT, home_1x / "config.yaml")
    before = snapshot(home_1x, files_only=True)
    Migration(home_1x).plan("config")
    assert _cli(home_1x, "mdm-migrate", "plan", "--phase", "config", "--format", "json").returncode == 0
    assert snapshot(home_1x, files_only=True) == before
    assert not (home_1x / ".migration").exists()


def test_rollback_restores_mdm_yaml_byte_for_byte(home_1x):
    before = hashlib.sha256((home_1x / "mdm.yaml").read_bytes()).hexdigest()
    (home_1x / TEMP_FILE).write_text("left by a killed apply")
    Migration(home_1x).run("config")
    assert hashlib.sha256((home_1x / "mdm.yaml").read_bytes()).hexdigest() != before

    assert Migration(home_1x).rollback("config") == ["config"]

    assert hashlib.sha256((home_1x / "mdm.yaml").read_bytes()).hexdigest() == before
    assert not (home_1x / TEMP_FILE).exists()
    assert load_settings(home_1x, fresh=True).settings.flags.use_new_config is False


def test_rollback_removes_the_mdm_yaml_it_created(flat_home):
    before = snapshot(flat_home, files_only=True)
    Migration(flat_home).run("config")
    assert (flat_home / "mdm.yaml").is_file()

    Migration(flat_home).rollback("config")

    assert not (flat_home / "mdm.yaml").exists()
    assert {k: v for k, v in snapshot(flat_home, files_only=True).items() if not k.startswith(".migration")} == before


def test_validate_reports_a_changed_setting_and_cleanup_removes_config_yaml(flat_home):
    Migration(flat_home).run("config")
    assert [o.problems for o in Migration(flat_home).validate()] == [()]
    text = (flat_home / "mdm.yaml").read_text().replace("batch_size: 2000", "batch_size: 10")
    (flat_home / "mdm.yaml").write_text(text + "database_extra: 1\n")

    (outcome,) = Migration(flat_home).validate()
    assert any("'performance.batch_size' is 10, the 1.x setting was 2000" in p for p in outcome.problems)
    assert any("unknown key 'database_extra'" in p for p in outcome.problems)

    ctx, step, unit = _context(flat_home), LegacyConfigStep(), Unit("mdm.yaml")
    assert step.cleanup(ctx, unit, UnitResult()) == [str(flat_home / "config.yaml")]
    assert not (flat_home / "config.yaml").exists()
    assert step.cleanup(ctx, unit, UnitResult()) == []


class _KilledBeforeVerify(LegacyConfigStep):
    """The real step, its process killed between writing mdm.yaml and verifying it."""

    def verify(self, ctx, unit, result, *, deep=True):
        raise KeyboardInterrupt


def test_a_run_killed_after_writing_resumes(home_1x):
    shutil.copy(FLAT, home_1x / "config.yaml")
    before = snapshot(home_1x, files_only=True)
    with pytest.raises(KeyboardInterrupt):
        Migration(home_1x, steps=[("legacy", _KilledBeforeVerify())]).run("config")
    assert Migration(home_1x).journal().unit("legacy-config", "mdm.yaml").state == "running"

    report = Migration(home_1x).run("config")  # same sources: not refused, redone

    assert report.exit_code == 0 and [o.record.state for o in report.outcomes] == ["done"]
    assert load_settings(home_1x, fresh=True).settings.database.duckdb.memory_limit == "2GB"
    Migration(home_1x).rollback("config")
    assert {k: v for k, v in snapshot(home_1x, files_only=True).items() if not k.startswith(".migration")} == before


def test_cli_plan_and_run(flat_home):
    env = {"MDM_BACKEND": "sqlite", "MDM_LOG_LEVEL": "INFO"}
    (flat_home / "config.yaml").write_text(FLAT.read_text() + "colour: blue\n")
    planned = _cli(flat_home, "mdm-migrate", "plan", "--phase", "config", "--format", "json", env=env)
    assert planned.returncode == 0, planned.stderr
    (step,) = json.loads(planned.stdout)["phases"][0]["steps"]
    assert step["step"] == "legacy-config" and [u["id"] for u in step["units"]] == ["mdm.yaml"]
    assert step["details"]["unknown"] == ["colour"]
    assert "kept out of mdm.yaml: unknown key 'colour' (from config.yaml)" in step["notes"]
    assert step["details"]["env"] == {"MDM_BACKEND": "MDM_DATABASE_DEFAULT_BACKEND",
                                      "MDM_LOG_LEVEL": "MDM_LOGGING_LEVEL"}
    assert step["details"]["mapped"]["postgres_port"] == "database.postgresql.port"

    ran = _cli(flat_home, "mdm-migrate", "run", "--phase", "config", "--yes", "--format", "json", env=env)

    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout)
    assert result["phases_done"] == ["config"] and [u["state"] for u in result["units"]] == ["done"]
    settings = load_settings(flat_home, fresh=True).settings
    for dotted, value in FLAT_LANDS.items():
        assert _setting(settings, dotted) == value, dotted
    assert settings.flags.use_new_config is True
    assert "colour" not in _mdm_yaml(flat_home)
    validated = _cli(flat_home, "mdm", "config", "validate")
    assert validated.returncode == 0, validated.stderr
    assert "Configuration is valid" in validated.stdout
