"""The ``legacy-dataset`` migration step (phase ``dataset``): each MDM 1.x catalog entry
becomes a new-layout ``datasets/<name>/dataset.yaml`` pointing to the store the
``legacy-storage`` step wrote.

One unit per 1.x dataset (also discovered ones: a folder with a database and no YAML,
whose metadata is rebuilt from the database). Kept: name, display name, description,
tags, target, id/time/group columns, problem type, registration and update times, source
(as typed). Tables are the migrated ones, with row counts and columns read from the new
store (kinds as the 1.x catalog computes them). No password is written anywhere: the
store's location holds only host, port, database and user. Broken datasets are left
behind (blocking). The 1.x YAML and ``dataset_info.json`` are removed only by ``cleanup``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import attrs

from mdm_core.datasets.catalog import METADATA_FILE, Catalog
from mdm_core.datasets.locks import dataset_lock
from mdm_core.datasets.models import DatasetInfo, TableInfo, normalize_problem_type
from mdm_core.errors import DatasetError, MigrationError
from mdm_core.migration.journal import load_journal
from mdm_core.migration.step import Skipped, StepCheck, StepContext, StepPlan, Unit, UnitResult
from mdm_core.storage import StorageBackend, StoreRef
from mdm_core.yamlio import load_yaml
from mdm_plugin_legacy.catalog import as_dataset_info, column_info
from mdm_plugin_legacy.catalog_1x import discover_dataset, inspect_dataset
from mdm_plugin_legacy.config_1x import load_settings_1x
from mdm_plugin_legacy.dataset_1x import LegacyDataset
from mdm_plugin_legacy.migration_1x import (
    DATASET_STEP,
    FEATURES_STEP,
    PASSWORD_NOTE,
    STORAGE_STEP,
    NewBackends,
    fingerprint_material,
    migration_record,
    plaintext_password,
    relative,
    source_file,
    survey,
)

#: Metadata the new dataset.yaml must keep from the 1.x record (checked by ``verify``).
KEPT = ("display_name", "target_column", "id_columns", "problem_type", "tags")


class LegacyDatasetStep:
    """Writes new-layout metadata for migrated 1.x datasets (see the module doc)."""

    name = DATASET_STEP
    phase = "dataset"

    def __init__(self) -> None:
        self._backends = NewBackends()

    def plan(self, ctx: StepContext) -> StepPlan:
        found = survey(ctx, load_journal(ctx.home), self._backends)
        storage = ctx.results.get(STORAGE_STEP, {})
        units, skipped, notes = [], [], [f"{n}: replaced by a new-layout dataset" for n in found.replaced]
        fingerprint = hashlib.sha256()
        for candidate in found.candidates:
            record = candidate.record
            if candidate.blocked:
                skipped.append(Skipped(record.name, candidate.blocked, blocking=True))
                continue
            fingerprint.update(fingerprint_material(record))
            copied = all(candidate.unit_id(t) in storage for t in candidate.tables)
            units.append(Unit(
                record.name, dataset=record.name,
                detail=f"1.x {record.origin} -> {METADATA_FILE}" if copied else "after the storage phase",
                data={"tables": list(candidate.tables), **_generated(ctx, record.name, candidate.tables),
                      "kept": _kept(record), **_files(record, ctx)},
            ))
            notes.extend(_notes(record, ctx))
        summary = f"{len(units)} MDM 1.x datasets to register in the new layout"
        return StepPlan(summary, tuple(units), tuple(skipped), tuple(notes), fingerprint=fingerprint.hexdigest())

    def apply(self, ctx: StepContext, unit: Unit) -> UnitResult:
        name = unit.dataset
        storage = ctx.results.get(STORAGE_STEP, {})
        missing = [t for t in unit.data["tables"] if f"{name}/{t}" not in storage]
        if missing:
            raise MigrationError(f"Dataset '{name}': the storage phase has not copied {', '.join(missing)}; "
                                 "run `mdm-migrate run` so the storage phase comes first.")
        created = storage[f"{name}/{unit.data['tables'][0]}"].created
        record = _record(ctx, name)
        catalog = Catalog(ctx.settings)
        folder = catalog.folder(name)
        with dataset_lock(ctx.settings.datasets_dir, name, "migrate"):
            folder_created = not folder.exists()
            info = _new_info(ctx, record, created, [*unit.data["tables"], *unit.data.get("generated", [])],
                             self._backends.get(created["backend"], ctx.settings), unit.data.get("engine"))
            folder.mkdir(parents=True, exist_ok=True)
            path = catalog.save(info)
        return UnitResult(created={"metadata": relative(path, ctx.home), "key": created["key"],
                                  "folder_created": folder_created})

    def verify(self, ctx: StepContext, unit: Unit, result: UnitResult, *, deep: bool = True) -> StepCheck:
        """The new catalog loads the dataset; its tables' row counts are the store's; the
        kept metadata equals the 1.x record's (as recorded when planned)."""
        name = unit.dataset
        try:
            info = Catalog(ctx.settings).load(name)
        except DatasetError as exc:
            return StepCheck(False, (f"{name}: {exc}",))
        problems = [f"{name}: {key} is {getattr(info, key)!r}, MDM 1.x had {value!r}."
                    for key, value in unit.data["kept"].items() if getattr(info, key) != value]
        backend = self._backends.get(info.backend, ctx.settings).at(info.store)
        with backend.open_store(Catalog(ctx.settings).store_ref(info), read_only=True) as store:
            for table in info.tables:
                rows = store.row_count(table.name)
                if rows != table.row_count:
                    problems.append(f"{name}/{table.name}: {table.row_count:,} rows in {METADATA_FILE}, "
                                    f"{rows:,} in the store.")
        return StepCheck(not problems, tuple(problems))

    def rollback(self, ctx: StepContext, unit: Unit, result: UnitResult | None) -> None:
        """Delete the dataset.yaml this step wrote (only it: one naming another store is
        left), and the dataset folder when the step created it and it is now empty."""
        catalog = Catalog(ctx.settings)
        folder = catalog.folder(unit.dataset)
        path = folder / METADATA_FILE
        key = result.created.get("key") if result is not None else None
        with dataset_lock(ctx.settings.datasets_dir, unit.dataset, "migrate"):
            if path.is_file() and (key is None or (load_yaml(path.read_text("utf-8")) or {}).get("store", {}).get("key")
                                   == key):
                path.unlink()
            if result is not None and result.created.get("folder_created") and folder.is_dir() \
                    and not any(folder.iterdir()):
                folder.rmdir()

    def cleanup(self, ctx: StepContext, unit: Unit, result: UnitResult) -> list[str]:
        """Remove the 1.x YAML and the folder's ``dataset_info.json``; returns them."""
        removed = []
        for key in ("yaml", "info"):
            path = ctx.home / unit.data[key] if unit.data.get(key) else None
            if path is not None and path.is_file():
                path.unlink()
                removed.append(unit.data[key])
        return removed


def _record(ctx: StepContext, name: str) -> LegacyDataset:
    """The 1.x record of ``name``, also of a discovered dataset whose folder already holds
    the dataset.yaml an interrupted attempt wrote."""
    record = migration_record(ctx.home, name)
    if record is None:
        settings_1x = load_settings_1x(ctx.home)
        folder = settings_1x.datasets_dir / name
        found = discover_dataset(folder, ctx.home, settings_1x) if folder.is_dir() else None
        record = inspect_dataset(found) if found is not None else None
    if record is None:
        raise MigrationError(f"MDM 1.x dataset '{name}' is no longer in this home.")
    return record


def _new_info(ctx: StepContext, record: LegacyDataset, created: dict, tables: list[str],
              backend: StorageBackend, engine: str | None) -> DatasetInfo:
    """The new-layout metadata of ``record``, its tables as the new store holds them;
    ``engine`` is the one the features phase regenerated its feature tables with."""
    info = as_dataset_info(record, ctx.home, columns=False)
    ref = StoreRef(created["key"], ctx.settings.datasets_dir / record.name)
    data = set(record.tables.values())
    with backend.at(created["location"]).open_store(ref, read_only=True) as store:
        stored = [TableInfo(t, "data" if t in data else "features", store.row_count(t),
                            [column_info(record, f) for f in store.table_schema(t)]) for t in tables]
    return attrs.evolve(
        info, backend=created["backend"], tables=stored, problem_type=_problem_type(record.problem_type),
        registered_at=info.registered_at or _database_time(record),
        feature_engine=(engine or "legacy") if any(t.kind == "features" for t in stored) else None,
        store={"key": created["key"], **backend.describe(ref)}, format_version=2, status="ok", problems=[],
        incomplete_tables=[], datetime_columns=[],
    )


def _generated(ctx: StepContext, name: str, copied: tuple[str, ...]) -> dict:
    """The feature tables the features phase wrote that the storage phase did not copy
    (``generated``), and the engine it used (``engine``); empty before that phase."""
    done = [r.created for uid, r in ctx.results.get(FEATURES_STEP, {}).items() if uid.startswith(f"{name}/")]
    if not done:
        return {}
    return {"generated": sorted(c["table"] for c in done if c["table"] not in copied),
            "engine": done[0].get("compatibility", {}).get("engine")}


def _kept(record: LegacyDataset) -> dict:
    return {"display_name": record.display_name or record.name, "target_column": record.target_column,
            "id_columns": list(record.id_columns), "problem_type": _problem_type(record.problem_type),
            "tags": list(record.tags)}


def _problem_type(value: str | None) -> str | None:
    """A 1.x problem type in the new spelling; one the new layout does not know is kept."""
    try:
        return normalize_problem_type(value)
    except DatasetError:
        return value


def _database_time(record: LegacyDataset) -> str:
    """When a dataset without a recorded registration time was written: its database's mtime."""
    source = source_file(record)
    stamp = datetime.fromtimestamp(source.stat().st_mtime, UTC) if source is not None else datetime.now(UTC)
    return stamp.isoformat()


def _files(record: LegacyDataset, ctx: StepContext) -> dict:
    """The 1.x metadata files ``cleanup`` removes, relative to the home."""
    return {key: relative(path, ctx.home) for key, path in (("yaml", record.yaml_path), ("info", record.info_path))
            if path is not None}


def _notes(record: LegacyDataset, ctx: StepContext) -> list[str]:
    notes = []
    if plaintext_password(record):
        notes.append(f"{record.name}: the PostgreSQL password of its 1.x YAML is dropped; {PASSWORD_NOTE}")
    location = record.location
    if getattr(location, "how", "") == "re-rooted" and location.recorded:
        notes.append(f"{record.name}: its 1.x database path {location.recorded} is re-rooted to "
                     f"{relative(location.path, ctx.home)}")
    if record.origin == "discovered":
        notes.append(f"{record.name}: its 1.x YAML is gone or unusable; metadata rebuilt from "
                     f"{'dataset_info.json' if record.info_path else 'its database'}")
    return notes
