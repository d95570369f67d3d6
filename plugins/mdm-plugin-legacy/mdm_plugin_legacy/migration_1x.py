"""What the legacy migration steps (``legacy-storage``, ``legacy-dataset``) and the legacy
catalog share about moving an MDM 1.x dataset to the new layout.

- :func:`survey`: the 1.x datasets a run covers (``--datasets``), each as a
  :class:`Candidate`: its target backend, the tables that move (data tables and complete
  feature tables), what is left behind and why; plus the names left alone because a
  new-layout dataset replaced them. Reads only.
- :func:`store_key` / :func:`target_ref`: where a dataset's new store is. The key is
  derived from the home and the name, so a resumed or repeated run finds the same store.
- :func:`new_backend` (:class:`NewBackends` keeps them): the *new* generation of a backend (the one writing new stores),
  whatever ``use_new_storage`` says while the home is still on the legacy generation.
- :func:`migrated_store`: the new store of a 1.x dataset whose every table the storage
  step copied and verified, from the journal.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import attrs

from mdm_core.migration.journal import DONE, ROLLED_BACK, Journal
from mdm_core.migration.step import Skipped, StepContext
from mdm_core.storage import StorageBackend, StoreRef
from mdm_plugin_legacy.catalog_1x import (
    NEW_LAYOUT_FILE,
    discover_dataset,
    find_dataset,
    inspect_dataset,
    rebuild_from_folder,
    scan_home,
)
from mdm_plugin_legacy.config_1x import load_settings_1x
from mdm_plugin_legacy.dataset_1x import LegacyDataset
from mdm_plugin_legacy.locations_1x import FileLocation, PostgresLocation
from mdm_plugin_legacy.metadata_1x import FEATURE_SUFFIX

STORAGE_STEP = "legacy-storage"
DATASET_STEP = "legacy-dataset"
FEATURES_STEP = "legacy-features"
#: Where new file stores are built before they move into the dataset folder.
STAGING = Path(".migration") / "staging"
PASSWORD_NOTE = ("the password is not carried over: supply it with MDM_DATABASE_POSTGRESQL_PASSWORD, a DSN or "
                 "a service file")


@attrs.frozen
class Candidate:
    """One 1.x dataset of a run: ``target`` backend, ``tables`` to copy (data tables, then
    complete feature tables), ``skipped`` what stays behind; ``blocked`` says why the
    whole dataset stays behind (None: it moves)."""

    record: LegacyDataset
    target: str
    tables: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    blocked: str | None = None

    @property
    def name(self) -> str:
        return self.record.name

    def unit_id(self, table: str) -> str:
        return f"{self.name}/{table}"


@attrs.frozen
class Survey:
    candidates: tuple[Candidate, ...]
    #: 1.x datasets whose name now holds a new-layout dataset the migration did not write.
    replaced: tuple[str, ...] = ()


def store_key(home: Path, name: str) -> str:
    """The key of dataset ``name``'s new store: stable for a home, distinct per name."""
    digest = hashlib.sha256(f"{Path(home).resolve()}/{name}".encode()).hexdigest()[:8]
    return f"{name[:40]}_m{digest}"


def target_ref(settings: Any, name: str) -> StoreRef:
    return StoreRef(store_key(settings.home, name), settings.datasets_dir / name)


def new_backend(name: str, settings: Any) -> StorageBackend:
    """The new-generation backend ``name`` (the legacy generation wraps it and would
    also serve 1.x databases: a migration writes new stores only)."""
    from mdm_core.backends import get_backend

    return get_backend(name, attrs.evolve(settings, flags=attrs.evolve(settings.flags, use_new_storage=True)))


class NewBackends:
    """New-generation backends by name, each built once per settings object (a
    PostgreSQL backend holds a connection pool)."""

    def __init__(self) -> None:
        self._made: dict[str, tuple[Any, StorageBackend]] = {}

    def get(self, name: str, settings: Any) -> StorageBackend:
        made = self._made.get(name)
        if made is None or made[0] is not settings:
            made = self._made[name] = (settings, new_backend(name, settings))
        return made[1]


def survey(ctx: StepContext, journal: Journal, backends: NewBackends) -> Survey:
    """The 1.x datasets ``ctx.options`` covers (see the module doc)."""
    ours = migrated_names(journal)
    candidates, replaced = [], []
    for record in legacy_records(ctx.home, journal):
        if not ctx.options.wants(record.name):
            continue
        if (ctx.settings.datasets_dir / record.name / NEW_LAYOUT_FILE).is_file() and record.name not in ours:
            replaced.append(record.name)
            continue
        target = ctx.options.to or (record.location.engine if record.location is not None else record.backend)
        backend = backends.get(target, ctx.settings)
        candidates.append(_candidate(record, target, backend, ctx.settings, record.name in ours))
    return Survey(tuple(candidates), tuple(replaced))


def legacy_records(home: Path, journal: Journal) -> list[LegacyDataset]:
    """The home's 1.x datasets (inspected; one whose YAML cannot be used rebuilt from its
    folder when that works), also those the migration already gave a new-layout
    ``dataset.yaml`` (a scan skips such folders) until it is cleaned up."""
    settings_1x = load_settings_1x(home)
    records = {}
    for record in scan_home(home, settings_1x):
        rebuilt = rebuild_from_folder(record, home, settings_1x)
        records[record.name] = inspect_dataset(rebuilt) if rebuilt is not None else record
    if not journal.cleaned:
        for name in sorted(migrated_names(journal) - records.keys()):
            folder = settings_1x.datasets_dir / name
            found = discover_dataset(folder, home, settings_1x) if folder.is_dir() else None
            if found is not None:
                records[name] = inspect_dataset(found)
    return [records[name] for name in sorted(records)]


def migration_record(home: Path, name: str) -> LegacyDataset | None:
    """The 1.x dataset ``name`` as the migration sees it (inspected; rebuilt from its
    folder when its YAML cannot be used, as :func:`legacy_records` does), or None."""
    settings_1x = load_settings_1x(home)
    record = find_dataset(home, name, settings_1x, inspect=False)
    if record is None:
        return None
    rebuilt = rebuild_from_folder(record, home, settings_1x)
    return inspect_dataset(rebuilt if rebuilt is not None else record)


def migrated_names(journal: Journal) -> set[str]:
    """Datasets the legacy steps worked on (units not rolled back)."""
    return {u.dataset for u in journal.units.values()
            if u.step in (STORAGE_STEP, DATASET_STEP) and u.state != ROLLED_BACK and u.dataset}


def migrated_store(journal: Journal, record: LegacyDataset) -> tuple[str, dict[str, Any]] | None:
    """(backend, store) of ``record``'s new store when the storage step copied and
    verified every table it moves, else None."""
    tables = [*record.tables.values(), *record.complete_feature_tables.values()]
    units = [journal.unit(STORAGE_STEP, f"{record.name}/{t}") for t in tables]
    if not units or any(u is None or u.state != DONE for u in units):
        return None
    created = units[0].created
    return created["backend"], {"key": created["key"], **created["location"]}


def source_file(record: LegacyDataset) -> Path | None:
    location = record.location
    return location.path if isinstance(location, FileLocation) else None


def relative(path: Path, home: Path) -> str:
    try:
        return str(path.relative_to(home))
    except ValueError:
        return str(path)


def plaintext_password(record: LegacyDataset) -> bool:
    """True when the dataset's 1.x YAML (or dataset_info.json) holds a password."""
    location = record.location
    return isinstance(location, PostgresLocation) and location.origins.get("password") == "dataset YAML"


def fingerprint_material(record: LegacyDataset) -> bytes:
    """What identifies a dataset's 1.x sources: its metadata file's bytes, its database
    file's size and mtime (PostgreSQL: the tables' row counts)."""
    parts = [record.name.encode()]
    meta = record.yaml_path or record.info_path
    if meta is not None and meta.is_file():
        parts.append(meta.read_bytes())
    path = source_file(record)
    if path is not None and path.is_file():
        stat = path.stat()
        parts.append(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
    elif isinstance(record.location, PostgresLocation):
        parts.append(repr(sorted(record.row_counts.items())).encode())
    return b"\x00".join(parts)


def _candidate(record: LegacyDataset, target: str, backend: StorageBackend, settings: Any, ours: bool) -> Candidate:
    if not record.ok:
        return Candidate(record, target, blocked=record.problems[-1] if record.problems else "it cannot be read.")
    tables = [*record.tables.values(), *record.complete_feature_tables.values()]
    if not record.tables:
        return Candidate(record, target, blocked="It has no data table.")
    file_name = getattr(backend, "file_name", None)
    source = source_file(record)
    store_file = settings.datasets_dir / record.name / file_name if file_name else None
    if store_file is not None and source is not None and source.resolve() == store_file.resolve():
        return Candidate(record, target, blocked=(
            f"Its 1.x database {source.name} has the name of the new {target} store's file in the same folder, so it "
            "cannot be migrated in place: choose another engine with --to, or rename the file and its YAML's path."))
    if store_file is not None and store_file.exists() and not ours:
        return Candidate(record, target, blocked=(
            f"Its folder already holds {store_file.name}, which is not its 1.x database: move that file away first."))
    skipped = tuple(Skipped(f"{record.name}/{t}", _partial_reason(record, t), blocking=False)
                    for t in record.incomplete_features)
    return Candidate(record, target, tuple(tables), skipped)


def _partial_reason(record: LegacyDataset, table: str) -> str:
    base = table[: -len(FEATURE_SUFFIX)] if table.endswith(FEATURE_SUFFIX) else table
    source = record.tables.get(base, base)
    rows, total = record.row_counts.get(table, 0), record.row_counts.get(source, 0)
    return f"partial feature table ({rows:,} of {total:,} rows): left for the features phase"
