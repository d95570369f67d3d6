"""``mdm dataset repair``: a dataset's ``dataset.yaml`` rebuilt from its store.

When the metadata of a new-layout dataset is unreadable (or gone while its store is
still in the dataset folder), the tables, their columns with Arrow types and detected
kinds (detected on a sample, as registration does) and their row counts are read from
the store; fields still legible in the damaged file (backend, store key, target,
description, ...) are kept. The damaged file is kept beside it as
``dataset.yaml.corrupt-<UTC timestamp>``. Nothing else changes; the store is only read.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import yaml

from mdm_core.datasets.catalog import METADATA_FILE, Catalog
from mdm_core.datasets.models import ColumnInfo, DatasetInfo, TableInfo, normalize_name
from mdm_core.errors import DatasetError, MDMError
from mdm_core.storage import StorageBackend, Store, StoreRef

#: Top-level fields of ``dataset.yaml`` taken over from a damaged file when legible.
SALVAGED = ("display_name", "backend", "registered_at", "description", "target_column", "problem_type",
            "id_columns", "time_column", "group_column", "tags", "source", "last_updated_at", "feature_engine")
FEATURES_SUFFIX = "_features"
_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_]+):(?P<value>.*)$")


@attrs.frozen
class RepairResult:
    """The rebuilt metadata, and where the damaged file was kept (None: there was none)."""

    info: DatasetInfo
    kept: Path | None


def repair_dataset(settings: Any, name: str) -> RepairResult:
    """Rebuild the metadata of dataset ``name`` from its store, under its lock.
    DatasetError (one sentence) when its metadata is fine, or no store is found."""
    from mdm_core.datasets.locks import dataset_lock

    name = normalize_name(name)
    catalog = Catalog(settings)
    folder = catalog.folder(name)
    path = folder / METADATA_FILE
    with dataset_lock(catalog.root, name, "repair"):
        if path.is_file():
            try:
                catalog.load(name)
            except MDMError:
                pass
            else:
                raise DatasetError(f"The metadata of dataset '{name}' is readable; there is nothing to repair.")
        hints = salvage(path.read_text(encoding="utf-8", errors="replace")) if path.is_file() else {}
        found = _find_store(settings, folder, name, hints)
        if found is None:
            raise DatasetError(
                f"Dataset '{name}' cannot be repaired: its metadata is unreadable and no store was found for it "
                f"in {folder}; delete that folder and register the dataset again, or restore it from a backup "
                f"(mdm restore ARCHIVE {name}).")
        backend, ref = found
        with backend.open_store(ref, read_only=True) as store:
            tables = tables_from_store(store, hints.get("id_columns") or None, hints.get("target_column"))
        info = _metadata(name, hints, backend, ref, tables)
        kept = None
        if path.is_file():
            kept = path.with_name(f"{METADATA_FILE}.corrupt-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}")
            os.replace(path, kept)
        catalog.save(info)
    return RepairResult(info, kept)


def salvaged_info(name: str, path: Path, problem: str) -> DatasetInfo:
    """The ``broken`` record of dataset ``name`` whose metadata file ``path`` is
    unreadable: display name, backend, store, registration time, description and target
    where :func:`salvage` finds them legible, no tables, ``problem`` as its only problem."""
    hints = salvage(path.read_text(encoding="utf-8", errors="replace")) if path.is_file() else {}

    def text(key: str, default: str | None) -> str | None:
        value = hints.get(key)
        return str(value) if isinstance(value, str | int | float) else default

    store = hints.get("store") if isinstance(hints.get("store"), dict) else {}
    return DatasetInfo(
        name=name, display_name=text("display_name", name) or name, backend=text("backend", "unknown") or "unknown",
        tables=[], registered_at=text("registered_at", "") or "", description=text("description", "") or "",
        target_column=text("target_column", None), store=dict(store), status="broken", problems=[problem],
    )


def find_broken_store(settings: Any, folder: Path, name: str) -> tuple[StorageBackend, StoreRef] | None:
    """The store of the dataset in ``folder`` whose metadata is unreadable, as
    :func:`repair_dataset` finds it (where the damaged file says, else a file engine's
    store file in the folder), or None. When the damaged file names a server backend,
    only that server is asked, and failing to reach it raises (a store that may exist is
    never given up for lost)."""
    from mdm_core.backends import backend_at
    from mdm_core.migration.readiness import SERVER_BACKENDS

    path = folder / METADATA_FILE
    hints = salvage(path.read_text(encoding="utf-8", errors="replace")) if path.is_file() else {}
    if hints.get("backend") in SERVER_BACKENDS:
        store = hints.get("store") if isinstance(hints.get("store"), dict) else {}
        backend = backend_at(hints["backend"], store, settings)
        ref = StoreRef(str(store.get("key") or name), folder)
        return (backend, ref) if backend.store_exists(ref) else None
    return _find_store(settings, folder, name, hints)


def salvage(text: str) -> dict[str, Any]:
    """The fields of :data:`SALVAGED` and the ``store`` mapping that a damaged
    ``dataset.yaml`` still states legibly, one line at a time (lists: ``[a, b]`` form or
    ``- item`` lines under the key)."""
    found: dict[str, Any] = {}
    block: str | None = None
    for line in text.splitlines():
        match = _LINE.match(line)
        stripped = line.strip()
        if block and line.startswith(" ") and match and block == "store":
            value = _scalar(match["value"])
            if value is not _BAD:
                found.setdefault("store", {})[match["key"]] = value
            continue
        if block and block != "store" and stripped.startswith("- ") and not line.startswith(" "):
            value = _scalar(stripped[2:])
            if value is not _BAD and isinstance(found.get(block), list):
                found[block].append(value)
            continue
        block = None
        if not match or match["indent"]:
            continue
        key, raw = match["key"], match["value"].strip()
        if key == "store" and not raw:
            block = "store"
        elif key in SALVAGED:
            value = _scalar(raw) if raw else []
            if value is not _BAD:
                found[key] = value
                block = key if isinstance(value, list) else None
    return found


_BAD = object()


def _scalar(raw: str) -> Any:
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        return _BAD
    return value if isinstance(value, str | int | float | bool | list) or value is None else _BAD


def _find_store(settings: Any, folder: Path, name: str, hints: dict[str, Any]) -> tuple[StorageBackend, StoreRef] | None:
    """The backend and reference of the dataset's store: where the damaged file says it
    is, else the first file engine whose store file is in the folder."""
    from mdm_core.backends import backend_at
    from mdm_core.migration.readiness import SERVER_BACKENDS
    from mdm_core.plugins import get_plugin_manager

    store = hints.get("store") if isinstance(hints.get("store"), dict) else {}
    ref = StoreRef(str(store.get("key") or name), folder)
    named = hints.get("backend")
    candidates = [named] if isinstance(named, str) else []
    candidates += sorted({impl.name for _, impl in get_plugin_manager().implementations("storage")
                          if impl.generation == "new" and impl.name not in SERVER_BACKENDS} - set(candidates))
    for backend_name in candidates:
        try:
            backend = backend_at(backend_name, store, settings)
            if backend.store_exists(ref):
                return backend, ref
        except MDMError:
            continue
    return None


def tables_from_store(store: Store, id_columns: list[str] | None = None, target: str | None = None) -> list[TableInfo]:
    """Every table of ``store`` as metadata: columns with Arrow types and kinds detected on
    a sample as registration detects them (ID columns: ``id_columns`` or detected in the
    first table), row counts as stored. ``<table>_features`` of an existing ``<table>`` is
    a feature table."""
    from mdm_core.datasets.detection import SAMPLE_ROWS, column_kinds, id_columns_of
    from mdm_core.storage import head_rows

    names = store.list_tables()
    tables = []
    for table in names:
        schema = store.table_schema(table)
        sample = head_rows(store.read_table(table, limit=SAMPLE_ROWS), SAMPLE_ROWS, schema)
        if id_columns is None:
            id_columns = id_columns_of([], sample, target, {})
        kinds = column_kinds(sample, id_columns, {})
        is_features = table.endswith(FEATURES_SUFFIX) and table[: -len(FEATURES_SUFFIX)] in names
        tables.append(TableInfo(
            name=table, kind="features" if is_features else "data", row_count=store.row_count(table),
            columns=[ColumnInfo(f.name, kinds[f.name], str(f.type)) for f in schema]))
    return tables


def _metadata(name: str, hints: dict[str, Any], backend: StorageBackend, ref: StoreRef,
              tables: list[TableInfo]) -> DatasetInfo:
    fields = {k: v for k, v in hints.items() if k in SALVAGED and k != "backend"}
    for key in ("id_columns", "tags"):
        if not isinstance(fields.get(key, []), list):
            fields.pop(key)
    fields = {k: (v if k in ("id_columns", "tags") or v is None else str(v)) for k, v in fields.items()}
    fields.setdefault("display_name", name)
    fields.setdefault("registered_at", datetime.now(UTC).isoformat())
    if not fields.get("id_columns"):
        main = next((t for t in tables if t.kind == "data"), None)
        fields["id_columns"] = [c.name for c in main.columns if c.type == "id"] if main else []
    return DatasetInfo(name=name, backend=backend.name, tables=tables, store={"key": ref.key, **backend.describe(ref)},
                       **fields)
