"""What the config phase makes of an MDM 1.x home's settings; reads only, writes nothing.

:func:`new_config_of` reads the settings files of a 1.x home as MDM 1.x did
(:func:`~mdm_plugin_legacy.config_1x.load_settings_1x`: the flat ``config.yaml``, then
the nested ``mdm.yaml`` winning key by key) and computes the new ``mdm.yaml``:

- every key the files set that the new settings model has, under its new dotted name,
  converted to the model's type as 1.x did (``batch_size: "5000"`` -> 5000); ``flags``
  are keys of the model, so the old file's ``flags:`` section is carried over;
- ``paths.configs_path`` when set: the legacy plugin reads the 1.x dataset YAMLs there
  until the dataset phase;
- never a password: ``database.postgresql.password`` and a DSN holding one are left out.

Nothing is dropped silently: a 1.x key this MDM has no setting for, a key neither
knows and a password left out each get a note. The flat environment variables
(``MDM_BACKEND``, ``MDM_BATCH_SIZE``, ``MDM_LOG_LEVEL``) are reported with their new
names (:func:`legacy_env`), never written. A file that is not YAML or not a mapping, or
a value the new model cannot take, raises ConfigError in one sentence naming the file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from mdm_core.config.loader import read_yaml_mapping
from mdm_core.config.model import build_settings, converter, get_dotted, leaves, set_dotted
from mdm_core.secrets import dsn_password
from mdm_plugin_legacy.config_1x import FLAT_FILE, NESTED_FILE, load_settings_1x
from mdm_plugin_legacy.config_loader import OTHER_1X_KEYS, READ_BY_THIS_PLUGIN, is_1x_key, lenient
from mdm_plugin_legacy.keys_1x import FLAT_ENV, KNOWN_KEYS, env_var, flat_key_target

#: How to give a PostgreSQL password without writing it into ``mdm.yaml``.
PASSWORD_HOWTO = ("supply it with MDM_DATABASE_POSTGRESQL_PASSWORD, a DSN in MDM_DATABASE_POSTGRESQL_DSN, "
                  "or a libpq service file or ~/.pgpass")


@attrs.frozen
class NewConfig:
    """The new ``mdm.yaml`` of a home. ``document`` is the file's content (nested);
    ``expected`` the value of every setting of the model it holds (dotted -> value, as
    the new model reads it); ``notes`` one line each for the user; ``details`` the same
    as JSON-able data (``mapped`` old -> new, ``unknown``, ``no_new_home``, ``kept``,
    ``env`` old -> new, ``password_dropped``)."""

    document: dict[str, Any]
    expected: dict[str, Any]
    notes: tuple[str, ...]
    details: dict[str, Any]


def legacy_env(environ: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The flat legacy variables set in ``environ`` (name -> new name), and a note each."""
    found = {name: env_var(dotted) for name, dotted in FLAT_ENV.items() if name in environ}
    notes = [f"env {name} -> {new}: {name} is set: use {new} (this MDM ignores {name}; it is not written "
             "to mdm.yaml)" for name, new in found.items()]
    return found, notes


def config_fingerprint(document: Mapping[str, Any], environ: Mapping[str, str]) -> str:
    """sha256 of what the 1.x sources say: the new ``mdm.yaml``'s content (canonical JSON)
    and the values of the flat legacy variables. A comment, the key order or a key kept
    out changing in a file does not change it; and a run killed just after writing the
    new ``mdm.yaml`` plans the same content from it again (the nested file wins over the
    flat one), so resuming that run is not refused as "sources changed"."""
    legacy = {name: environ.get(name) for name in sorted(FLAT_ENV)}
    material = json.dumps({"document": document, "env": legacy}, sort_keys=True, default=str)
    return hashlib.sha256(material.encode()).hexdigest()


def new_config_of(home: Path) -> NewConfig:
    """The new ``mdm.yaml`` of the 1.x home ``home`` (see the module doc); reads only."""
    model = leaves()
    known = set(model) | set(KNOWN_KEYS) | OTHER_1X_KEYS
    legacy = load_settings_1x(home, environ={}, known_keys=known)
    flat_names = _flat_names(home / FLAT_FILE, known)
    document: dict[str, Any] = {}
    expected: dict[str, Any] = {}
    written_from: dict[str, str] = {}
    details: dict[str, Any] = {"mapped": {}, "unknown": [], "no_new_home": [], "kept": [], "password_dropped": False}
    notes: list[str] = []
    for dotted, source in legacy.sources.items():
        _, value = get_dotted(legacy.values, dotted)
        file = Path(source).name
        leaf = model.get(dotted)
        if leaf is None:
            if value in (None, {}) and any(key.startswith(dotted + ".") for key in model):
                continue  # an empty section (``logging:`` with nothing under it)
            if dotted in READ_BY_THIS_PLUGIN:
                set_dotted(document, dotted, value)
                details["kept"].append(dotted)
                notes.append(f"{file}: {dotted} kept in mdm.yaml = {value!r} (the legacy plugin reads the 1.x "
                             "dataset YAMLs there until the dataset phase)")
            elif is_1x_key(dotted):
                details["no_new_home"].append(dotted)
                notes.append(f"kept out of mdm.yaml: MDM 1.x key '{dotted}' has no setting in this MDM "
                             f"(from {file})")
            else:
                details["unknown"].append(dotted)
                notes.append(f"kept out of mdm.yaml: unknown key '{dotted}' (from {file})")
            continue
        old = flat_names.get(dotted, dotted) if file == FLAT_FILE else dotted
        if holds_password(leaf.secret, value):
            details["password_dropped"] = True
            notes.append(f"kept out of mdm.yaml: {old} from {file} holds a plaintext password, which the new "
                         f"mdm.yaml never holds; {PASSWORD_HOWTO}")
            continue
        if leaf.secret == "whole":
            continue  # an empty password: nothing to keep
        value = lenient(value, leaf.type)
        set_dotted(document, dotted, value)
        written_from[dotted] = source
        details["mapped"][old] = dotted
        notes.append(f"{file}: {old} -> {dotted} = {leaf.shown(value)!r}")
        if not dotted.startswith("flags."):  # the orchestrator changes flags after this phase
            expected[dotted] = value
    for dotted, flat in flat_names.items():
        if dotted in written_from and Path(written_from[dotted]).name != FLAT_FILE:
            details["mapped"][flat] = dotted
            notes.append(f"{FLAT_FILE}: {flat} -> {dotted}: {NESTED_FILE}'s value wins, as in MDM 1.x")
    built = converter.unstructure(build_settings(home, document, written_from))  # rejected value: ConfigError
    return NewConfig(document, {k: get_dotted(built, k)[1] for k in expected}, tuple(notes), details)


def _flat_names(path: Path, known: set[str]) -> dict[str, str]:
    """New dotted name -> the flat ``config.yaml`` key that sets it (a section written
    nested in the flat file keeps its dotted names and is not listed)."""
    if not path.is_file():
        return {}
    names = {}
    for key, value in read_yaml_mapping(path).items():
        target = flat_key_target(str(key), known)
        if target is not None and not isinstance(value, dict):
            names[target] = str(key)
    return names


def holds_password(secret: str | None, value: Any) -> bool:
    """True when a setting of secrecy ``secret`` (a model leaf's) with ``value`` holds a
    password: a non-empty password, or a DSN with one in it."""
    if secret == "whole":
        return value not in (None, "")
    return secret == "embedded" and isinstance(value, str) and bool(dsn_password(value))


