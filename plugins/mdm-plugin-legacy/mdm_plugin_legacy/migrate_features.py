"""The ``legacy-features`` migration step (phase ``features``): every feature table of a
migrated MDM 1.x dataset regenerated in its new store, verified, with a compatibility
report against what 1.x computed.

- ``plan``: one unit per data table of every 1.x dataset the storage step copied (or will
  copy in this run) that gets features (not ``sample_submission``), whatever its 1.x
  feature table is: partial, missing from the YAML, absent, or complete. Complete ones are
  regenerated too (1.x computed statistics per chunk; the new store's table must be what
  the current engine computes), so every feature table of the home comes from one engine.
- ``apply``: the dataset's 1.x custom-feature file is carried over to the new layout's
  custom-features folder (a different file there is backed up first); the copied 1.x
  feature table is kept aside as ``<table>_features__1x``; the feature table is generated
  streamed with the engine the *current* flags choose (``legacy`` when
  ``feature_compatibility_mode`` is on: 1.x names and formulas; else ``new`` or ``legacy``
  by ``use_new_features``) into a temporary table renamed over ``<table>_features`` in one
  step, so the store always holds a feature table. ``created``: ``table``, ``previous``
  (the kept-aside table or None) and ``compatibility`` (see :func:`compare_tables`).
- ``verify``: the feature table has its source table's row count.
- ``rollback``: the kept-aside 1.x table renamed back (else the generated one dropped);
  ``cleanup``: the kept-aside table dropped.

The step flips nothing: the orchestrator flips ``use_new_features`` when the phase is done.
"""

from __future__ import annotations

import hashlib
import shutil
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mdm_core.datasets.feature_stage import SKIPPED_TABLES
from mdm_core.datasets.locks import dataset_lock
from mdm_core.errors import MigrationError
from mdm_core.features.contract import FitContext, SourceColumn
from mdm_core.features.discovery import default_engine_name
from mdm_core.features.producers import dataset_file
from mdm_core.features.runner import TMP_SUFFIX, FeatureJob, generate_features
from mdm_core.migration.journal import DONE, load_journal
from mdm_core.migration.step import StepCheck, StepContext, StepPlan, Unit, UnitResult
from mdm_core.storage import StorageBackend, StoreRef
from mdm_plugin_legacy.catalog import column_info
from mdm_plugin_legacy.config_1x import load_settings_1x
from mdm_plugin_legacy.dataset_1x import LegacyDataset
from mdm_plugin_legacy.metadata_1x import FEATURE_SUFFIX
from mdm_plugin_legacy.migration_1x import (
    FEATURES_STEP,
    STORAGE_STEP,
    NewBackends,
    fingerprint_material,
    migration_record,
    relative,
    survey,
)

#: Suffix of a copied 1.x feature table kept aside until ``cleanup``.
KEPT_SUFFIX = "__1x"
#: Relative difference under which a value counts as reproduced.
RELATIVE_TOLERANCE = 1e-9


class LegacyFeaturesStep:
    """Regenerates the feature tables of migrated 1.x datasets (see the module doc)."""

    name = FEATURES_STEP
    phase = "features"

    def __init__(self) -> None:
        self._backends = NewBackends()

    def plan(self, ctx: StepContext) -> StepPlan:
        found = survey(ctx, load_journal(ctx.home), self._backends)
        units, notes = [], []
        fingerprint = hashlib.sha256()
        for candidate in found.candidates:
            record = candidate.record
            if candidate.blocked:
                continue  # the storage step reports it
            fingerprint.update(fingerprint_material(record))
            train = _train_table(record)
            for source in record.tables.values():
                if source in SKIPPED_TABLES:
                    continue
                table = source + FEATURE_SUFFIX
                units.append(Unit(
                    f"{record.name}/{table}", dataset=record.name, table=table, rows=record.row_counts.get(source, 0),
                    detail=_why(record, source, table),
                    data={"source": source, "train": train, "copied": table in candidate.tables},
                ))
            custom = dataset_file(load_settings_1x(ctx.home).custom_features_dir, record.name)
            if custom.is_file():
                notes.append(f"{record.name}: its 1.x custom-feature file {relative(custom, ctx.home)} is carried over")
        summary = f"{len(units)} feature tables of {len({u.dataset for u in units})} MDM 1.x datasets to regenerate"
        return StepPlan(summary, tuple(units), notes=tuple(notes), fingerprint=fingerprint.hexdigest())

    def apply(self, ctx: StepContext, unit: Unit) -> UnitResult:
        name, table, source = unit.dataset, unit.table, unit.data["source"]
        backend, ref = self._store(ctx, name)
        settings = ctx.settings
        _carry_custom_file(ctx, name)
        kept = table + KEPT_SUFFIX
        with dataset_lock(settings.datasets_dir, name, "migrate"), backend.open_store(ref) as store:
            tables = set(store.list_tables())
            if table in tables and kept not in tables:  # a rerun finds it already kept aside
                _copy(store, table, kept, settings.performance.batch_size)
                tables.add(kept)
            previous = kept if kept in tables else None
            job = FeatureJob(name, _fit_context(store, migration_record(ctx.home, name), unit.data["train"]),
                             {source: store.row_count(source)})
            result = generate_features(store, job, settings, engine_name=_engine_name(settings),
                                       max_columns=backend.capabilities.max_columns)
            rows = store.row_count(table)
            report = compare_tables(store, previous, table, settings.performance.batch_size) if previous else None
        ctx.progress(rows)
        compatibility = {"engine": result.engine, "compared_with": previous, **(report or {}),
                         **_fit_note(source, unit.data["train"], rows, settings.performance.batch_size)}
        return UnitResult(rows_read=rows, rows_written=rows,
                          created={"table": table, "previous": previous, "compatibility": compatibility})

    def verify(self, ctx: StepContext, unit: Unit, result: UnitResult, *, deep: bool = True) -> StepCheck:
        """The feature table holds one row per row of its source table."""
        backend, ref = self._store(ctx, unit.dataset)
        with backend.open_store(ref, read_only=True) as store:
            rows, expected = store.row_count(unit.table), store.row_count(unit.data["source"])
        if rows != expected:
            return StepCheck(False, (f"{unit.id}: {rows:,} rows, its source table {unit.data['source']} has "
                                     f"{expected:,}.",))
        return StepCheck(True)

    def rollback(self, ctx: StepContext, unit: Unit, result: UnitResult | None) -> None:
        """Put the kept-aside 1.x table back over the generated one, or drop the
        generated one (and a temporary table an interrupted attempt left)."""
        backend, ref = self._store(ctx, unit.dataset, required=False)
        if backend is None or not backend.store_exists(ref):
            return
        kept = unit.table + KEPT_SUFFIX
        with dataset_lock(ctx.settings.datasets_dir, unit.dataset, "migrate"), backend.open_store(ref) as store:
            store.drop_table(unit.table + TMP_SUFFIX)
            if kept in store.list_tables():
                store.rename_table(kept, unit.table)
            elif not unit.data.get("copied"):
                store.drop_table(unit.table)

    def cleanup(self, ctx: StepContext, unit: Unit, result: UnitResult) -> list[str]:
        """Drop the kept-aside 1.x feature table; returns one line for it."""
        previous = result.created.get("previous")
        backend, ref = self._store(ctx, unit.dataset, required=False)
        if not previous or backend is None or not backend.store_exists(ref):
            return []
        with backend.open_store(ref) as store:
            if previous not in store.list_tables():
                return []
            store.drop_table(previous)
        return [f"{unit.dataset}: MDM 1.x feature table {previous} (kept aside in the new store)"]

    def _store(self, ctx: StepContext, name: str, *, required: bool = True) -> tuple[Any, StoreRef]:
        """The backend and ref of ``name``'s new store, from the storage step's results."""
        copied = [r for uid, r in ctx.results.get(STORAGE_STEP, {}).items() if uid.startswith(f"{name}/")]
        if not copied:
            if required:
                raise MigrationError(f"Dataset '{name}': the storage phase has not copied it; run `mdm-migrate run` "
                                     "so the storage phase comes first.")
            return None, StoreRef("", ctx.settings.datasets_dir / name)
        created = copied[0].created
        backend: StorageBackend = self._backends.get(created["backend"], ctx.settings)
        return backend.at(created["location"]), StoreRef(created["key"], ctx.settings.datasets_dir / name)


def compatibility_report(home: Any, dataset: str) -> dict[str, dict]:
    """The compatibility report of ``dataset``'s regenerated feature tables (feature table
    -> the ``compatibility`` its unit recorded), from the home's migration journal."""
    from pathlib import Path

    journal = load_journal(Path(home))
    return {u.table: dict(u.created.get("compatibility", {})) for u in journal.units.values()
            if u.step == FEATURES_STEP and u.dataset == dataset and u.state == DONE}


def compare_tables(store: Any, old: str, new: str, batch_size: int) -> dict[str, Any]:
    """Every column of the 1.x feature table ``old`` against ``new``, row by row:
    ``columns`` maps each to ``{"verdict": "exact" | "different" | "missing", ...}``
    (numbers: ``max_abs`` and ``max_rel`` differences, relative to the larger magnitude
    of the two values, and ``null_mismatches``; exact within :data:`RELATIVE_TOLERANCE`;
    other values: ``rows`` differing);
    ``new_columns`` lists the columns 1.x did not have; ``counts`` the verdicts."""
    old_names = store.table_schema(old).names
    new_names = set(store.table_schema(new).names)
    shared = [c for c in old_names if c in new_names]
    stats: dict[str, dict[str, Any]] = {c: {"verdict": "exact"} for c in shared}
    for left, right in _aligned(store.read_table(old, batch_size=batch_size),
                                store.read_table(new, batch_size=batch_size)):
        for column in shared:
            _compare(stats[column], left.column(column), right.column(column))
    columns = {c: stats.get(c, {"verdict": "missing"}) for c in old_names}
    counts = {v: sum(1 for s in columns.values() if s["verdict"] == v) for v in ("exact", "different", "missing")}
    new_columns = [c for c in store.table_schema(new).names if c not in set(old_names)]
    return {"columns": columns, "new_columns": new_columns, "counts": {**counts, "new": len(new_columns)}}


def _compare(stat: dict[str, Any], left: pa.Array, right: pa.Array) -> None:
    """Fold one aligned slice of a column into its verdict: numbers differing by more
    than :data:`RELATIVE_TOLERANCE` (or in where they are missing), other values by text."""
    numeric = all(pa.types.is_integer(a.type) or pa.types.is_floating(a.type) or pa.types.is_boolean(a.type)
                  for a in (left, right))
    if numeric:
        a = left.cast(pa.float64()).to_numpy(zero_copy_only=False)
        b = right.cast(pa.float64()).to_numpy(zero_copy_only=False)
        both = ~np.isnan(a) & ~np.isnan(b)
        nulls = int(np.sum(np.isnan(a) != np.isnan(b)))
        diff = np.abs(a[both] - b[both])
        scale = np.maximum(np.abs(a[both]), np.abs(b[both]))
        rel = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
        stat["max_abs"] = max(stat.get("max_abs", 0.0), float(diff.max()) if diff.size else 0.0)
        stat["max_rel"] = max(stat.get("max_rel", 0.0), float(rel.max()) if rel.size else 0.0)
        stat["null_mismatches"] = stat.get("null_mismatches", 0) + nulls
        if stat["null_mismatches"] or stat["max_rel"] > RELATIVE_TOLERANCE:
            stat["verdict"] = "different"
        return
    equal = pc.equal(left.cast(pa.string()), right.cast(pa.string()))
    differing = int(pc.sum(pc.invert(pc.fill_null(equal, False))).as_py() or 0)
    differing -= int(pc.sum(pc.and_(left.is_null(), right.is_null())).as_py() or 0)
    if differing:
        stat["verdict"] = "different"
        stat["rows"] = stat.get("rows", 0) + differing


def _aligned(left: Any, right: Any):
    """Pairs of equally long slices of two streams of record batches."""
    lb = rb = None
    left, right = iter(left), iter(right)
    while True:
        lb = lb if lb is not None and lb.num_rows else next(left, None)
        rb = rb if rb is not None and rb.num_rows else next(right, None)
        if lb is None or rb is None:
            return
        n = min(lb.num_rows, rb.num_rows)
        yield lb.slice(0, n), rb.slice(0, n)
        lb, rb = lb.slice(n), rb.slice(n)


def _engine_name(settings: Any) -> str:
    """``legacy`` in compatibility mode (1.x names and formulas), else the flags' engine."""
    return "legacy" if settings.flags.feature_compatibility_mode else default_engine_name(settings)


def _train_table(record: LegacyDataset) -> str:
    return record.tables.get("train") or record.tables.get("data") or next(iter(record.tables.values()))


def _why(record: LegacyDataset, source: str, table: str) -> str:
    total = record.row_counts.get(source, 0)
    if table in record.incomplete_features:
        return f"partial in 1.x: {record.row_counts.get(table, 0):,} of {total:,} rows"
    if table in record.complete_feature_tables.values():
        return "complete in 1.x: regenerated to verify"
    if table in record.row_counts:
        return "missing from the YAML"
    return "absent"


def _fit_note(source: str, train: str, rows: int, batch_size: int) -> dict[str, Any]:
    """How 1.x computed this table's statistics (``chunks``: 1 or how many) and, where
    the engine cannot reproduce them, why (``note``)."""
    chunks = -(-rows // batch_size) if rows > batch_size else 1
    why = []
    if chunks > 1:
        why.append(f"1.x computed statistics per chunk of {batch_size:,} rows (each chunk its own mean, quantiles, "
                   "frequencies, Box-Cox lambda)")
    if source != train:
        why.append(f"1.x fitted statistics on {source} itself, the engine on {train} (applied unchanged to {source})")
    return {"chunks": chunks, **({"note": "; ".join(why) + ": such values differ."} if why else {})}


def _fit_context(store: Any, record: LegacyDataset | None, train: str) -> FitContext:
    if record is None:
        raise MigrationError("The MDM 1.x dataset is no longer in this home.")
    return FitContext(
        table=train,
        columns=tuple(SourceColumn(f.name, column_info(record, f).type) for f in store.table_schema(train)),
        target_column=record.target_column, id_columns=tuple(record.id_columns), row_count=store.row_count(train),
    )


def _copy(store: Any, table: str, target: str, batch_size: int) -> None:
    """Copy ``table`` to ``target`` (one transaction: all of it or nothing)."""
    store.write_table(target, store.table_schema(table), store.read_table(table, batch_size=batch_size), replace=True)


def _carry_custom_file(ctx: StepContext, name: str) -> None:
    """Copy the dataset's 1.x custom-feature file where the new layout looks for it
    (nothing when both are the same file); a different file there is backed up first."""
    source = dataset_file(load_settings_1x(ctx.home).custom_features_dir, name)
    target = dataset_file(ctx.settings.custom_features_dir, name)
    if not source.is_file() or (target.exists() and target.resolve() == source.resolve()):
        return
    if target.is_file():
        if target.read_bytes() == source.read_bytes():
            return
        ctx.backup_file(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
