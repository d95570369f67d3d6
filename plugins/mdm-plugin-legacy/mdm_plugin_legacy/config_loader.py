"""The legacy generation of the config loader, and the test for an unmigrated 1.x home.

**Loader** (:func:`load_legacy_config`, offered as ``config``/``home``/``legacy``, chosen
while ``use_new_config`` is off). It reads an MDM 1.x home's settings as they are, with
:func:`~mdm_plugin_legacy.config_1x.load_settings_1x`: the flat ``config.yaml`` (oldest),
the nested ``mdm.yaml`` on top of it key by key, the flat variables ``MDM_BACKEND``,
``MDM_BATCH_SIZE``, ``MDM_LOG_LEVEL``, then ``MDM_<SECTION>_<KEY>`` for every key of the
settings model of this process (plugin sections and ``flags`` included) and every key
1.x knew. The result is a :class:`~mdm_core.config.loader.LoadedConfig` in the shape of
the new model: each key it holds is a key of the model, with its source (the file's
path or ``env NAME``). So a ``flags:`` section of a 1.x ``mdm.yaml`` and ``MDM_FLAGS_*``
still work. Nothing is written.

What does not go through unchanged:

- Keys the model does not have are left out of the values and named in ``notes``
  instead (one line per file or variable): a key 1.x knew that this MDM no longer has
  (``performance.max_concurrent_operations``, ``export.*``,
  ``database.postgresql.database_prefix``, ...; ``mdm-migrate plan`` shows what becomes
  of it), or a key neither knows (1.x ignored those). Neither breaks loading, and a
  1.x-only key under a plugin's section (``database.postgresql``) is not reported as an
  unknown key of that plugin, so ``mdm config validate`` passes on a 1.x home.
  ``paths.configs_path`` is the exception: this plugin still reads it (where the 1.x
  dataset YAMLs are), so it is not noted.
- A value read from a 1.x file as text where the model wants a number or a boolean
  (``batch_size: "5000"``, ``enabled: "yes"``) is converted as 1.x (pydantic) did; a
  value that does not convert is left for the host to reject, naming the file and key.
- ``logging.file`` from a 1.x file that would put the log inside the home (1.x's
  ``mdm.log`` under ``logs/``) is not used, with a note: a 1.x home is not written to
  before it is migrated. ``MDM_LOGGING_FILE`` is used as given.

A config file that is not YAML or not a mapping raises ConfigError naming the file.

**Detection** (:func:`unmigrated_reasons`, the ``mdm_unmigrated_home`` hook): one line
per kind of 1.x data found, from directory listings only (no file is parsed except the
two config files, no database is opened, nothing is written): dataset YAMLs in
``paths.configs_path``, dataset folders under ``paths.datasets_path`` whose YAML is gone
(a ``dataset_info.json`` or a 1.x database file, no new-layout ``dataset.yaml``), and a
flat ``config.yaml``, which only MDM 1.x reads (the new loader ignores it, so its
settings would silently vanish). A config file that cannot be read does not stop
detection: the 1.x default paths are used (loading the settings then reports the file).
Nothing raises: an unreadable home gives no reason.
"""

from __future__ import annotations

import os
import typing
from pathlib import Path
from typing import Any

import attrs

from mdm_core.config.loader import LoadedConfig
from mdm_core.errors import ConfigError
from mdm_plugin_legacy.config_1x import FLAT_FILE, LegacySettings, load_settings_1x
from mdm_plugin_legacy.keys_1x import KNOWN_KEYS

#: 1.x keys the new model lacks that this plugin still reads (never noted as unused).
READ_BY_THIS_PLUGIN = frozenset({"paths.configs_path"})
#: Keys of other 1.x releases than the 1.0.6 of :data:`~mdm_plugin_legacy.keys_1x.KNOWN_KEYS`
#: (its pydantic-settings variant had these), and the 1.x sections this MDM has no
#: counterpart for: whatever is set under them is a 1.x key too.
OTHER_1X_KEYS = frozenset({"performance.max_workers", "performance.chunk_size", "paths.cache_path",
                           "database.postgresql.database"})
LEGACY_ONLY_SECTIONS = ("export.", "validation.", "cli.", "development.", "database.sqlalchemy.",
                        "feature_engineering.generic.", "feature_engineering.type_detection.")

# The names below are those of :mod:`mdm_plugin_legacy.catalog_1x`, which imports
# pyarrow; detection runs on every settings load, so it keeps its own (a test checks that
# they agree).
#: Files and folders of a 1.x home that are never datasets.
LEFTOVERS = frozenset({"feature_flags.yaml", "rollback_history.json", "migration_state.json",
                       "metrics.db", "cache", "logs"})
INFO_FILE = "dataset_info.json"
NEW_LAYOUT_FILE = "dataset.yaml"
#: Database file names of a 1.x dataset folder, after ``<name>.sqlite|duckdb``.
_FALLBACK_FILES = ("dataset.sqlite", "dataset.duckdb")


@attrs.frozen
class LegacyLoadedConfig(LoadedConfig):
    """A :class:`LoadedConfig` plus ``notes``: one sentence per file or variable whose
    keys were left out (see the module doc)."""

    notes: tuple[str, ...] = ()


def load_legacy_config(home: Path) -> LegacyLoadedConfig:
    """The settings of the 1.x home ``home`` in the new model's shape (see the module doc)."""
    from mdm_core.config.model import get_dotted, leaves, set_dotted

    model = leaves()
    legacy = load_settings_1x(home, known_keys=set(model) | set(KNOWN_KEYS) | OTHER_1X_KEYS)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    unused: dict[str, list[str]] = {}
    unknown: dict[str, list[str]] = {}
    notes: list[str] = []
    for dotted, source in legacy.sources.items():
        _, value = get_dotted(legacy.values, dotted)
        leaf = model.get(dotted)
        from_file = not source.startswith("env ")
        if leaf is None:
            if value in (None, {}) and any(key.startswith(dotted + ".") for key in model):
                continue  # an empty section (``logging:`` with nothing under it)
            if dotted in READ_BY_THIS_PLUGIN:
                continue
            (unused if is_1x_key(dotted) else unknown).setdefault(source, []).append(dotted)
            continue
        if from_file:
            value = lenient(value, leaf.type)
            if dotted == "logging.file" and _inside(home, _log_path(legacy, value)):
                notes.append(f"{source}: logging.file {value!r} would write into the MDM 1.x home, which is "
                             "not changed before it is migrated; not used (set MDM_LOGGING_FILE to log "
                             "meanwhile)")
                continue
        set_dotted(values, dotted, value)
        sources[dotted] = source
    for source, keys in unused.items():
        notes.append(f"{source}: MDM 1.x {_keys(keys)} not used by this MDM (`mdm-migrate plan` shows "
                     f"what becomes of {'them' if len(keys) > 1 else 'it'})")
    for source, keys in unknown.items():
        notes.append(f"{source}: unknown {_keys(keys)} ignored")
    for entry in legacy.unknown:
        if entry.startswith("env "):
            notes.append(f"{entry[4:]} names no setting; ignored")
    return LegacyLoadedConfig(values, sources, legacy.files, tuple(notes))


def is_1x_key(dotted: str) -> bool:
    """True when ``dotted`` is a key of some MDM 1.x release (this MDM may lack it)."""
    return dotted in KNOWN_KEYS or dotted in OTHER_1X_KEYS or dotted.startswith(LEGACY_ONLY_SECTIONS)


def _keys(keys: list[str]) -> str:
    names = ", ".join(repr(k) for k in keys)
    return f"keys {names} are" if len(keys) > 1 else f"key {names} is"


def lenient(value: Any, typ: Any) -> Any:
    """A YAML string converted to the number or boolean the model wants, as 1.x's
    pydantic did (``"5000"``, ``"yes"``); anything else unchanged."""
    from mdm_core.config.model import coerce

    inner = [t for t in typing.get_args(typ) if t is not type(None)] or [typ]
    if not isinstance(value, str) or inner[0] not in (int, float, bool):
        return value
    try:
        return coerce(value, typ, from_text=True)
    except (ValueError, TypeError):
        return value


def _log_path(legacy: LegacySettings, value: Any) -> Path | None:
    """Where the host would write ``logging.file`` = ``value`` (relative: under the logs
    folder), None when it names no file."""
    if not isinstance(value, str) or not value.strip():
        return None
    path = Path(value.strip()).expanduser()
    return path if path.is_absolute() else legacy.logs_dir / path


def _inside(home: Path, path: Path | None) -> bool:
    if path is None:
        return False
    return Path(os.path.abspath(path)).is_relative_to(os.path.abspath(Path(home).expanduser()))


def unmigrated_reasons(home: Path | str) -> list[str]:
    """One line per kind of MDM 1.x data in ``home`` (see the module doc); [] for a new
    home. Never raises."""
    home = Path(home).expanduser()
    try:
        try:
            settings = load_settings_1x(home)
        except ConfigError:
            settings = LegacySettings(home)
        return _reasons(home, settings)
    except Exception:  # an unreadable folder or a value of the wrong type: no verdict
        return []


def _reasons(home: Path, settings: LegacySettings) -> list[str]:
    reasons = []
    configs = settings.configs_dir
    names: set[str] = set()
    if configs.is_dir():
        names = {p.stem for p in configs.iterdir()
                 if p.suffix == ".yaml" and p.name not in LEFTOVERS and p.is_file()}
    if names:
        reasons.append(f"{_count(len(names), 'MDM 1.x dataset')} in {_shown(configs, home)}")
    orphans = 0
    datasets = settings.datasets_dir
    if datasets.is_dir():
        for folder in datasets.iterdir():
            if (folder.name in names or folder.name in LEFTOVERS or folder.name.startswith(".")
                    or not folder.is_dir() or (folder / NEW_LAYOUT_FILE).exists()):
                continue
            files = (INFO_FILE, f"{folder.name}.sqlite", f"{folder.name}.duckdb", *_FALLBACK_FILES,
                     f"{folder.name}.db")
            if any((folder / name).is_file() for name in files):
                orphans += 1
    if orphans:
        reasons.append(f"{_count(orphans, 'MDM 1.x dataset folder')} without a dataset YAML in "
                       f"{_shown(datasets, home)}")
    if (home / FLAT_FILE).is_file():
        reasons.append(f"MDM 1.x flat settings in {FLAT_FILE}")
    return reasons


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _shown(path: Path, home: Path) -> str:
    """``path`` relative to the home when inside it (no trailing slash), else as is."""
    try:
        return str(path.relative_to(home)) or "."
    except ValueError:
        return str(path)
