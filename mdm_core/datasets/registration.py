"""Registration: source files -> a dataset store + metadata, all or nothing.

Everything is built in a staging store; only when every table (and the features) is
written is the store moved into place and ``dataset.yaml`` written. Any failure,
including Ctrl-C, removes the staging work, so no dataset, folder or catalog entry is
left behind; a killed process's work is finished or undone by the next command (see
:mod:`mdm_core.datasets.handover`). ``force`` replaces an existing dataset only after
the new one is complete.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pyarrow as pa

from mdm_core.backends import get_backend
from mdm_core.config.settings import Settings
from mdm_core.datasets import journal
from mdm_core.datasets.catalog import Catalog, open_catalog
from mdm_core.datasets.detection import (
    SAMPLE_ROWS,
    TargetStats,
    column_kinds,
    id_columns_of,
    is_id_name,
)
from mdm_core.datasets.discovery import Discovered, SourceTable, discover
from mdm_core.datasets.feature_stage import TrainingFitTap, feature_job, record_features
from mdm_core.datasets.handover import (
    abandon_registration,
    commit_registration,
    recover_interrupted,
)
from mdm_core.datasets.locks import dataset_lock
from mdm_core.datasets.models import (
    ColumnInfo,
    DatasetInfo,
    TableInfo,
    normalize_name,
    normalize_problem_type,
    recorded_source,
)
from mdm_core.errors import DatasetError, OutOfMemory, StorageError
from mdm_core.features.runner import generate_features
from mdm_core.logging import get_logger
from mdm_core.memory import governed_rows, out_of_memory_message
from mdm_core.performance.history import dataset_outcome, recorded, registration_target
from mdm_core.progress import RowProgress, row_progress
from mdm_core.sources import SourceReader, reader_for
from mdm_core.storage import Store

log = get_logger(__name__)



@attrs.frozen
class RegistrationRequest:
    """What the user asked for; ``path`` is kept as typed for the ``source`` field;
    ``column_types`` maps columns to the kinds the user forced (checked by
    :func:`mdm_core.datasets.detection.parse_type_overrides`)."""

    name: str
    path: str
    target: str | None = None
    problem_type: str | None = None
    id_columns: tuple[str, ...] = ()
    time_column: str | None = None
    group_column: str | None = None
    description: str = ""
    tags: tuple[str, ...] = ()
    column_types: dict[str, str] = attrs.Factory(dict)
    backend: str | None = None
    generate_features: bool = True
    force: bool = False


@attrs.define
class _IngestResult:
    table: TableInfo
    sample: pa.Table
    target_stats: TargetStats | None


@attrs.define
class _MainDetection:
    """Column kinds and ID columns of the main table, detected once from its sample when
    the sample is complete (the fit starts then) and reused for the metadata."""

    request_ids: tuple[str, ...]
    target: str | None
    overrides: dict[str, str]
    tap: TrainingFitTap | None
    id_columns: list[str] = attrs.Factory(list)
    kinds: dict[str, str] = attrs.Factory(dict)

    def __call__(self, sample: pa.Table) -> None:
        self.id_columns = id_columns_of(self.request_ids, sample, self.target, self.overrides)
        self.kinds = column_kinds(sample, self.id_columns, self.overrides)
        if self.tap is not None:
            self.tap.start(self.kinds, self.id_columns)


@recorded("register", registration_target, dataset_outcome)
def register(settings: Settings, request: RegistrationRequest) -> DatasetInfo:
    """Register ``request`` and return the stored metadata; DatasetError on bad input.

    Everything that can be checked is checked before any work starts; the dataset's
    lock is held from the existence check to the commit (see
    :mod:`mdm_core.datasets.handover` for the steps and what a kill leaves)."""
    name = normalize_name(request.name)
    catalog = open_catalog(settings)
    _refuse_existing(catalog, name, request.force)
    problem_type = normalize_problem_type(request.problem_type)
    overrides = dict(request.column_types)
    discovered = discover(Path(request.path).expanduser())
    governed = {t.name: _reader(t.path, settings, overrides) for t in discovered.tables}
    readers = {name: reader for name, (reader, _) in governed.items()}
    batch_rows = {name: rows for name, (_, rows) in governed.items()}
    main_table = _main_table(discovered)
    target = request.target or _kaggle_target(discovered, readers)
    main_columns = readers[main_table].column_names()
    for label, column in (("target", target), ("time", request.time_column), ("group", request.group_column)):
        _require_column(label, column, main_table, main_columns)
    for column in request.id_columns:
        _require_column("ID", column, main_table, main_columns)
    backend_name = request.backend or settings.database.default_backend
    backend = get_backend(backend_name, settings)
    for table in discovered.tables:
        try:
            backend.check_table(table.name, readers[table.name].column_names())
        except StorageError as exc:
            raise DatasetError(f"{table.path.name}: {exc}") from None

    with dataset_lock(catalog.root, name, "register"):
        recover_interrupted(catalog, held=name)
        _refuse_existing(catalog, name, request.force)
        replaced = catalog.load_or_broken(name) if catalog.exists(name) else None
        operation = journal.begin(
            catalog.root, name, "register", backend_name,
            stage_key=f"stage_{secrets.token_hex(4)}", final_key=journal.store_key(name),
        )
        operation.location = backend.describe(operation.stage_ref)
        operation.save()
        features = request.generate_features and settings.feature_engineering.enabled
        tap = TrainingFitTap(settings, main_table, target, backend) if features else None
        main = _MainDetection(request.id_columns, target, overrides, tap)
        store_created = False
        try:
            with backend.create_store(operation.stage_ref) as store:
                store_created = True
                results = {
                    t.name: _ingest(store, t, readers[t.name], *((target, tap, main) if t.name == main_table else (None, None, None)))
                    for t in discovered.tables
                }
                info = _describe(name, request, discovered, results, main_table, main, problem_type, backend_name,
                                 recorded_source(Path(request.path), settings.home))
                if tap is not None:
                    fitted = tap.finish()
                    result = generate_features(
                        store, feature_job(info, tap.context), settings, fitted=fitted, train_batches=tap.kept,
                        max_columns=backend.capabilities.max_columns,
                    )
                    record_features(info, result)
        except BaseException as exc:
            if tap is not None:
                tap.cancel()
            abandon_registration(catalog, backend, operation, store_created=store_created)
            if isinstance(exc, MemoryError):
                raise OutOfMemory(out_of_memory_message(f"Registering '{name}'", min(batch_rows.values()),
                                                        settings.performance.batch_size)) from None
            raise
        commit_registration(catalog, backend, operation, info)
        if replaced is not None and replaced.legacy:
            catalog.discard(replaced)  # the 1.x metadata of the dataset just replaced
    log.info("registered dataset", dataset=name, backend=backend_name, tables=[t.name for t in info.tables])
    return info


def _reader(path: Path, settings: Settings, kinds: dict[str, str]) -> tuple[SourceReader, int]:
    """The reader of ``path`` and its rows per batch: ``performance.batch_size``, fewer when
    its rows are too wide for ``performance.memory_budget_mb`` (see :mod:`mdm_core.memory`;
    the reader's own ``row_bytes`` estimate when it has one, else its first rows)."""
    perf = settings.performance
    reader = reader_for(path, perf.batch_size, kinds=kinds)
    estimate = getattr(reader, "row_bytes", None)
    rows = governed_rows(perf.batch_size, perf.memory_budget_mb, what=path.name,
                         probe=lambda n: reader_for(path, n, kinds=kinds).open(),
                         bytes_per_row=estimate() if callable(estimate) else None)
    return (reader if rows == perf.batch_size else reader_for(path, rows, kinds=kinds)), rows


def _refuse_existing(catalog: Catalog, name: str, force: bool) -> None:
    if not force and catalog.exists(name):
        raise DatasetError(f"Dataset '{name}' already exists; use --force to replace it.")


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
    store: Store, source: SourceTable, reader: SourceReader, target: str | None,
    tap: TrainingFitTap | None = None, detect: _MainDetection | None = None,
) -> _IngestResult:
    """Stream one file into table ``source.name`` (every batch also goes to ``tap``, and
    ``detect`` gets the sample once it is complete); on a late type surprise in a CSV,
    widen that column and write the table again."""
    while True:
        try:
            return _ingest_once(store, source, reader.open(), target, tap, detect)
        except pa.ArrowInvalid as exc:
            if tap is not None:
                tap.reset()
            if reader.widen_for(exc):
                log.info("widening column after a late conversion error", file=source.path.name, error=str(exc))
                continue
            raise reader.error_for(exc) from None


def _ingest_once(
    store: Store, source: SourceTable, stream: pa.RecordBatchReader, target: str | None,
    tap: TrainingFitTap | None, detect: _MainDetection | None,
) -> _IngestResult:
    """One pass: write every batch, keeping a sample for detection and target statistics."""
    sample: list[pa.RecordBatch] = []
    sampled = 0
    detected = False
    stats = TargetStats() if target else None
    target_index = stream.schema.get_field_index(target) if target else -1

    def sample_table() -> pa.Table:
        return pa.Table.from_batches(sample, schema=stream.schema)

    def batches(progress: RowProgress) -> Iterator[pa.RecordBatch]:
        nonlocal sampled, detected
        for batch in stream:
            if sampled < SAMPLE_ROWS:
                sample.append(batch.slice(0, SAMPLE_ROWS - sampled))
                sampled += min(batch.num_rows, SAMPLE_ROWS - sampled)
            if stats is not None:
                stats.update(batch.column(target_index))
            if tap is not None:
                tap.feed(batch)
            if detect is not None and not detected and sampled >= SAMPLE_ROWS:
                detect(sample_table())
                detected = True
            progress.advance(batch.num_rows)
            yield batch

    with row_progress(f"{source.name} <- {source.path.name}") as progress:
        rows = store.write_table(source.name, stream.schema, batches(progress), replace=True)
    if detect is not None and not detected:
        detect(sample_table())
    table = TableInfo(name=source.name, kind="data", row_count=rows, source=source.path.name)
    return _IngestResult(table, sample_table(), stats)


def _describe(
    name: str,
    request: RegistrationRequest,
    discovered: Discovered,
    results: dict[str, _IngestResult],
    main_table: str,
    detected: _MainDetection,
    problem_type: str | None,
    backend_name: str,
    source: str,
) -> DatasetInfo:
    overrides, target = detected.overrides, detected.target
    all_columns = {c for r in results.values() for c in r.sample.column_names}
    unknown = [c for c in overrides if c not in all_columns]
    if unknown:
        raise DatasetError(f"--type names unknown column(s): {', '.join(map(repr, unknown))}.")
    main = results[main_table]
    id_columns = detected.id_columns
    for table_name, result in results.items():
        kinds = detected.kinds if table_name == main_table else column_kinds(result.sample, id_columns, overrides)
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
        source=source,
    )
