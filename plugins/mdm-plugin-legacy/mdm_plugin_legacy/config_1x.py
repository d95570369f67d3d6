"""Reading the settings of an MDM 1.x home, without writing anything.

:func:`load_settings_1x` reads, lowest precedence first:

1. ``<home>/config.yaml``, the oldest *flat* form (``backend``, ``batch_size``,
   ``log_level``, ``datasets_path``, ``sqlite_journal_mode``, ``postgres_host`` ...), each
   key moved to its nested name (:mod:`mdm_plugin_legacy.keys_1x`);
2. ``<home>/mdm.yaml``, the nested 1.x form (``database.default_backend`` ...), which wins
   over the flat file key by key;
3. the flat environment variables ``MDM_BACKEND``, ``MDM_BATCH_SIZE``, ``MDM_LOG_LEVEL``;
4. ``MDM_<SECTION>_<KEY>`` for every known key, multi-word keys included
   (``MDM_DATABASE_SQLITE_JOURNAL_MODE``, which 1.x itself ignored), and for every key
   either file holds; the nested variable wins over the flat one.

Values are kept as plain data: YAML values as parsed, environment values as the raw
strings (the settings model converts them). Every leaf's source is recorded: the file's
path or ``env NAME``. Unknown keys never raise: they stay in ``values`` where they were
found (a flat unknown key at the top level under its own name) and are listed in
``unknown`` (dotted names; ``env NAME`` for an ``MDM_<1.x section>_...`` variable that
names no key). A file that is not YAML, or not a mapping, raises
:class:`mdm_core.errors.ConfigError` with one sentence naming the file.

Passwords (``database.postgresql.password``, the one inside a DSN) are registered with
:func:`mdm_core.secrets.remember` and masked in the repr.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from mdm_core.config.loader import read_yaml_mapping
from mdm_core.errors import ConfigError
from mdm_core.secrets import dsn_password, is_secret_key, masked_repr, remember
from mdm_plugin_legacy.keys_1x import FLAT_ENV, KNOWN_KEYS, env_var, flat_key_target

NESTED_FILE = "mdm.yaml"
FLAT_FILE = "config.yaml"

#: First words of the ``MDM_*`` variables that address 1.x settings sections.
_SECTION_WORDS = ("PATHS", "DATABASE", "PERFORMANCE", "LOGGING", "FEATURE_ENGINEERING",
                  "EXPORT", "VALIDATION", "CLI", "DEVELOPMENT")


@attrs.frozen
class LegacySettings:
    """The 1.x settings of one home as plain data.

    ``values`` is nested (``values["database"]["default_backend"]``) and holds only what
    the files and environment set (no defaults: :meth:`get` supplies them); ``sources``
    maps each dotted leaf key to a file path or ``env NAME``; ``unknown`` lists keys MDM
    does not know (kept in ``values``); ``files`` the config files read.
    """

    home: Path
    values: dict[str, Any] = attrs.field(factory=dict, repr=masked_repr)
    sources: dict[str, str] = attrs.field(factory=dict)
    unknown: list[str] = attrs.field(factory=list)
    files: tuple[str, ...] = ()

    def get(self, dotted: str, default: Any = None) -> Any:
        """The value of ``dotted`` as set, else ``default``, else the 1.x default."""
        node: Any = self.values
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default if default is not None else KNOWN_KEYS.get(dotted)
            node = node[part]
        return node

    def path(self, key: str) -> Path:
        """A ``paths.*`` setting (``"datasets_path"``) joined onto the home; an absolute
        value wins, ``~`` is expanded."""
        value = Path(str(self.get(f"paths.{key}") or KNOWN_KEYS[f"paths.{key}"])).expanduser()
        return value if value.is_absolute() else self.home / value

    @property
    def datasets_dir(self) -> Path:
        return self.path("datasets_path")

    @property
    def configs_dir(self) -> Path:
        """Where the 1.x dataset YAMLs live (``paths.configs_path``)."""
        return self.path("configs_path")

    @property
    def custom_features_dir(self) -> Path:
        return self.path("custom_features_path")

    @property
    def logs_dir(self) -> Path:
        return self.path("logs_path")


def load_settings_1x(
    home: Path | str,
    environ: Mapping[str, str] | None = None,
    known_keys: Iterable[str] | None = None,
) -> LegacySettings:
    """Read the 1.x settings of ``home`` (see the module doc) without writing anything.

    ``environ`` defaults to ``os.environ``; ``known_keys`` (dotted names) defaults to the
    1.x keys of :data:`~mdm_plugin_legacy.keys_1x.KNOWN_KEYS`; the host may pass its own
    model's keys so that every ``MDM_<SECTION>_<KEY>`` it knows is honoured.
    """
    home = Path(home).expanduser()
    environ = os.environ if environ is None else environ
    known = frozenset(KNOWN_KEYS if known_keys is None else known_keys)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    unknown: list[str] = []
    files: list[str] = []

    flat_path = home / FLAT_FILE
    if flat_path.is_file():
        files.append(str(flat_path))
        for key, value in read_yaml_mapping(flat_path).items():
            key = str(key)
            if isinstance(value, dict):  # a nested section in the flat file
                _merge(values, sources, {key: value}, str(flat_path))
                continue
            target = flat_key_target(key, known)
            _set(values, sources, target or key, value, str(flat_path))

    nested_path = home / NESTED_FILE
    if nested_path.is_file():
        files.append(str(nested_path))
        _merge(values, sources, read_yaml_mapping(nested_path), str(nested_path))

    for name, dotted in FLAT_ENV.items():
        if name in environ:
            _set(values, sources, dotted, environ[name], f"env {name}")

    by_env = {env_var(dotted): dotted for dotted in sources}
    by_env.update({env_var(dotted): dotted for dotted in known})
    for name in sorted(environ):
        if not name.startswith("MDM_") or name in FLAT_ENV:
            continue
        dotted = by_env.get(name)
        if dotted is not None:
            _set(values, sources, dotted, environ[name], f"env {name}")
        elif name[4:].startswith(tuple(word + "_" for word in _SECTION_WORDS)):
            unknown.append(f"env {name}")

    unknown = [dotted for dotted in sources if dotted not in known] + unknown
    _remember_secrets(values)
    return LegacySettings(home, values, sources, unknown, tuple(files))


def is_legacy_home(home: Path | str, settings: LegacySettings | None = None) -> bool:
    """True when ``home`` holds MDM 1.x datasets: a ``*.yaml`` under the configured
    ``paths.configs_path`` (default ``config/datasets/``), or a dataset folder under
    ``paths.datasets_path`` with a ``dataset_info.json`` and no new-layout
    ``dataset.yaml``. Reads nothing but directory listings; never raises for a bad
    config file (the default paths are used then)."""
    home = Path(home).expanduser()
    if settings is None:
        try:
            settings = load_settings_1x(home)
        except ConfigError:
            settings = LegacySettings(home)
    configs = settings.configs_dir
    try:
        if configs.is_dir() and any(p.suffix == ".yaml" and p.is_file() for p in configs.iterdir()):
            return True
        datasets = settings.datasets_dir
        if datasets.is_dir():
            for folder in datasets.iterdir():
                if (folder / "dataset_info.json").is_file() and not (folder / "dataset.yaml").exists():
                    return True
    except OSError:
        return False
    return False


def _set(values: dict[str, Any], sources: dict[str, str], dotted: str, value: Any, source: str) -> None:
    parts = dotted.split(".")
    node = values
    for depth, part in enumerate(parts[:-1], start=1):
        child = node.get(part)
        if not isinstance(child, dict):
            if part in node:  # a scalar where a section belongs: the deeper key replaces it
                sources.pop(".".join(parts[:depth]), None)
            child = node[part] = {}
        node = child
    old = node.get(parts[-1])
    if isinstance(old, dict):  # a scalar replacing a whole section: forget its leaves
        for key in [k for k in sources if k.startswith(dotted + ".")]:
            del sources[key]
    node[parts[-1]] = value
    sources[dotted] = source


def _merge(values: dict[str, Any], sources: dict[str, str], data: Mapping[str, Any], source: str,
           prefix: str = "") -> None:
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            _merge(values, sources, value, source, dotted + ".")
        else:
            _set(values, sources, dotted, value, source)


def _remember_secrets(values: Mapping[str, Any], prefix: str = "") -> None:
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _remember_secrets(value, dotted + ".")
        elif isinstance(value, str):
            if is_secret_key(dotted):
                remember(value)
            elif dotted.endswith("dsn"):
                remember(dsn_password(value))
