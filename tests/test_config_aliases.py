"""The variables and Python entry points of the MDM 1.x troubleshooting guide work as it says:
aliases set their keys (shown as such by ``mdm config show --sources``, checked by
``mdm config validate``, the key's own variable winning with a warning), MDM_DEBUG_CONFIG
prints the settings, MDM_FEATURES_DEBUG logs feature discovery, the log file rotates, and
``discover_custom_features`` / ``register_feature`` do what the guide shows."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mdm_core.config.aliases import ALIASES, env_var


def _show(cli) -> dict:
    result = cli("config", "show", "--sources", "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(("alias", "raw", "key", "value"), [
    ("MDM_FEATURES_SKIP_ON_ERROR", "false", "feature_engineering.skip_on_error", False),
    ("MDM_FEATURES_SKIP_LIST", "feature1, feature2", "feature_engineering.skip_list", ["feature1", "feature2"]),
    ("MDM_FEATURES_GENERATE_ON_REGISTER", "false", "feature_engineering.enabled", False),
    ("MDM_FEATURES_ENABLE_AT_REGISTRATION", "0", "feature_engineering.enabled", False),
    ("MDM_FEATURES_CUSTOM_ENABLED", "false", "feature_engineering.custom", False),
    ("MDM_FEATURES_DEBUG", "true", "feature_engineering.debug", True),
    ("MDM_DATABASE_POOL_SIZE", "30", "database.postgresql.pool_size", 30),
    ("MDM_DATABASE_MAX_OVERFLOW", "20", "database.postgresql.max_overflow", 20),
    ("MDM_FORCE_NEW_CONFIG", "true", "flags.use_new_config", True),
    ("MDM_DEBUG_CONFIG", "true", "logging.debug_config", True),
])
def test_alias_sets_its_key_and_is_shown_as_alias(cli, monkeypatch, alias, raw, key, value):
    assert ALIASES[alias] == key
    monkeypatch.setenv(alias, raw)
    shown = _show(cli)
    assert shown["values"][key] == value
    assert shown["sources"][key] == f"env {alias} (alias of {env_var(key)})"


@pytest.mark.parametrize(("name", "key", "raw", "value"), [
    ("MDM_PERFORMANCE_MAX_WORKERS", "performance.max_workers", "2", 2),
    ("MDM_PERFORMANCE_BATCH_SIZE", "performance.batch_size", "5000", 5000),
    ("MDM_LOGGING_LEVEL", "logging.level", "DEBUG", "DEBUG"),
    ("MDM_LOGGING_FILE", "logging.file", "/tmp/mdm_debug.log", "/tmp/mdm_debug.log"),
])
def test_guide_variables_that_are_keys_themselves(cli, monkeypatch, name, key, raw, value):
    monkeypatch.setenv(name, raw)
    shown = _show(cli)
    assert shown["values"][key] == value and shown["sources"][key] == f"env {name}"


def test_alias_beats_the_file_and_the_key_variable_beats_the_alias_with_a_warning(cli, home, monkeypatch):
    (home / "mdm.yaml").write_text("database:\n  postgresql:\n    pool_size: 3\n", encoding="utf-8")
    monkeypatch.setenv("MDM_DATABASE_POOL_SIZE", "30")
    assert _show(cli)["values"]["database.postgresql.pool_size"] == 30

    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_POOL_SIZE", "20")
    shown = cli("config", "show", "--sources")
    assert _show(cli)["sources"]["database.postgresql.pool_size"] == "env MDM_DATABASE_POSTGRESQL_POOL_SIZE"
    warning = ("Warning: MDM_DATABASE_POOL_SIZE='30' (alias of MDM_DATABASE_POSTGRESQL_POOL_SIZE) ignored: "
               "MDM_DATABASE_POSTGRESQL_POOL_SIZE='20' is also set and wins")
    assert warning in " ".join(shown.stderr.split())
    valid = cli("config", "validate")
    assert valid.exit_code == 0 and warning in " ".join(valid.stderr.split())

    monkeypatch.setenv("MDM_DATABASE_POOL_SIZE", "20")  # same value: nothing to warn about
    assert "ignored" not in cli("config", "validate").stderr


def test_same_value_spelled_differently_is_no_conflict(cli, monkeypatch):
    monkeypatch.setenv("MDM_FEATURES_SKIP_ON_ERROR", "0")
    monkeypatch.setenv("MDM_FEATURE_ENGINEERING_SKIP_ON_ERROR", "false")
    result = cli("config", "validate")
    assert result.exit_code == 0 and "Warning" not in result.stderr


def test_invalid_alias_value_is_rejected_naming_the_alias(run_mdm):
    result = run_mdm("config", "validate", env={"MDM_DATABASE_POOL_SIZE": "lots"})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: env MDM_DATABASE_POOL_SIZE (alias of MDM_DATABASE_POSTGRESQL_POOL_SIZE): key "
        "'database.postgresql.pool_size' must be an integer, got 'lots'.")


def test_force_new_config_picks_the_new_loader_in_a_1x_home(run_mdm, home, legacy_fixture):
    legacy = run_mdm("config", "show", "--format", "json", env={"MDM_HOME_DIR": str(legacy_fixture / "home")})
    assert json.loads(legacy.stdout)["loader"] != "core:loader"
    forced = run_mdm("config", "show", "--sources", "--format", "json",
                     env={"MDM_HOME_DIR": str(legacy_fixture / "home"), "MDM_FORCE_NEW_CONFIG": "true"})
    data = json.loads(forced.stdout)
    assert data["loader"] == "core:loader"
    assert data["sources"]["flags.use_new_config"] == "env MDM_FORCE_NEW_CONFIG (alias of MDM_FLAGS_USE_NEW_CONFIG)"


def test_debug_config_prints_every_set_key_with_its_source_masked(run_mdm, home):
    secret = "s3cr3t-Pa55"
    (home / "mdm.yaml").write_text("performance:\n  batch_size: 777\n", encoding="utf-8")
    result = run_mdm("config", "path", env={
        "MDM_DEBUG_CONFIG": "true", "MDM_DATABASE_POSTGRESQL_PASSWORD": secret, "MDM_TYPO_SETTING": "1"})
    assert result.returncode == 0
    lines = result.stderr.splitlines()
    assert f"MDM config: performance.batch_size = 777 ({home / 'mdm.yaml'})" in lines
    assert ("MDM config: logging.debug_config = True (env MDM_DEBUG_CONFIG (alias of "
            "MDM_LOGGING_DEBUG_CONFIG))") in lines
    assert "MDM config: database.postgresql.password = '***' (env MDM_DATABASE_POSTGRESQL_PASSWORD)" in lines
    assert any(line.startswith("MDM config: MDM_* variables that set no key:") and "MDM_TYPO_SETTING" in line
               for line in lines)
    assert secret not in result.stderr + result.stdout
    assert "MDM config:" not in run_mdm("config", "path").stderr


def test_generate_on_register_false_registers_without_features(client, penguins, monkeypatch):
    from mdm_core.datasets.client import MDMClient

    monkeypatch.setenv("MDM_FEATURES_GENERATE_ON_REGISTER", "false")
    info = MDMClient().register_dataset("penguins", penguins, target="species")
    assert {t.kind for t in info.tables} == {"data"}


def test_register_feature_and_discover_custom_features(client, home, penguins, monkeypatch):
    from mdm_core.datasets.client import MDMClient
    from mdm_core.features import custom, discover_custom_features, register_feature

    monkeypatch.setattr(custom, "_REGISTERED", {})
    folder = home / "config" / "custom_features"
    folder.mkdir(parents=True)
    (folder / "penguins.py").write_text(
        "from mdm_core.features import custom_feature\n\n"
        "@custom_feature(input_columns=['bill_length_mm', 'bill_depth_mm'])\n"
        "def bill_ratio(df):\n    return df['bill_length_mm'] / df['bill_depth_mm']\n", encoding="utf-8")
    (folder / "broken.py").write_text("import not_a_module_anywhere\n", encoding="utf-8")

    def body_mass_kg(df):  # the MDM 1.x form: a plain function of the frame
        return df["body_mass_g"] / 1000

    register_feature(body_mass_kg)
    found = {f.name: f for f in discover_custom_features()}
    assert found["bill_ratio"].status == "ok" and found["bill_ratio"].module == str(folder / "penguins.py")
    assert found["body_mass_kg"].origin == "registered" and found["body_mass_kg"].status == "ok"
    assert found["broken"].status == "failed" and "not_a_module_anywhere" in found["broken"].error

    (folder / "broken.py").unlink()
    info = MDMClient().register_dataset("penguins", penguins, target="species")
    columns = {c.name for t in info.tables if t.name == "train_features" for c in t.columns}
    assert {"body_mass_kg", "bill_ratio"} <= columns
    with pytest.raises(TypeError, match="register_feature takes"):
        register_feature(42)


def test_features_debug_logs_discovery(home):
    folder = home / "config" / "custom_features"
    folder.mkdir(parents=True)
    (folder / "broken.py").write_text("raise RuntimeError('boom')\n", encoding="utf-8")
    script = "from mdm_core.features import discover_custom_features; discover_custom_features()"

    def run(env):
        return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                              env={**os.environ, **env})

    assert "custom features discovered" not in run({}).stderr
    debug = run({"MDM_FEATURES_DEBUG": "true"}).stderr
    assert "custom features discovered" in debug and "broken" in debug and "failed" in debug


def test_log_file_rotates_and_masks(home, monkeypatch):
    from mdm_core.config import load_settings
    from mdm_core.logging import configure_logging, get_logger

    secret = "rotating-s3cret"
    for name, value in {"MDM_LOGGING_FILE": "mdm.log", "MDM_LOGGING_MAX_BYTES": "1000",
                        "MDM_LOGGING_BACKUP_COUNT": "2", "MDM_DATABASE_POSTGRESQL_PASSWORD": secret}.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(fresh=True).settings
    try:
        assert configure_logging("quiet", settings=settings) == home / "logs" / "mdm.log"
        log = get_logger("test.rotation")
        for i in range(40):
            log.warning("record", number=i, dsn=f"postgresql://u:{secret}@h/db")
    finally:
        configure_logging("quiet")
    logs = home / "logs"
    assert sorted(p.name for p in logs.iterdir()) == ["mdm.log", "mdm.log.1", "mdm.log.2"]
    assert all(0 < p.stat().st_size <= 1000 for p in logs.iterdir())
    assert "number=39" in (logs / "mdm.log").read_text()
    assert not any(secret in p.read_text() for p in logs.iterdir())


def test_max_workers_sets_duckdb_threads_unless_they_are_set(client, penguins, monkeypatch):
    from mdm_core.backends import get_backend
    from mdm_core.config import load_settings
    from mdm_core.datasets.client import MDMClient

    monkeypatch.setenv("MDM_PERFORMANCE_MAX_WORKERS", "1")
    MDMClient().register_dataset("penguins", penguins, target="species", backend="duckdb", generate_features=False)
    threads = MDMClient().query("penguins", "SELECT current_setting('threads') AS t")["t"].iloc[0]
    assert int(threads) == 1
    monkeypatch.setenv("MDM_DATABASE_DUCKDB_THREADS", "2")
    assert get_backend("duckdb", load_settings(fresh=True).settings).settings.threads == 2
