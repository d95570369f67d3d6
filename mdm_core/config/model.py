"""Turning nested plain values into Settings, key by key, with clear errors.

Every leaf key of the settings model has a dotted name (``database.sqlite.journal_mode``)
and an environment variable (``MDM_DATABASE_SQLITE_JOURNAL_MODE``). Values are checked
against the declared type strictly: ``'abc'`` is not an int, ``'yes'`` from YAML is a bool
but ``5`` is not, and the error names the source, the key and the expected type.

The model is the host's sections plus every loaded plugin's (:func:`settings_model`); keys
under a plugin's section that its class does not declare are reported by name
(:func:`unknown_keys`), while unknown keys elsewhere are ignored (1.x homes have them).
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import cattrs

from mdm_core.config.fields import KEY_DOCS, SHOWN_DEFAULT, field_doc
from mdm_core.config.sections import (
    Composed,
    Section,
    compose,
    declared_sections,
    field_default,
    resolved_fields,
)
from mdm_core.config.settings import Settings
from mdm_core.errors import ConfigError
from mdm_core.flags import parse_flag_value
from mdm_core.secrets import (
    MASK,
    dsn_password,
    is_secret_key,
    mask_setting,
    masked_repr,
    remember,
    secret_repr,
)

converter = cattrs.Converter(forbid_extra_keys=False)


@attrs.frozen
class Leaf:
    """One settable key of the model. ``secret`` is ``"whole"`` for a password,
    ``"embedded"`` for a value that may hold one (a DSN), else None. ``section`` is the
    plugin section the key belongs to (None for the host's own keys)."""

    path: tuple[str, ...]
    type: Any
    default: Any
    secret: str | None = None
    section: Section | None = None
    doc: str = ""
    shown_default: str | None = None

    @property
    def dotted(self) -> str:
        return ".".join(self.path)

    @property
    def env_var(self) -> str:
        return "MDM_" + "_".join(p.upper() for p in self.path)

    def shown(self, value: Any) -> Any:
        """``value`` as it may be displayed (secrets masked)."""
        if self.secret == "whole" and value not in (None, ""):
            return MASK
        return mask_setting(self.dotted, value)


def iter_leaves(cls: type = Settings, prefix: tuple[str, ...] = (),
                sections: dict[tuple[str, ...], Section] | None = None,
                section: Section | None = None, key_docs: dict[str, str] | None = None) -> Iterator[Leaf]:
    """Every leaf key of the settings model ``cls``, depth first, in declaration order.
    ``key_docs`` documents the keys of ``cls`` when its fields do not (see
    :data:`mdm_core.config.fields.KEY_DOCS`)."""
    sections = sections or {}
    for field in resolved_fields(cls):
        if not prefix and field.name == "home":
            continue
        path = (*prefix, field.name)
        owner = sections.get(path, section)
        if attrs.has(field.type):
            yield from iter_leaves(field.type, path, sections, owner, field.metadata.get(KEY_DOCS))
        else:
            doc = field_doc(field) or (key_docs or {}).get(field.name, "")
            yield Leaf(path, field.type, field_default(field), _secret_kind(field), owner, doc,
                       field.metadata.get(SHOWN_DEFAULT))


def _secret_kind(field: attrs.Attribute) -> str | None:
    if field.repr is secret_repr or is_secret_key(field.name):
        return "whole"
    if field.repr is masked_repr:
        return "embedded"
    return None


@attrs.frozen
class SettingsModel:
    """The settings classes of this process and their keys."""

    composed: Composed
    sections: tuple[Section, ...]
    leaves: dict[str, Leaf]

    @property
    def settings_class(self) -> type:
        return self.composed.settings


@functools.lru_cache(maxsize=8)
def model_for(sections: tuple[Section, ...]) -> SettingsModel:
    """The model of the host plus ``sections`` (checked already)."""
    composed = compose(sections)
    by_path = {s.path: s for s in sections}
    leaves = {leaf.dotted: leaf for leaf in iter_leaves(composed.settings, (), by_path)}
    return SettingsModel(composed, sections, leaves)


def settings_model() -> SettingsModel:
    """The model of this process: the host's sections plus those of every loaded plugin
    (a plugin whose section is broken is marked failed and left out)."""
    from mdm_core.plugins import get_plugin_manager

    return model_for(tuple(declared_sections(get_plugin_manager())))


def leaves() -> dict[str, Leaf]:
    """Every settable key (dotted name -> :class:`Leaf`) of :func:`settings_model`."""
    return settings_model().leaves


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


def build_settings(home: Path, values: dict, sources: dict[str, str], model: SettingsModel | None = None) -> Settings:
    """Validate ``values`` (nested plain data) leaf by leaf and build Settings.

    ``sources`` maps dotted keys to where their value came from (``env MDM_X``, a file
    path); it is used in error messages. Unknown keys are ignored here (1.x homes have
    them; :func:`unknown_keys` reports those under a plugin's section).
    """
    model = model or settings_model()
    for dotted, leaf in model.leaves.items():
        present, raw = get_dotted(values, dotted)
        if leaf.secret and present and isinstance(raw, str):  # masked even if another key is invalid
            remember(raw if leaf.secret == "whole" else dsn_password(raw))
    clean: dict = {}
    for dotted, leaf in model.leaves.items():
        present, raw = get_dotted(values, dotted)
        if not present:
            continue
        source = source_of(dotted, sources)
        try:
            value = coerce(raw, leaf.type, from_text=source.startswith("env "))
        except (ValueError, TypeError):
            shown = _short(repr(leaf.shown(raw)))
            raise ConfigError(f"{source}{_line_of(source, dotted)}: key '{dotted}' must be "
                              f"{_type_name(leaf.type)}, got {shown}.") from None
        set_dotted(clean, dotted, value)
    clean["home"] = str(home)
    settings = converter.structure(clean, model.settings_class)
    return settings


def unknown_keys(values: dict, model: SettingsModel | None = None) -> list[tuple[str, Section]]:
    """Keys under a plugin's section that its settings class does not declare (dotted
    name, section), in file order; a whole unknown sub-mapping counts as one key."""
    model = model or settings_model()
    found: list[tuple[str, Section]] = []

    def walk(node: Any, path: tuple[str, ...], section: Section) -> None:
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            dotted = ".".join((*path, str(key)))
            if dotted in model.leaves:
                continue
            if any(d.startswith(dotted + ".") for d in model.leaves):
                walk(value, (*path, str(key)), section)
            else:
                found.append((dotted, section))

    for section in model.sections:
        present, node = get_dotted(values, section.dotted)
        if present:
            walk(node, section.path, section)
    return found


def check_choices(settings: Settings, sources: dict[str, str]) -> None:
    """ConfigError naming the source and key of the first value outside :data:`CHOICES`."""
    values = converter.unstructure(settings)
    for dotted, allowed in CHOICES.items():
        _, value = get_dotted(values, dotted)
        if value is not None and str(value).strip().lower() not in allowed:
            raise ConfigError(
                f"{source_of(dotted, sources)}: key '{dotted}' must be one of {', '.join(allowed)}, "
                f"got {_short(repr(value))}."
            )


def source_of(dotted: str, sources: dict[str, str]) -> str:
    """Where ``dotted`` was set (for a mapping given where a value belongs: where its
    first sub-key was set)."""
    if dotted in sources:
        return sources[dotted]
    return next((s for k, s in sources.items() if k.startswith(dotted + ".")), "config")


def _line_of(source: str, dotted: str) -> str:
    """`` line N`` where ``dotted`` is set in the YAML file ``source`` ('' when ``source``
    is no such file, e.g. an environment variable)."""
    import yaml

    try:
        node = yaml.compose(Path(source).read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return ""
    for part in dotted.split("."):
        if not isinstance(node, yaml.MappingNode):
            return ""
        node = next((value for key, value in node.value if key.value == part), None)
        if node is None:
            return ""
    return f" line {node.start_mark.line + 1}"


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


converter.register_structure_hook(Path, lambda v, _: Path(v))
