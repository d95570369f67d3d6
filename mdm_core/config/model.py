"""Turning nested plain values into :class:`Settings`, key by key, with clear errors.

Every leaf key of the settings model has a dotted name (``database.sqlite.journal_mode``)
and an environment variable (``MDM_DATABASE_SQLITE_JOURNAL_MODE``). Values are checked
against the declared type strictly: ``'abc'`` is not an int, ``'yes'`` from YAML is a bool
but ``5`` is not, and the error names the source, the key and the expected type.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import cattrs

from mdm_core.config.settings import Settings
from mdm_core.errors import ConfigError
from mdm_core.flags import parse_flag_value
from mdm_core.secrets import dsn_password, mask_setting, remember, remember_settings

converter = cattrs.Converter(forbid_extra_keys=False)


@attrs.frozen
class Leaf:
    """One settable key of the model."""

    path: tuple[str, ...]
    type: Any
    default: Any

    @property
    def dotted(self) -> str:
        return ".".join(self.path)

    @property
    def env_var(self) -> str:
        return "MDM_" + "_".join(p.upper() for p in self.path)


def _resolved_fields(cls: type) -> list[tuple[str, Any, Any]]:
    hints = typing.get_type_hints(cls)
    out = []
    for field in attrs.fields(cls):
        default = field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = default.factory()
        out.append((field.name, hints[field.name], default))
    return out


def iter_leaves(cls: type = Settings, prefix: tuple[str, ...] = ()) -> Iterator[Leaf]:
    """Every leaf key of the settings model, depth first, in declaration order."""
    for name, typ, default in _resolved_fields(cls):
        if cls is Settings and name == "home":
            continue
        if attrs.has(typ):
            yield from iter_leaves(typ, (*prefix, name))
        else:
            yield Leaf((*prefix, name), typ, default)


LEAVES: dict[str, Leaf] = {leaf.dotted: leaf for leaf in iter_leaves()}

#: Keys that take one of a few words (compared case-insensitively). Loading accepts any
#: word (an unknown one falls back to the default); ``mdm config validate`` rejects it.
CHOICES: dict[str, tuple[str, ...]] = {
    "logging.level": ("debug", "info", "warning", "warn", "error", "critical"),
    "logging.format": ("console", "json"),
}


def _type_name(typ: Any) -> str:
    names = {str: "a string", int: "an integer", bool: "a boolean (true/false)", float: "a number"}
    if typing.get_origin(typ) in (typing.Union, types.UnionType):
        inner = [t for t in typing.get_args(typ) if t is not type(None)]
        return _type_name(inner[0]) + " or null"
    if typing.get_origin(typ) is list:
        return "a list of strings"
    return names.get(typ, getattr(typ, "__name__", str(typ)))


def coerce(value: Any, typ: Any, *, from_text: bool) -> Any:
    """Return ``value`` as ``typ`` or raise ValueError. ``from_text`` is set for values that
    arrive as strings (environment), which are parsed the way YAML would parse them."""
    if typing.get_origin(typ) in (typing.Union, types.UnionType):
        if value is None or (from_text and str(value).strip().lower() in {"", "null", "none"}):
            return None
        inner = [t for t in typing.get_args(typ) if t is not type(None)]
        return coerce(value, inner[0], from_text=from_text)
    if typ is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str | int):
            return parse_flag_value(str(value))
        raise ValueError(value)
    if typ is int:
        if isinstance(value, bool):
            raise ValueError(value)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and from_text:
            return int(value.strip())
        raise ValueError(value)
    if typ is float:
        if isinstance(value, bool):
            raise ValueError(value)
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str) and from_text:
            return float(value.strip())
        raise ValueError(value)
    if typ is str:
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value)
        raise ValueError(value)
    if typing.get_origin(typ) is list:
        if from_text and isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            return [str(v) for v in value]
        raise ValueError(value)
    raise ValueError(value)


def get_dotted(values: dict, dotted: str) -> tuple[bool, Any]:
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def set_dotted(values: dict, dotted: str, value: Any) -> None:
    node = values
    parts = dotted.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def build_settings(home: Path, values: dict, sources: dict[str, str]) -> Settings:
    """Validate ``values`` (nested plain data) leaf by leaf and build Settings.

    ``sources`` maps dotted keys to where their value came from (``env MDM_X``, a file
    path); it is used in error messages. Unknown keys are ignored (1.x homes have them).
    """
    for dotted in ("database.postgresql.password", "database.postgresql.dsn"):
        present, raw = get_dotted(values, dotted)
        if present and isinstance(raw, str):  # mask them even if another key is invalid
            remember(raw if dotted.endswith("password") else dsn_password(raw))
    clean: dict = {}
    for dotted, leaf in LEAVES.items():
        present, raw = get_dotted(values, dotted)
        if not present:
            continue
        source = _source_of(dotted, sources)
        try:
            value = coerce(raw, leaf.type, from_text=source.startswith("env "))
        except (ValueError, TypeError):
            shown = _short(repr(mask_setting(dotted, raw)))
            raise ConfigError(f"{source}: key '{dotted}' must be {_type_name(leaf.type)}, got {shown}.") from None
        set_dotted(clean, dotted, value)
    clean["home"] = str(home)
    settings = converter.structure(clean, Settings)
    remember_settings(settings)
    return settings


def check_choices(settings: Settings, sources: dict[str, str]) -> None:
    """ConfigError naming the source and key of the first value outside :data:`CHOICES`."""
    values = converter.unstructure(settings)
    for dotted, allowed in CHOICES.items():
        _, value = get_dotted(values, dotted)
        if value is not None and str(value).strip().lower() not in allowed:
            raise ConfigError(
                f"{_source_of(dotted, sources)}: key '{dotted}' must be one of {', '.join(allowed)}, "
                f"got {_short(repr(value))}."
            )


def _source_of(dotted: str, sources: dict[str, str]) -> str:
    """Where ``dotted`` was set (for a mapping given where a value belongs: where its
    first sub-key was set)."""
    if dotted in sources:
        return sources[dotted]
    return next((s for k, s in sources.items() if k.startswith(dotted + ".")), "config")


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


converter.register_structure_hook(Path, lambda v, _: Path(v))
