"""Verification of the ``move-store`` step's units (:mod:`mdm_core.migration.move_store`).

Each check returns one line per mismatch (none: verified) and only reads. A table's
source is read again from the old store while it exists; once ``mdm-migrate cleanup``
dropped it, what the run recorded of the source stands in for it.
"""

from __future__ import annotations

from mdm_core.backends import backend_at
from mdm_core.datasets.catalog import open_catalog
from mdm_core.migration.step import StepContext, Unit, UnitResult
from mdm_core.storage import StoreRef


def check_table(ctx: StepContext, unit: Unit, result: UnitResult, *, deep: bool) -> list[str]:
    """The new store's table has the source's row count and, with ``deep``, its content
    checksum (the source's recomputed through the target engine's ``as_stored``)."""
    data, table = unit.data, str(unit.table)
    folder = open_catalog(ctx.settings).folder(str(unit.dataset))
    target_backend = backend_at(data["to"], result.created.get("location") or {}, ctx.settings)
    with target_backend.open_store(StoreRef(data["key"], folder), read_only=True) as target:
        rows, checksum = target.row_count(table), (target.checksum(table) if deep else None)
    source_backend = backend_at(data["from"], data["old_store"], ctx.settings)
    source_ref = StoreRef(data["old_store"].get("key", unit.dataset), folder)
    if source_backend.store_exists(source_ref):
        with source_backend.open_store(source_ref, read_only=True) as source:
            expected_rows = source.row_count(table)
            expected = _as_stored_checksum(source, table, target_backend, ctx.settings.performance.batch_size) if deep else None
    else:
        expected_rows, expected = result.rows_read, result.checksum_source
    problems = []
    if rows != expected_rows:
        problems.append(f"{unit.id}: {rows} rows in the new store, {expected_rows} in the source")
    if deep and checksum != expected:
        problems.append(f"{unit.id}: content checksum {checksum} in the new store, {expected} from the source")
    return problems


def check_catalog(ctx: StepContext, unit: Unit) -> list[str]:
    """The catalog serves the dataset from the new store, and every table it lists has
    the row count it records there."""
    data = unit.data
    catalog = open_catalog(ctx.settings)
    info = catalog.load(str(unit.dataset))
    if (info.backend, info.store.get("key")) != (data["to"], data["key"]):
        return [f"{unit.id}: the catalog points to {info.backend} store {info.store.get('key')}, "
                f"not {data['to']} store {data['key']}"]
    backend = backend_at(info.backend, info.store, ctx.settings)
    with backend.open_store(catalog.store_ref(info), read_only=True) as store:
        present = set(store.list_tables())
        counts = {t.name: store.row_count(t.name) for t in info.tables if t.name in present}
    return [
        f"{unit.id}: table {t.name} has {counts[t.name]} rows in the new store, {t.row_count} in the catalog"
        if t.name in counts else f"{unit.id}: table {t.name} is missing from the new store"
        for t in info.tables if counts.get(t.name) != t.row_count
    ]


def _as_stored_checksum(source, table: str, target_backend, batch_size: int) -> str:
    """The checksum of ``table`` of ``source`` as the target engine keeps it."""
    from mdm_core.checksum import ContentChecksum

    as_stored = getattr(target_backend, "as_stored", None)
    checksum = ContentChecksum()
    for batch in source.read_table(table, batch_size=batch_size):
        checksum.add(as_stored(batch) if as_stored is not None else batch)
    return checksum.hexdigest()
