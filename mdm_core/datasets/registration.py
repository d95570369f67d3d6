"""Registration: source files -> a dataset store + metadata, all or nothing.

Everything is built in a staging folder/store; only when every table (and the features)
is written is the store moved into place and ``dataset.yaml`` written. Any failure,
including Ctrl-C, removes the staging work, so no dataset, folder or catalog entry is
left behind. ``force`` replaces an existing dataset only after the new one is complete.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pyarrow as pa

from mdm_core.config.settings import Settings
from mdm_core.datasets.catalog import Catalog
from mdm_core.datasets.detection import (
    SAMPLE_ROWS,
    TargetStats,
    column_kinds,
    id_columns_of,
    is_id_name,
    parse_type_overrides,
)
from mdm_core.datasets.discovery import Discovered, SourceTable, discover
from mdm_core.datasets.models import (
    ColumnInfo,
    DatasetInfo,
    TableInfo,
    normalize_name,
    normalize_problem_type,
)
from mdm_core.datasets.readers import SourceReader
from mdm_core.datasets.training_fit import TrainingFitTap
from mdm_core.errors import DatasetError, MDMError, StorageError
from mdm_core.features.runner import generate_features
from mdm_core.logging import get_logger
from mdm_core.progress import RowProgress, row_progress
from mdm_core.storage import StorageBackend, Store, StoreRef, get_backend

log = get_logger(__name__)



@attrs.frozen
class RegistrationRequest:
    """What the user asked for; ``path`` is kept as typed for the ``source`` field."""

    name: str
    path: str
    target: str | None = None
    problem_type: str | None = None
    id_columns: tuple[str, ...] = ()
    time_column: str | None = None
    group_column: str | None = None
    description: str = ""
    tags: tuple[str, ...] = ()
    type_overrides: tuple[str, ...] = ()
    backend: str | None = None
    generate_features: bool = True
    force: bool = False


@attrs.define
class _IngestResult:
    table: TableInfo
    sample: pa.Table
    target_stats: TargetStats | None


def register(settings: Settings, request: RegistrationRequest) -> DatasetInfo:
    """Register ``request`` and return the stored metadata; DatasetError on bad input."""
    name = normalize_name(request.name)
    catalog = Catalog(settings)
    if catalog.exists(name) and not request.force:
        raise DatasetError(f"Dataset '{name}' already exists; use --force to replace it.")
    problem_type = normalize_problem_type(request.problem_type)
    overrides = parse_type_overrides(request.type_overrides)
    discovered = discover(Path(request.path).expanduser())
    batch_size = settings.performance.batch_size
    readers = {t.name: SourceReader(t.path, batch_size) for t in discovered.tables}
    main_table = _main_table(discovered)
    target = request.target or _kaggle_target(discovered, readers)
    main_columns = readers[main_table].column_names()
    for label, column in (("target", target), ("time", request.time_column), ("group", request.group_column)):
        _require_column(label, column, main_table, main_columns)
    for column in request.id_columns:
        _require_column("ID", column, main_table, main_columns)
    backend_name = request.backend or settings.database.default_backend
    backend = get_backend(backend_name, settings)

    reclaim_abandoned(catalog, settings)
    staging_folder, staging_ref = catalog.new_staging(name, backend_name)
    features = request.generate_features and settings.feature_engineering.enabled
    tap = TrainingFitTap(settings, main_table, target, request.id_columns, overrides, backend) if features else None
    try:
        with backend.create_store(staging_ref) as store:
            results = {
                t.name: _ingest(store, t, readers[t.name], *((target, tap) if t.name == main_table else (None, None)))
                for t in discovered.tables
            }
            info = _describe(name, request, discovered, results, main_table, target, overrides, problem_type, backend_name)
            if tap is not None:
                fitted = tap.finish()
                feature_tables = generate_features(store, info, settings, fitted=fitted, train_batches=tap.kept)
                info.tables.extend(feature_tables)
        _commit(catalog, backend, staging_ref, info, settings)
    except BaseException:
        if tap is not None:
            tap.cancel()
        backend.drop_store(staging_ref)
        catalog.discard_staging(staging_folder)
        raise
    catalog.discard_staging(staging_folder)
    log.info("registered dataset", dataset=name, backend=backend_name, tables=[t.name for t in info.tables])
    return info


def reclaim_abandoned(catalog: Catalog, settings: Settings) -> None:
    """Clean up after registrations that were killed: a new dataset's staging store is
    dropped; a dataset set aside by ``--force`` is put back if nothing replaced it."""
    for folder, owner, ref in catalog.abandoned_staging():
        backend_name = owner.get("backend")
        replaced = owner.get("replaces")
        try:
            backend = get_backend(backend_name, settings) if backend_name else None
            if backend is not None and replaced and not catalog.exists(replaced):
                old = catalog.load(replaced, folder)
                _restore(catalog, _Aside(old, backend, ref))
                log.warning("restored a dataset set aside by an interrupted --force", dataset=replaced)
                continue
            if backend is not None:
                backend.drop_store(ref)
        except MDMError as exc:
            log.warning("could not clean abandoned staging work", folder=str(folder), error=str(exc))
            continue
        log.info("removed abandoned staging work", folder=str(folder))
        catalog.discard_staging(folder)


def _main_table(discovered: Discovered) -> str:
    names = [t.name for t in discovered.tables]
    for candidate in ("train", "data"):
        if candidate in names:
            return candidate
    return names[0]


def _kaggle_target(discovered: Discovered, readers: dict[str, SourceReader]) -> str | None:
    """Kaggle convention: the target is the last non-ID column of ``sample_submission``."""
    if discovered.structure != "kaggle" or "sample_submission" not in readers:
        return None
    columns = readers["sample_submission"].column_names()
    candidates = [c for c in columns if not is_id_name(c)] or columns[1:]
    return candidates[-1] if candidates else None


def _require_column(label: str, column: str | None, table: str, columns: Sequence[str]) -> None:
    if column is not None and column not in columns:
        shown = ", ".join(repr(c) for c in columns[:30]) + (" ..." if len(columns) > 30 else "")
        raise DatasetError(f"{label.capitalize()} column '{column}' is not in table '{table}' (columns: {shown}).")


def _ingest(
    store: Store, source: SourceTable, reader: SourceReader, target: str | None, tap: TrainingFitTap | None = None
) -> _IngestResult:
    """Stream one file into table ``source.name`` (every batch also goes to ``tap``); on a
    late type surprise in a CSV, widen that column and write the table again."""
    while True:
        try:
            return _ingest_once(store, source, reader.open(), target, tap)
        except pa.ArrowInvalid as exc:
            if tap is not None:
                tap.reset()
            if reader.widen_for(exc):
                log.info("widening column after a late conversion error", file=source.path.name, error=str(exc))
                continue
            raise DatasetError(f"{source.path.name}: {exc}") from None


def _ingest_once(
    store: Store, source: SourceTable, stream: pa.RecordBatchReader, target: str | None, tap: TrainingFitTap | None
) -> _IngestResult:
    """One pass: write every batch, keeping a sample for detection and target statistics."""
    sample: list[pa.RecordBatch] = []
    sampled = 0
    stats = TargetStats() if target else None
    target_index = stream.schema.get_field_index(target) if target else -1

    def batches(progress: RowProgress) -> Iterator[pa.RecordBatch]:
        nonlocal sampled
        for batch in stream:
            if sampled < SAMPLE_ROWS:
                sample.append(batch.slice(0, SAMPLE_ROWS - sampled))
                sampled += min(batch.num_rows, SAMPLE_ROWS - sampled)
            if stats is not None:
                stats.update(batch.column(target_index))
            if tap is not None:
                tap.feed(batch)
                if sampled >= SAMPLE_ROWS:
                    tap.sample_complete()
            progress.advance(batch.num_rows)
            yield batch

    with row_progress(f"{source.name} <- {source.path.name}") as progress:
        rows = store.write_table(source.name, stream.schema, batches(progress), replace=True)
    table = TableInfo(name=source.name, kind="data", row_count=rows, source=source.path.name)
    return _IngestResult(table, pa.Table.from_batches(sample, schema=stream.schema), stats)


def _describe(
    name: str,
    request: RegistrationRequest,
    discovered: Discovered,
    results: dict[str, _IngestResult],
    main_table: str,
    target: str | None,
    overrides: dict[str, str],
    problem_type: str | None,
    backend_name: str,
) -> DatasetInfo:
    all_columns = {c for r in results.values() for c in r.sample.column_names}
    unknown = [c for c in overrides if c not in all_columns]
    if unknown:
        raise DatasetError(f"--type names unknown column(s): {', '.join(map(repr, unknown))}.")
    main = results[main_table]
    id_columns = id_columns_of(request.id_columns, main.sample, target, overrides)
    for result in results.values():
        kinds = column_kinds(result.sample, id_columns, overrides)
        for column in result.sample.column_names:
            arrow_type = str(result.sample.schema.field(column).type)
            result.table.columns.append(ColumnInfo(column, kinds[column], arrow_type))
    if problem_type is None and target is not None and main.target_stats is not None:
        problem_type = main.target_stats.problem_type()
    return DatasetInfo(
        name=name,
        display_name=request.name.strip(),
        backend=backend_name,
        tables=[results[t.name].table for t in discovered.tables],
        registered_at=datetime.now(UTC).isoformat(),
        description=request.description or "",
        target_column=target,
        problem_type=problem_type,
        id_columns=id_columns,
        time_column=request.time_column,
        group_column=request.group_column,
        tags=[t.strip() for t in request.tags if t.strip()],
        source=str(request.path),
    )


def _commit(catalog: Catalog, backend: StorageBackend, staging_ref: StoreRef, info: DatasetInfo, settings: Settings) -> None:
    """Move the finished store into place and write its metadata; an existing dataset of
    the same name (``force``) is set aside first and restored if anything fails."""
    final_ref = catalog.new_store_ref(info.name)
    aside = _set_aside(catalog, info.name, settings) if catalog.exists(info.name) else None
    try:
        final_ref.folder.mkdir(parents=True, exist_ok=True)
        backend.move_store(staging_ref, final_ref)
        info.store = {"key": final_ref.key, **backend.describe(final_ref)}
        catalog.save(info)
    except BaseException:
        backend.drop_store(final_ref)
        if aside is not None:
            _restore(catalog, aside)
        raise
    if aside is not None:
        aside.backend.drop_store(aside.ref)
        catalog.discard_staging(aside.ref.folder)


@attrs.frozen
class _Aside:
    info: DatasetInfo
    backend: StorageBackend
    ref: StoreRef


def _set_aside(catalog: Catalog, name: str, settings: Settings) -> _Aside:
    old = catalog.load(name)
    old_backend = get_backend(old.backend, settings)
    folder, aside_ref = catalog.new_staging(name, old.backend, replaces=old)
    try:
        old_backend.move_store(catalog.store_ref(old), aside_ref)
    except StorageError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    catalog.remove_folder(name)
    return _Aside(old, old_backend, aside_ref)


def _restore(catalog: Catalog, aside: _Aside) -> None:
    """Put a dataset set aside by ``_set_aside`` back where it was, metadata last."""
    final_ref = catalog.store_ref(aside.info)
    catalog.remove_folder(aside.info.name)
    final_ref.folder.mkdir(parents=True, exist_ok=True)
    aside.backend.move_store(aside.ref, final_ref)
    catalog.save(aside.info)
    catalog.discard_staging(aside.ref.folder)
