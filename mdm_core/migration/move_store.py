"""The built-in ``move-store`` step: a new-layout dataset moved to another storage engine.

``mdm-migrate run --phase storage --to duckdb --datasets flights`` is the storage phase
with another target, run by the same orchestrator with the same journal, verification and
rollback. For every new-layout dataset (``format_version`` 2) not yet on ``--to`` the plan
has one unit per table, ``<name>/<table>-><to>``, then ``<name>/catalog-><to>``:

- a table unit copies the table from the dataset's current store (read-only) into a new
  store of the target engine, under a key derived from the home, the name and the old key
  (so a resumed run finds its half-built store), with :func:`copy_table`; it verifies row
  counts and content checksums (the source's recomputed as the target engine stores it);
  rollback drops the table, and the new store once empty; never the old store.
- the catalog unit, once every table unit of the dataset is done, saves ``dataset.yaml``
  (the orchestrator restores it byte for byte on rollback) and points it at the new store,
  nothing else changed; it verifies that the catalog serves the dataset from the new store
  with the recorded row counts. ``cleanup`` (after a verified run) drops the old store.

Until the catalog unit is done every reader keeps using the old store, untouched.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mdm_core.datasets.catalog import METADATA_FILE, Catalog, open_catalog
from mdm_core.datasets.journal import KEY_NAME_CHARS
from mdm_core.datasets.models import DatasetInfo, TableInfo, dataset_to_dict, normalize_name
from mdm_core.errors import DatasetError, MigrationError
from mdm_core.migration.journal import migration_dir
from mdm_core.migration.step import Skipped, StepCheck, StepContext, StepPlan, Unit, UnitResult

STEP = "move-store"
CATALOG = "catalog"


class MoveStore:
    """The step (see the module doc); stateless, everything lives in units and results."""

    name = STEP
    phase = "storage"

    # -- planning ------------------------------------------------------------------------
    def plan(self, ctx: StepContext) -> StepPlan:
        """Units for every wanted new-layout dataset not on ``ctx.options.to``; reads only.

        The fingerprint covers the metadata of every dataset this migration moves, without
        the two fields the move itself rewrites (``backend``, ``store``), so it stays the
        same while the run moves them and changes when anything else does."""
        to = ctx.options.to
        if to is None:
            return StepPlan("no --to: no dataset changes engine")
        check_backend(to)
        catalog = open_catalog(ctx.settings)
        known = catalog.names()
        wanted, skipped = _wanted(ctx.options.datasets, known)
        units: list[Unit] = []
        notes: list[str] = []
        material: list[Any] = []
        details: dict[str, Any] = {}
        space = 0
        done = ctx.results.get(STEP, {})
        for name in wanted:
            try:
                info = catalog.load(name)
            except DatasetError as exc:
                skipped.append(Skipped(name, str(exc)))
                continue
            if info.legacy:  # the legacy plugin's storage step moves these
                continue
            move = _move_of(ctx, info, to)
            if move is None:
                notes.append(f"{name}: already on {to}")
                continue
            earlier = _earlier_move(done, name, move)
            if earlier:
                skipped.append(Skipped(name, f"moved to {earlier} earlier in this migration; run `mdm-migrate cleanup` "
                                             "(or `rollback`) before moving it again"))
                continue
            material.append([name, _without_location(info)])
            if unit_id(name, CATALOG, to) in done:
                notes.append(f"{name}: moved from {move['from']} to {to} by this migration (`mdm-migrate cleanup` drops "
                             "the old store)")
                continue
            tables = movable(info)
            skipped.extend(Skipped(f"{name}/{t}", "incomplete feature table: left for the features phase", blocking=False)
                           for t in info.incomplete_tables)
            units.extend(Unit(unit_id(name, t.name, to), dataset=name, table=t.name, rows=t.row_count,
                              detail=f"{move['from']} -> {to}", data=move) for t in tables)
            units.append(Unit(unit_id(name, CATALOG, to), dataset=name, detail=f"{move['from']} -> {to}", data=move))
            details[name] = {"from": move["from"], "to": to, "tables": len(tables), "rows": sum(t.row_count for t in tables)}
            space += int(move["old_store"].get("size_bytes") or 0)
        moving = len(details)
        return StepPlan(
            f"move {moving} dataset{'s' if moving != 1 else ''} to {to}", tuple(units), tuple(skipped), tuple(notes),
            details={"to": to, "datasets": details}, space_bytes=space,
            fingerprint=hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest(),
        )

    # -- applying ------------------------------------------------------------------------
    def apply(self, ctx: StepContext, unit: Unit) -> UnitResult:
        """Copy one table into the new store, or point the catalog at it (see the module doc)."""
        from mdm_core.datasets.locks import dataset_lock

        with dataset_lock(ctx.settings.datasets_dir, str(unit.dataset), "move"):
            if unit.table is None:
                return _repoint_catalog(ctx, unit)
            return _copy(ctx, unit)

    def verify(self, ctx: StepContext, unit: Unit, result: UnitResult, *, deep: bool = True) -> StepCheck:
        """Table: the new store's row count (and with ``deep`` its checksum) equals the
        source's, read again; once ``cleanup`` dropped the old store, equals what the run
        recorded of it. Catalog: the catalog serves the dataset from the new store with
        the row counts it records."""
        from mdm_core.migration.move_checks import check_catalog, check_table

        problems = check_catalog(ctx, unit) if unit.table is None else check_table(ctx, unit, result, deep=deep)
        return StepCheck(not problems, tuple(problems))

    def rollback(self, ctx: StepContext, unit: Unit, result: UnitResult | None) -> None:
        """Table: drop it from the new store (and the store once empty, and any store an
        interrupted attempt left half-created). Catalog: nothing; the orchestrator puts
        ``dataset.yaml`` back byte for byte."""
        if unit.table is None:
            return
        from mdm_core.migration.copy import staging_ref
        from mdm_core.storage import StoreRef

        backend = _target_backend(ctx, unit, result)
        ref = StoreRef(unit.data["key"], open_catalog(ctx.settings).folder(str(unit.dataset)))
        backend.drop_store(staging_ref(ref, staging_folder(ctx)))
        if not backend.store_exists(ref):
            return
        with backend.open_store(ref, read_only=False) as store:
            store.drop_table(unit.table)
            empty = not store.list_tables()
        if empty:
            backend.drop_store(ref)

    def cleanup(self, ctx: StepContext, unit: Unit, result: UnitResult) -> list[str]:
        """After a verified run: the catalog unit drops the dataset's old store; returns
        one line naming it (nothing for table units)."""
        if unit.table is not None:
            return []
        from mdm_core.backends import backend_at
        from mdm_core.storage import StoreRef

        data = unit.data
        old = backend_at(data["from"], data["old_store"], ctx.settings)
        ref = StoreRef(data["old_store"].get("key", unit.dataset), open_catalog(ctx.settings).folder(str(unit.dataset)))
        where = old.describe(ref)
        old.drop_store(ref)
        return [f"{unit.dataset}: the old {data['from']} store ({where.get('schema') or where.get('file') or ref.key})"]


def check_backend(name: str) -> None:
    """MigrationError naming the installed backends unless ``name`` is one."""
    from mdm_core.plugins import get_plugin_manager

    installed = sorted({impl.name for _, impl in get_plugin_manager().implementations("storage")})
    if name not in installed:
        raise MigrationError(f"Unknown backend '{name}' for --to (installed: {', '.join(installed) or 'none'}).")


def unit_id(dataset: str, table: str, to: str) -> str:
    return f"{dataset}/{table}->{to}"


def new_key(ctx: StepContext, name: str, old_key: str, to: str) -> str:
    """The new store's key: the same for every attempt of one move (a resumed run finds
    its half-built store), another for every home, dataset and source store."""
    digest = hashlib.sha256(f"{ctx.home}{name}{old_key}".encode()).hexdigest()[:6]
    return f"{name[:KEY_NAME_CHARS]}_{to[:2]}{digest}"


def movable(info: DatasetInfo) -> list[TableInfo]:
    """The tables a move copies: all but incomplete feature tables."""
    return [t for t in info.tables if t.name not in info.incomplete_tables]


def staging_folder(ctx: StepContext) -> Path:
    """Where new stores are built before they move into their dataset folder."""
    return migration_dir(ctx.home) / "staging"


def _wanted(requested: Sequence[str], known: list[str]) -> tuple[list[str], list[Skipped]]:
    """The datasets to consider (all when none were named) and the named ones that do not exist."""
    names, skipped = [], []
    for raw in requested:
        try:
            name = normalize_name(raw)
        except DatasetError as exc:
            skipped.append(Skipped(raw, str(exc)))
            continue
        if name in known:
            names.append(name)
        else:
            skipped.append(Skipped(raw, f"no dataset '{raw}' (known: {', '.join(known) or 'none registered'})"))
    return (names if requested else known), skipped


def _move_of(ctx: StepContext, info: DatasetInfo, to: str) -> dict[str, Any] | None:
    """The move of ``info`` to ``to`` (the units' data), or None when it is already there
    and this migration did not put it there (a move whose catalog unit was interrupted
    after rewriting the metadata is found again from its done table units)."""
    if info.backend != to:
        old_key = info.store.get("key", info.name)
        return {"from": info.backend, "to": to, "key": new_key(ctx, info.name, old_key, to), "old_store": dict(info.store)}
    for result in ctx.results.get(STEP, {}).values():
        move = result.created.get("move") or {}
        if result.created.get("dataset") == info.name and move.get("to") == to and move.get("key") == info.store.get("key"):
            return dict(move)
    return None


def _earlier_move(done: Mapping[str, UnitResult], name: str, move: Mapping[str, Any]) -> str | None:
    """The target of another move of ``name`` this migration already did (a second move
    before cleanup could land on the first one's old store), else None."""
    for result in done.values():
        other = result.created.get("move") or {}
        if result.created.get("dataset") == name and other.get("key") != move["key"]:
            return str(other.get("to"))
    return None


def _without_location(info: DatasetInfo) -> dict[str, Any]:
    data = dataset_to_dict(info)
    data.pop("backend", None)
    data.pop("store", None)
    return data


def _copy(ctx: StepContext, unit: Unit) -> UnitResult:
    from mdm_core.backends import backend_at, get_backend
    from mdm_core.migration.copy import copy_table, open_target_store
    from mdm_core.storage import StoreRef

    data = unit.data
    catalog = open_catalog(ctx.settings)
    info = _source_info(catalog, unit)
    source_backend = backend_at(info.backend, info.store, ctx.settings)
    target_backend = get_backend(data["to"], ctx.settings)
    ref = StoreRef(data["key"], catalog.folder(info.name))
    with source_backend.open_store(catalog.store_ref(info), read_only=True) as source, \
            open_target_store(target_backend, ref, staging_folder=staging_folder(ctx)) as target:
        copied = copy_table(source, str(unit.table), target, target_backend,
                            batch_size=ctx.settings.performance.batch_size,
                            memory_budget_mb=ctx.settings.performance.memory_budget_mb, progress=ctx.progress)
    return UnitResult(
        copied.rows_read, copied.rows_written, copied.checksum_source, copied.checksum_target,
        created={"backend": data["to"], "key": data["key"], "location": target_backend.describe(ref),
                 "table": unit.table, "dataset": info.name, "move": dict(data)},
    )


def _repoint_catalog(ctx: StepContext, unit: Unit) -> UnitResult:
    from mdm_core.backends import get_backend
    from mdm_core.storage import StoreRef

    data = unit.data
    catalog = open_catalog(ctx.settings)
    info = _source_info(catalog, unit, moved_ok=True)
    done = ctx.results.get(STEP, {})
    missing = [t.name for t in movable(info) if unit_id(info.name, t.name, data["to"]) not in done]
    if missing:
        raise MigrationError(f"Not pointing '{info.name}' at its new store: tables not moved yet: {', '.join(missing)}.")
    folder = catalog.folder(info.name)
    ctx.backup_file(folder / METADATA_FILE)
    ref = StoreRef(data["key"], folder)
    info.backend = data["to"]
    info.store = {"key": ref.key, **get_backend(data["to"], ctx.settings).describe(ref)}
    path = catalog.save(info)
    return UnitResult(created={
        "metadata": str(path.relative_to(ctx.home)) if path.is_relative_to(ctx.home) else str(path),
        "old_backend": data["from"], "old_store": dict(data["old_store"]), "dataset": info.name, "move": dict(data),
    })


def _source_info(catalog: Catalog, unit: Unit, *, moved_ok: bool = False) -> DatasetInfo:
    """The dataset's metadata, still on the store the plan moves from (or, ``moved_ok``,
    already on the new one); MigrationError when it changed since the plan."""
    data = unit.data
    info = catalog.load(str(unit.dataset))
    where = (info.backend, info.store.get("key", info.name))
    if where == (data["from"], data["old_store"].get("key", info.name)) or (moved_ok and where == (data["to"], data["key"])):
        return info
    raise MigrationError(f"Dataset '{info.name}' changed since the plan (now on {where[0]} store {where[1]}); "
                         "run `mdm-migrate plan` again.")


def _target_backend(ctx: StepContext, unit: Unit, result: UnitResult | None) -> Any:
    """The target backend, reaching the server the new store was created on when known."""
    from mdm_core.backends import backend_at, get_backend

    location = (result.created.get("location") if result is not None else None) or {}
    if location:
        return backend_at(unit.data["to"], location, ctx.settings)
    return get_backend(unit.data["to"], ctx.settings)
