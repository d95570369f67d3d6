"""Config: mdm.yaml + MDM_* env for every key, sources, clear errors."""

from __future__ import annotations

import json

import pytest

from mdm_core.config import load_settings
from mdm_core.config.model import leaves
from mdm_core.errors import ConfigError


def test_defaults_for_a_new_home(home):
    loaded = load_settings()
    settings = loaded.settings
    assert settings.home == home.resolve()
    assert settings.database.default_backend == "sqlite"
    assert settings.flags.use_new_storage is True
    assert settings.datasets_dir == home.resolve() / "datasets"
    assert loaded.sources == {}


def test_yaml_values_and_unknown_keys(home):
    (home / "mdm.yaml").write_text(
        "database:\n  default_backend: duckdb\n  sqlite:\n    journal_mode: DELETE\n"
        "performance:\n  batch_size: 1234\nsomething_from_1x:\n  x: 1\n"
    )
    loaded = load_settings()
    assert loaded.settings.database.default_backend == "duckdb"
    assert loaded.settings.database.sqlite.journal_mode == "DELETE"
    assert loaded.settings.performance.batch_size == 1234
    assert loaded.sources["performance.batch_size"] == str(home / "mdm.yaml")


@pytest.mark.parametrize("dotted", sorted(leaves()))
def test_every_key_has_a_working_env_override(home, monkeypatch, dotted):
    leaf = leaves()[dotted]
    samples = {str: "abc", int: "42", bool: "false", float: "0.25"}
    raw = samples.get(leaf.type, "x,y")
    if "None" in str(leaf.type):
        raw = "abc" if "str" in str(leaf.type) else "42" if "int" in str(leaf.type) else raw
    monkeypatch.setenv(leaf.env_var, raw)
    loaded = load_settings()
    node = loaded.settings
    for part in dotted.split("."):
        node = getattr(node, part)
    expected = {"abc": "abc", "42": 42, "false": False, "0.25": 0.25, "x,y": ["x", "y"]}[raw]
    assert node == expected
    assert loaded.sources[dotted] == f"env {leaf.env_var}"


def test_multi_word_env_key_wins_over_yaml(home, monkeypatch):
    (home / "mdm.yaml").write_text("database:\n  sqlite:\n    journal_mode: DELETE\n")
    monkeypatch.setenv("MDM_DATABASE_SQLITE_JOURNAL_MODE", "TRUNCATE")
    assert load_settings().settings.database.sqlite.journal_mode == "TRUNCATE"


def test_invalid_yaml_names_file_and_line(home):
    (home / "mdm.yaml").write_text("database:\n  default_backend: [sqlite\n")
    with pytest.raises(ConfigError) as err:
        load_settings()
    message = str(err.value)
    assert str(home / "mdm.yaml") in message and "line" in message


def test_wrong_type_names_file_key_and_expected_type(home):
    (home / "mdm.yaml").write_text("performance:\n  batch_size: lots\n")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "performance.batch_size" in str(err.value)
    assert "integer" in str(err.value)
    assert "mdm.yaml" in str(err.value)


def test_wrong_env_type_names_the_variable(home, monkeypatch):
    monkeypatch.setenv("MDM_DATABASE_SQLITE_CACHE_SIZE", "big")
    with pytest.raises(ConfigError, match="MDM_DATABASE_SQLITE_CACHE_SIZE"):
        load_settings()


def test_yaml_bool_is_not_an_int(home):
    (home / "mdm.yaml").write_text("performance:\n  batch_size: true\n")
    with pytest.raises(ConfigError, match="batch_size"):
        load_settings()


def test_absolute_paths_win_over_home(home, tmp_path):
    (home / "mdm.yaml").write_text(f"paths:\n  datasets_path: {tmp_path / 'elsewhere'}\n")
    assert load_settings().settings.datasets_dir == tmp_path / "elsewhere"


def test_config_show_json_with_sources(cli, home, monkeypatch):
    monkeypatch.setenv("MDM_LOGGING_LEVEL", "DEBUG")
    result = cli("config", "show", "--sources", "--format", "json")
    data = json.loads(result.stdout)
    assert data["values"]["logging.level"] == "DEBUG"
    assert data["sources"]["logging.level"] == "env MDM_LOGGING_LEVEL"
    assert data["sources"]["database.default_backend"] == "default"


def test_config_show_masks_passwords(cli, monkeypatch):
    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_PASSWORD", "s3cret")
    result = cli("config", "show", "--format", "json")
    assert "s3cret" not in result.stdout


def test_config_validate_and_path(run_mdm, home):
    ok = run_mdm("config", "validate")
    assert ok.returncode == 0 and "valid" in ok.stdout
    assert run_mdm("config", "path").stdout.strip() == str(home.resolve() / "mdm.yaml")
    (home / "mdm.yaml").write_text("database:\n  connection_timeout: soon\n")
    bad = run_mdm("config", "validate")
    assert bad.returncode == 1
    assert "database.connection_timeout" in bad.stderr and "Traceback" not in bad.stderr
