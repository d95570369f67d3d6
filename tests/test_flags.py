"""Flags: defaults, env, `mdm flags`, and the host's explainable winner selection."""

from __future__ import annotations

import json

import pytest

from mdm_core.config import load_settings
from mdm_core.errors import ConfigError, PluginError
from mdm_core.flags import Flags, choose
from mdm_core.hookspecs import Implementation


def _impl(name: str, generation: str) -> Implementation:
    return Implementation(kind="storage", name=name, generation=generation, factory=lambda s: None)


def test_new_generation_wins_when_flag_on():
    offered = [("old", _impl("sqlite", "legacy")), ("new", _impl("sqlite", "new"))]
    choice = choose("storage", "sqlite", offered, Flags())
    assert choice.plugin == "new"
    assert "use_new_storage=on" in choice.reason


def test_legacy_generation_wins_when_flag_off():
    offered = [("new", _impl("sqlite", "new")), ("old", _impl("sqlite", "legacy"))]
    choice = choose("storage", "sqlite", offered, Flags(use_new_storage=False))
    assert choice.plugin == "old"
    assert "use_new_storage=off" in choice.reason


def test_only_installed_generation_wins_and_says_why():
    choice = choose("storage", "sqlite", [("new", _impl("sqlite", "new"))], Flags(use_new_storage=False))
    assert choice.plugin == "new"
    assert "only new is installed" in choice.reason


def test_missing_implementation_is_a_clear_error():
    with pytest.raises(PluginError, match="No storage plugin provides 'oracle'.*installed: sqlite"):
        choose("storage", "oracle", [("new", _impl("sqlite", "new"))], Flags())


@pytest.mark.parametrize("raw,expected", [("1", True), ("0", False), ("true", True), ("FALSE", False), ("off", False)])
def test_env_flags(home, monkeypatch, raw, expected):
    monkeypatch.setenv("MDM_FLAGS_USE_NEW_FEATURES", raw)
    assert load_settings().settings.flags.use_new_features is expected


def test_bad_flag_value_is_one_clear_error(home, monkeypatch):
    monkeypatch.setenv("MDM_FLAGS_USE_NEW_CONFIG", "maybe")
    with pytest.raises(ConfigError, match="use_new_config"):
        load_settings()


def test_flags_set_and_list(cli, home):
    result = cli("flags", "set", "use_new_features", "off")
    assert result.exit_code == 0
    assert "use_new_features: false" in (home / "mdm.yaml").read_text()
    listing = json.loads(cli("flags", "list", "--format", "json").stdout)
    assert listing["use_new_features"] == {"value": False, "source": str(home / "mdm.yaml")}
    assert listing["use_new_storage"]["value"] is True
    cli("flags", "set", "use_new_features", "on")
    assert load_settings().settings.flags.use_new_features is True


def test_flags_set_keeps_other_keys(cli, home):
    (home / "mdm.yaml").write_text("performance:\n  batch_size: 777\n")
    cli("flags", "set", "feature_compatibility_mode", "on")
    settings = load_settings().settings
    assert settings.performance.batch_size == 777
    assert settings.flags.feature_compatibility_mode is True
