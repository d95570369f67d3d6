"""The datasets of an MDM 1.x home, as plain records, read without writing anything.

:func:`scan_home` finds every 1.x dataset of a home:

- each ``<paths.configs_path>/<name>.yaml`` (default ``config/datasets/``) is one dataset
  (``origin="yaml"``); its folder is ``<paths.datasets_path>/<name>/``;
- each dataset folder without such a YAML that holds a ``dataset_info.json`` or a
  database file is one too (``origin="discovered"``: the YAML is gone or unusable; its metadata
  comes from ``dataset_info.json``, which may be stale); folders holding a new-layout
  ``dataset.yaml`` belong to the new catalog and are skipped;
- leftovers of 1.x (``feature_flags.yaml``, ``migration_state.json``,
  ``rollback_history.json``, ``metrics.db``, ``cache/``, ``logs/``) are never datasets.

A record is ``status="broken"`` when its data cannot be served: a YAML that is not YAML
or whose ``database``/``tables`` are unusable, a database that is missing (the message
lists every path tried) or cannot be opened, a data table missing from the database.
Nothing stops the scan: every other dataset is still listed. ``problems`` holds one
sentence per finding, also for datasets that work (a partial or undeclared feature
table, a stale ``dataset_info.json``, an odd ``problem_type``, a field of the wrong
type that was ignored).

With ``inspect=True`` (the default) each record goes through
:func:`~mdm_plugin_legacy.inspection_1x.inspect_dataset`: its database is opened
read-only to count rows and check the feature tables (a feature table with fewer rows
than its source, or present in the database but not in the YAML, is listed in
``incomplete_features`` and must not be served as complete).

The record class is :class:`~mdm_plugin_legacy.dataset_1x.LegacyDataset`, importable
from here too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import yaml

from mdm_core.yamlio import load_yaml
from mdm_plugin_legacy.config_1x import LegacySettings, load_settings_1x
from mdm_plugin_legacy.dataset_1x import LegacyDataset, broken, with_problem
from mdm_plugin_legacy.inspection_1x import inspect_dataset
from mdm_plugin_legacy.locations_1x import file_engine, locate_file, locate_postgres
from mdm_plugin_legacy.metadata_1x import BrokenMetadata, database_options, dataset_fields

__all__ = ["LegacyDataset", "discover_dataset", "find_dataset", "inspect_dataset", "read_dataset_yaml",
           "scan_home"]

BACKENDS = ("sqlite", "duckdb", "postgresql")
INFO_FILE = "dataset_info.json"
NEW_LAYOUT_FILE = "dataset.yaml"
#: Files and folders of a 1.x home that are never datasets.
LEFTOVERS = frozenset({"feature_flags.yaml", "rollback_history.json", "migration_state.json",
                       "metrics.db", "cache", "logs"})
#: Fields compared to tell a stale ``dataset_info.json`` from the YAML.
_COMPARED = ("display_name", "description", "tables", "feature_tables", "problem_type", "target_column",
             "id_columns", "time_column", "group_column", "tags", "source", "registered_at",
             "last_updated_at", "datetime_columns")


def scan_home(home: Path | str, settings_1x: LegacySettings | None = None, *,
              inspect: bool = True, connect_timeout: int = 5) -> list[LegacyDataset]:
    """Every 1.x dataset of ``home``, sorted by name (see the module doc); never raises
    for a bad dataset. ``settings_1x`` defaults to
    :func:`~mdm_plugin_legacy.config_1x.load_settings_1x` of the home (which raises
    ConfigError for a config file that is not YAML); ``connect_timeout`` bounds each
    PostgreSQL connection attempt of the inspection."""
    home = Path(home).expanduser()
    settings = settings_1x if settings_1x is not None else load_settings_1x(home)
    found: dict[str, LegacyDataset] = {}
    configs = settings.configs_dir
    if configs.is_dir():
        for path in sorted(configs.glob("*.yaml")):
            if path.name not in LEFTOVERS and path.is_file():
                found[path.stem] = read_dataset_yaml(path, home, settings)
    datasets = settings.datasets_dir
    if datasets.is_dir():
        for folder in sorted(datasets.iterdir()):
            if (folder.name in found or folder.name in LEFTOVERS or folder.name.startswith(".")
                    or not folder.is_dir() or (folder / NEW_LAYOUT_FILE).exists()):
                continue
            record = discover_dataset(folder, home, settings)
            if record is not None:
                found[folder.name] = record
    records = [found[name] for name in sorted(found)]
    if not inspect:
        return records
    return [inspect_dataset(r, connect_timeout=connect_timeout) for r in records]


def find_dataset(home: Path | str, name: str, settings_1x: LegacySettings | None = None, *,
                 inspect: bool = True) -> LegacyDataset | None:
    """The 1.x dataset ``name`` of ``home`` (its YAML, else its folder), or None (also for
    a name that is not a plain file name: nothing outside the home is ever looked at)."""
    if not name or name.startswith(".") or "/" in name or "\\" in name or "\x00" in name:
        return None
    home = Path(home).expanduser()
    settings = settings_1x if settings_1x is not None else load_settings_1x(home)
    path = settings.configs_dir / f"{name}.yaml"
    if path.is_file() and path.name not in LEFTOVERS:
        record: LegacyDataset | None = read_dataset_yaml(path, home, settings)
    else:
        folder = settings.datasets_dir / name
        if not folder.is_dir() or name in LEFTOVERS or (folder / NEW_LAYOUT_FILE).exists():
            return None
        record = discover_dataset(folder, home, settings)
    return inspect_dataset(record) if inspect and record is not None else record


def rebuild_from_folder(record: LegacyDataset, home: Path, settings: LegacySettings) -> LegacyDataset | None:
    """For a dataset whose YAML exists but cannot be used (``record`` broken, with no
    database location): the dataset rebuilt from its folder (``dataset_info.json``, else
    the database) as a discovered one, the YAML's problem kept; None when the folder does
    not give a usable dataset either. The reader serves such a dataset as broken; the
    migration moves it with this metadata."""
    if record.ok or record.location is not None or record.folder is None or not record.folder.is_dir():
        return None
    found = discover_dataset(record.folder, home, settings)
    if found is None or not found.ok:
        return None
    reason = record.problems[0].rstrip(".") if record.problems else "its YAML cannot be used"
    origin = (f"{_shown(found.info_path, home)}, which may be stale" if found.info_path is not None
              else "its database (tables only: the rest of its metadata is unknown)")
    return attrs.evolve(found, yaml_path=record.yaml_path, problems=[f"{reason}; its metadata was rebuilt from {origin}."])


def read_dataset_yaml(path: Path, home: Path, settings: LegacySettings) -> LegacyDataset:
    """The record of one ``config/datasets/<name>.yaml`` (broken, with the reason, when it
    cannot be used; never raises for bad content)."""
    name = path.stem
    folder = settings.datasets_dir / name
    info = folder / INFO_FILE
    base = LegacyDataset(name, display_name=name, origin="yaml", folder=folder, yaml_path=path,
                         info_path=info if info.is_file() else None)
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return broken(base, f"{_shown(path, home)} is not valid YAML{where}: "
                             f"{getattr(exc, 'problem', None) or 'invalid YAML'}.")
    except (OSError, UnicodeDecodeError) as exc:
        return broken(base, f"{_shown(path, home)} cannot be read: {exc}.")
    if not isinstance(data, dict):
        return broken(base, f"{_shown(path, home)} holds a {type(data).__name__}, not a dataset description.")
    record = _record(base, data, home, settings, f"{_shown(path, home)}")
    if record.ok and record.info_path is not None:
        stale = _stale_fields(record, record.info_path, home)
        if stale:
            record = with_problem(record, stale)
    return record


def discover_dataset(folder: Path, home: Path, settings: LegacySettings) -> LegacyDataset | None:
    """The record of a dataset folder whose YAML is gone, from its ``dataset_info.json``
    and database; None when the folder holds neither."""
    name = folder.name
    info = folder / INFO_FILE
    yaml_shown = _shown(settings.configs_dir / f"{name}.yaml", home)
    base = LegacyDataset(name, display_name=name, origin="discovered", folder=folder,
                         info_path=info if info.is_file() else None)
    if info.is_file():
        try:
            data = json.loads(info.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            return broken(base, f"Its YAML {yaml_shown} is gone and {_shown(info, home)} is unreadable: {exc}.")
        if not isinstance(data, dict):
            return broken(base, f"Its YAML {yaml_shown} is gone and {_shown(info, home)} is not a dataset description.")
        record = _record(base, data, home, settings, _shown(info, home))
        return with_problem(record, f"Its YAML {yaml_shown} is gone; found from {_shown(info, home)}, "
                                     "which may be stale.")
    location = locate_file(name, "sqlite", None, folder, home)
    if not location.found:
        return None
    record = attrs.evolve(base, backend=location.engine, location=location)
    return with_problem(record, f"Its YAML {yaml_shown} and its {INFO_FILE} are gone; found from its "
                                 "database, metadata unknown (tables taken from the database).")


def _record(base: LegacyDataset, data: dict[str, Any], home: Path, settings: LegacySettings,
            shown: str) -> LegacyDataset:
    try:
        fields, problems = dataset_fields(data, base.name)
    except BrokenMetadata as exc:
        return broken(base, f"{shown}: {exc}.")
    record = attrs.evolve(base, **fields, database_options=database_options(data),
                          problems=[*base.problems, *(f"{shown}: {p}" for p in problems)])
    backend = fields["backend"]
    database = data["database"]
    if backend == "postgresql":
        return attrs.evolve(record, location=locate_postgres(base.name, database, settings))
    if backend not in BACKENDS:
        return broken(record, f"{shown}: backend {backend!r} is not one MDM 1.x used ({', '.join(BACKENDS)}).")
    location = locate_file(base.name, backend, database.get("path"), base.folder or home, home)
    record = attrs.evolve(record, location=location)
    if not location.found:
        tried = ", ".join(_shown(p, home) for p in location.tried)
        return broken(record, f"Its {backend} database is missing (tried {tried}).")
    if file_engine(location.path) is None:
        return broken(record, f"{_shown(location.path, home)} is neither a SQLite nor a DuckDB database.")
    if location.engine != backend:
        record = with_problem(record, f"Its YAML says {backend} but {_shown(location.path, home)} is a "
                                       f"{location.engine} database; read as {location.engine}.")
    return record


def _stale_fields(record: LegacyDataset, info: Path, home: Path) -> str | None:
    try:
        data = json.loads(info.read_text(encoding="utf-8"))
        fields, _ = dataset_fields(data, record.name)
    except (OSError, UnicodeDecodeError, ValueError, BrokenMetadata, AttributeError) as exc:
        return f"{_shown(info, home)} is unreadable ({exc}); the YAML is used."
    differ = [key for key in _COMPARED if fields.get(key) != getattr(record, key)]
    if not differ:
        return None
    return f"{_shown(info, home)} is stale (differs from the YAML in {', '.join(differ)}); the YAML is used."


def _shown(path: Path | None, home: Path) -> str:
    if path is None:
        return "?"
    try:
        return str(path.relative_to(home))
    except ValueError:
        return str(path)
