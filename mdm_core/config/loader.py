"""The new config loader (built-in plugin): nested ``<home>/mdm.yaml`` plus ``MDM_*`` env.

Every key of the settings model, plugin sections included, can be overridden by
``MDM_<SECTION>_<KEY>``, multi-word keys included (``MDM_DATABASE_SQLITE_JOURNAL_MODE``).
Sources are reported per key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import attrs
import yaml

from mdm_core.config.model import leaves, set_dotted
from mdm_core.errors import ConfigError
from mdm_core.hookspecs import Implementation, hookimpl
from mdm_core.yamlio import load_yaml

CONFIG_FILE = "mdm.yaml"


@attrs.frozen
class LoadedConfig:
    """Nested plain values and, per dotted key, where the value came from."""

    values: dict[str, Any]
    sources: dict[str, str]
    files: tuple[str, ...] = ()


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping (an empty file is an empty mapping)."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}: invalid YAML{where}: {problem}.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections, got {type(data).__name__}.")
    return data


def _flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def load_home_config(home: Path) -> LoadedConfig:
    """Load ``<home>/mdm.yaml`` (if any), then apply ``MDM_*`` environment overrides."""
    path = home / CONFIG_FILE
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    files: tuple[str, ...] = ()
    if path.is_file():
        values = read_yaml_mapping(path)
        files = (str(path),)
        for dotted, value in _flatten(values).items():
            if isinstance(value, dict):
                continue
            sources[dotted] = str(path)
    for dotted, leaf in leaves().items():
        raw = os.environ.get(leaf.env_var)
        if raw is not None:
            set_dotted(values, dotted, raw)
            sources[dotted] = f"env {leaf.env_var}"
    return LoadedConfig(values, sources, files)


@hookimpl
def mdm_config_loaders() -> list[Implementation]:
    return [
        Implementation(
            kind="config",
            name="home",
            generation="new",
            factory=load_home_config,
            description="nested <home>/mdm.yaml with MDM_<SECTION>_<KEY> overrides",
        )
    ]
