"""The ``legacy-storage`` migration step (phase ``storage``): every table of every MDM 1.x
dataset copied into a new store of the target backend, verified.

One unit per data table and per complete feature table (``penguins/train``); partial or
undeclared 1.x feature tables are left for the features phase (named, not blocking);
broken datasets are left behind (blocking: the run ends with exit code 5). The target is
``--to`` or the dataset's own 1.x engine; the store is ``<datasets>/<name>`` with the
deterministic key of :func:`~mdm_plugin_legacy.migration_1x.store_key`, written by the
new-generation backend while the 1.x database is read in place, read-only. The 1.x
database is removed only by ``cleanup``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from mdm_core.checksum import ContentChecksum
from mdm_core.datasets.locks import dataset_lock
from mdm_core.errors import MigrationError
from mdm_core.migration.copy import copy_table, open_target_store, staging_ref
from mdm_core.migration.journal import load_journal
from mdm_core.migration.step import Skipped, StepCheck, StepContext, StepPlan, Unit, UnitResult
from mdm_core.storage import StorageBackend, StoreRef
from mdm_plugin_legacy.migration_1x import (
    FEATURES_STEP,
    PASSWORD_NOTE,
    STAGING,
    STORAGE_STEP,
    Candidate,
    NewBackends,
    fingerprint_material,
    migration_record,
    plaintext_password,
    relative,
    source_file,
    survey,
    target_ref,
)
from mdm_plugin_legacy.open_1x import open_legacy_database
from mdm_plugin_legacy.storage import LegacyStore


class LegacyStorageStep:
    """Copies 1.x databases into new stores (see the module doc)."""

    name = STORAGE_STEP
    phase = "storage"

    def __init__(self) -> None:
        self._backends = NewBackends()

    def plan(self, ctx: StepContext) -> StepPlan:
        found = survey(ctx, load_journal(ctx.home), self._backends)
        units, skipped, notes = [], [], [f"{n}: replaced by a new-layout dataset" for n in found.replaced]
        fingerprint = hashlib.sha256()
        space = 0
        for candidate in found.candidates:
            record = candidate.record
            if candidate.blocked:
                skipped.append(_blocking(candidate))
                continue
            skipped.extend(candidate.skipped)
            fingerprint.update(fingerprint_material(record))
            units.extend(_units(candidate, ctx))
            source = source_file(record)
            if source is not None and candidate.target in ("sqlite", "duckdb"):
                space += source.stat().st_size
            if plaintext_password(record):
                notes.append(f"{record.name}: its 1.x YAML holds a PostgreSQL password; {PASSWORD_NOTE}")
        datasets = len({u.dataset for u in units})
        summary = f"{len(units)} tables of {datasets} MDM 1.x datasets to copy into new stores"
        return StepPlan(summary, tuple(units), tuple(skipped), tuple(notes),
                        {"datasets": sorted({u.dataset for u in units if u.dataset})},
                        fingerprint.hexdigest(), space)

    def apply(self, ctx: StepContext, unit: Unit) -> UnitResult:
        name, table, target = unit.dataset, unit.table, unit.data["target"]
        settings = ctx.settings
        record = migration_record(ctx.home, name)
        if record is None or not record.ok:
            raise MigrationError(f"MDM 1.x dataset '{name}' can no longer be read; run `mdm-migrate plan` again.")
        backend = self._backends.get(target, settings)
        ref = target_ref(settings, name)
        with dataset_lock(settings.datasets_dir, name, "migrate"):
            folder_created = not ref.folder.exists()
            with LegacyStore(open_legacy_database(record), name, set(record.incomplete_features)) as source, \
                    open_target_store(backend, ref, staging_folder=ctx.home / STAGING) as store:
                copied = copy_table(source, table, store, backend, batch_size=settings.performance.batch_size,
                                    memory_budget_mb=settings.performance.memory_budget_mb, progress=ctx.progress)
            location = backend.describe(ref)
        return UnitResult(copied.rows_read, copied.rows_written, copied.checksum_source, copied.checksum_target,
                          created={"backend": target, "key": ref.key, "location": location, "table": table,
                                   "folder_created": folder_created})

    def verify(self, ctx: StepContext, unit: Unit, result: UnitResult, *, deep: bool = True) -> StepCheck:
        """The new table holds the 1.x row count (``deep``: and the content checksum of
        the 1.x table as the target stores it; once cleanup removed the 1.x database,
        the checksum recorded when it was copied; not for a feature table the features
        phase regenerated, whose content that phase checks)."""
        name, table = unit.dataset, unit.table
        backend, ref = self._target(ctx, unit, result)
        expected = unit.data["rows"]
        problems = []
        with backend.open_store(ref, read_only=True) as store:
            rows = store.row_count(table)
            if rows != expected:
                problems.append(f"{name}/{table}: {rows:,} rows in the new store, {expected:,} in MDM 1.x.")
            if deep and not problems and unit.id not in ctx.results.get(FEATURES_STEP, {}):
                source = _source_checksum(ctx, name, table, backend) or result.checksum_source
                stored = store.checksum(table)
                if stored != source:
                    problems.append(f"{name}/{table}: content checksum {stored} in the new store, {source} in MDM 1.x.")
        return StepCheck(not problems, tuple(problems))

    def rollback(self, ctx: StepContext, unit: Unit, result: UnitResult | None) -> None:
        """Drop the table from the new store, the store once it holds no table, and the
        dataset folder when the step created it and it is empty; never a 1.x file."""
        backend, ref = self._target(ctx, unit, result)
        with dataset_lock(ctx.settings.datasets_dir, unit.dataset, "migrate"):
            backend.drop_store(staging_ref(ref, ctx.home / STAGING))  # a store a killed run left half-built
            if not backend.store_exists(ref):
                return
            with backend.open_store(ref) as store:
                store.drop_table(unit.table)
                empty = not store.list_tables()
            if empty:
                backend.drop_store(ref)
                if result is not None and result.created.get("folder_created") and ref.folder.is_dir() \
                        and not any(ref.folder.iterdir()):
                    ref.folder.rmdir()

    def cleanup(self, ctx: StepContext, unit: Unit, result: UnitResult) -> list[str]:
        """Remove the dataset's 1.x database file (with its journal files), once per
        dataset; a 1.x PostgreSQL database is left on the server, and a line says so."""
        if not unit.data.get("first"):
            return []
        if unit.data.get("database"):
            return [f"{unit.dataset}: PostgreSQL database {unit.data['database']} of MDM 1.x left on the server "
                    "(drop it when you are sure)"]
        removed = []
        source = ctx.home / unit.data["source"]
        for path in (source, *(source.with_name(source.name + s) for s in ("-wal", "-shm", "-journal", ".wal"))):
            if path.is_file():
                path.unlink()
                removed.append(relative(path, ctx.home))
        return removed

    def _target(self, ctx: StepContext, unit: Unit, result: UnitResult | None) -> tuple[StorageBackend, StoreRef]:
        """The backend and ref of the unit's new store (as recorded, else as planned)."""
        created = result.created if result is not None else {}
        backend = self._backends.get(created.get("backend") or unit.data["target"], ctx.settings)
        ref = target_ref(ctx.settings, unit.dataset)
        if created.get("key"):
            ref = StoreRef(created["key"], ref.folder)
        return backend.at(created.get("location") or {}), ref


def _units(candidate: Candidate, ctx: StepContext) -> list[Unit]:
    record = candidate.record
    engine = record.location.engine if record.location is not None else record.backend
    source = source_file(record)
    size = source.stat().st_size if source is not None else None
    total = sum(record.row_counts.values()) or 1
    where: dict[str, Any] = ({"source": relative(source, ctx.home)} if source is not None
                             else {"database": getattr(record.location, "dbname", f"mdm_{record.name}")})
    return [
        Unit(candidate.unit_id(table), dataset=record.name, table=table, rows=record.row_counts.get(table, 0),
             bytes=None if size is None else size * record.row_counts.get(table, 0) // total,
             detail=f"{engine} 1.x -> {candidate.target}",
             data={"target": candidate.target, "rows": record.row_counts.get(table, 0), "first": index == 0, **where})
        for index, table in enumerate(candidate.tables)
    ]


def _blocking(candidate: Candidate) -> Skipped:
    return Skipped(candidate.name, candidate.blocked or "", blocking=True)


def _source_checksum(ctx: StepContext, name: str, table: str, backend: StorageBackend) -> str | None:
    """The checksum of the 1.x table as ``backend`` stores it; None once it is gone."""
    record = migration_record(ctx.home, name)
    if record is None or not record.ok or table not in record.row_counts:
        return None
    checksum = ContentChecksum()
    with LegacyStore(open_legacy_database(record), name, set(record.incomplete_features)) as source:
        for batch in source.read_table(table, batch_size=ctx.settings.performance.batch_size):
            checksum.add(backend.as_stored(batch))
    return checksum.hexdigest()
