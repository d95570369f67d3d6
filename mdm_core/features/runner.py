"""Writing ``<table>_features`` tables: the feature stage registration hands its tables to.

:func:`generate_features` takes a :class:`FeatureJob` (the training table as the engine
sees it and the tables to featurise), fits the chosen engine on the training table, then
writes for every table of the job ``<table>_features``: the original columns followed by
the engine's feature columns and the custom features, exactly one row per source row, in
source order. Every table gets the same feature columns (the training table also keeps
its target column). It knows nothing of dataset metadata: it returns
:class:`FeatureResult` and the caller records it.

Steps, each streamed in ``performance.batch_size`` batches (the training table is read
from the store once and replayed from memory when it fits in
``performance.memory_cache_mb``, see :class:`TableSource`):

1. fit on the training table;
2. apply ``skip_list`` and the name rules (:mod:`mdm_core.features.naming`);
3. every table is written to ``<table>_features__tmp`` with ``Store.write_extension`` (a
   backend may store only the feature columns beside the source table), the training
   table first: with ``drop_constant`` on, engine features that are all null or constant
   on it are found while it is written, dropped from it, and never computed for the
   other tables;
4. only when all are written are they renamed over ``<table>_features``, so a failure
   never leaves partial feature tables.

A feature that raises is skipped with a warning naming it (the pass restarts without it,
so every table still gets identical columns) when ``skip_on_error`` is on, and aborts
generation otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from mdm_core.errors import MDMError
from mdm_core.features.contract import (
    FeatureComputationError,
    FitContext,
    FittedFeatures,
)
from mdm_core.features.custom_stage import CustomStage, prepare
from mdm_core.features.discovery import custom_producers
from mdm_core.features.fit import EngineFit, fit_batches
from mdm_core.features.naming import NameRegistry
from mdm_core.logging import get_logger
from mdm_core.pipeline import advancing, ahead
from mdm_core.progress import row_progress
from mdm_core.storage import head_rows

log = get_logger(__name__)

HEAD_ROWS = 1000
TMP_SUFFIX = "__tmp"


@attrs.frozen
class FeatureJob:
    """What the feature stage is handed: the dataset's name, the training table as the
    engine sees it (``train``: its columns with their kinds, target, ID columns, row count
    and, when the caller holds them, its first :data:`HEAD_ROWS` rows), and the tables to
    featurise with their row counts, in order (the training table among them)."""

    dataset: str
    train: FitContext
    tables: dict[str, int]


@attrs.frozen
class FeatureTable:
    """A written ``<source>_features`` table: the source's columns followed by
    ``features``."""

    name: str
    source: str
    row_count: int
    features: tuple[pa.Field, ...]


@attrs.frozen
class FeatureResult:
    """The engine that ran and the feature tables written, in the job's table order."""

    engine: str
    tables: list[FeatureTable]


def generate_features(
    store: Any,
    job: FeatureJob,
    settings: Any,
    *,
    engine_name: str | None = None,
    fitted: EngineFit | None = None,
    train_batches: list[pa.RecordBatch] | None = None,
    max_columns: int | None = None,
) -> FeatureResult:
    """Write ``<table>_features`` for every table of ``job`` into ``store`` (an open
    :class:`mdm_core.storage.Store`). ``fitted`` is an engine already fitted on the
    training table (registration fits while it writes the table; see
    :mod:`mdm_core.features.fit`), and ``train_batches`` that table's full content as
    stored when the caller still holds it. ``max_columns`` is the store's limit per
    table: features beyond it are left out with a warning (the first ones in order are
    kept). See the module docstring."""
    fe = settings.feature_engineering
    batch_size = settings.performance.batch_size
    tables = job.tables
    train = job.train.table
    train_source = TableSource(store, train, batch_size, settings.performance.memory_cache_mb * 2**20, train_batches)
    head = job.train.head if job.train.head is not None else _head(store, train, train_batches)
    if fitted is None:
        context = attrs.evolve(job.train, head=head)
        fitted = fit_batches(train_source.batches(), context, settings, engine_name)
    choice, engine, state = fitted.choice, fitted.engine, fitted.state
    log.info("generating features", dataset=job.dataset, engine=choice.name, plugin=choice.plugin, reason=choice.reason)

    schemas = {name: store.table_schema(name) for name in tables}
    originals = {n for s in schemas.values() for n in s.names}
    names = NameRegistry(originals, fe.skip_list)
    state = _named(state, names)
    active = prepare(
        custom_producers(settings, job.dataset),
        {name: schema.names for name, schema in schemas.items()},
        head,
        names,
        skip_on_error=fe.skip_on_error,
    )
    custom = CustomStage(active)
    state, custom = _fit_width(state, custom, schemas, max_columns)

    while True:
        try:
            written, kept = _write_all(store, tables, schemas, batch_size, engine, state, custom, train_source, fe.drop_constant)
            break
        except FeatureComputationError as exc:
            _drop_tmp(store, tables)
            if not fe.skip_on_error:
                raise MDMError(f"{exc}; fix the data or the feature, add '{exc.feature}' to "
                               "feature_engineering.skip_list (MDM_FEATURES_SKIP_LIST) or turn "
                               "feature_engineering.skip_on_error back on to skip it.") from exc
            log.warning("feature failed; skipped", feature=exc.feature, column=exc.column, columns=list(exc.names),
                        error=str(exc.cause))
            state = state.without(exc.names)
            custom = custom.without(exc.feature)
        except BaseException:
            _drop_tmp(store, tables)
            raise

    for table in tables:
        store.rename_table(table + "_features" + TMP_SUFFIX, table + "_features")
    features = (*kept.schema(), *custom.fields)
    results = [FeatureTable(t + "_features", t, written[t], features) for t in tables]
    log.info("features written", dataset=job.dataset, tables=[r.name for r in results], features=len(features))
    return FeatureResult(choice.name, results)


def _fit_width(
    state: FittedFeatures, custom: CustomStage, schemas: dict[str, pa.Schema], max_columns: int | None
) -> tuple[FittedFeatures, CustomStage]:
    """``state`` (and ``custom``) narrowed so that the widest feature table fits in
    ``max_columns``: engine features are kept in order, then whole custom producers."""
    if max_columns is None or not schemas:
        return state, custom
    base = max(len(schema) for schema in schemas.values())
    wanted = len(state.names) + len(custom.fields)
    room = max_columns - base
    if base + wanted <= max_columns:
        return state, custom
    log.warning("too many features for the backend; the last ones are left out", columns=base, features=wanted,
                kept=max(room, 0), max_columns=max_columns)
    state = state.without(state.names[max(room, 0):])
    room -= len(state.names)
    kept = []
    for item in custom.active:
        if len(item.outputs) <= room:
            kept.append(item)
            room -= len(item.outputs)
    return state, CustomStage(kept)


def _head(store: Any, table: str, batches: list[pa.RecordBatch] | None) -> pa.Table:
    """The first :data:`HEAD_ROWS` rows of ``table``: from ``batches`` (its content, as
    the store gives it back) when given, else read (a read costs time per column)."""
    if not batches:
        return store.read_table(table, limit=HEAD_ROWS, batch_size=HEAD_ROWS).read_all()
    return head_rows(batches, HEAD_ROWS)


class TableSource:
    """The batches of one table, for the passes feature generation makes over it.

    The first complete pass reads the store and keeps the batches while their total size
    stays within ``cache_bytes``; later passes replay them (no second read), or read the
    store again when the table did not fit. ``cached`` is the table's content when the
    caller already holds it. Batches hold the same rows either way."""

    def __init__(
        self, store: Any, table: str, batch_size: int, cache_bytes: int, cached: list[pa.RecordBatch] | None = None
    ) -> None:
        self.store = store
        self.table = table
        self.batch_size = batch_size
        self.cache_bytes = cache_bytes
        self._cached = cached
        self._too_big = cache_bytes <= 0

    @property
    def cached(self) -> bool:
        return self._cached is not None

    @property
    def cached_bytes(self) -> int:
        return sum(b.nbytes for b in self._cached) if self._cached is not None else 0

    def batches(self) -> Iterator[pa.RecordBatch]:
        if self._cached is not None:
            yield from self._cached
            return
        kept: list[pa.RecordBatch] | None = None if self._too_big else []
        size = 0
        for batch in self.store.read_table(self.table, batch_size=self.batch_size):
            if kept is not None:
                size += batch.nbytes
                if size <= self.cache_bytes:
                    kept.append(batch)
                else:
                    kept, self._too_big = None, True
            yield batch
        if kept is not None:
            self._cached = kept


def _named(state: FittedFeatures, names: NameRegistry) -> FittedFeatures:
    """Drop engine features that are skipped by pattern (name, family or unit) or clash."""
    drop = []
    for unit in state.units:
        unit_skipped = names.skipped(unit.family, unit.id)
        for spec in unit.outputs:
            if unit_skipped or names.skipped(spec.family) or not names.claim(spec.name, f"engine '{state.engine}'"):
                drop.append(spec.name)
    return state.without(drop) if drop else state


class _ConstantTracker:
    """Per column: whether it has seen a null, a value, and more than one value."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.nulls = dict.fromkeys(names, 0)
        self.rows = 0
        self.first: dict[str, Any] = {}
        self.varies: set[str] = set()

    def update(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows
        for name in self.names:
            if name in self.varies:
                continue
            column = batch.column(name)
            self.nulls[name] += column.null_count
            if column.null_count == len(column):
                continue
            bounds = pc.min_max(column)
            low, high = bounds["min"].as_py(), bounds["max"].as_py()
            first = self.first.setdefault(name, low)
            if low != high or low != first:
                self.varies.add(name)

    def constant(self) -> list[str]:
        """Columns with a single value (nulls count as a value) or only nulls."""
        out = []
        for name in self.names:
            if name in self.varies:
                continue
            nulls = self.nulls[name]
            if nulls == self.rows or nulls == 0:
                out.append(name)
        return out


def _write_all(
    store: Any,
    tables: dict[str, int],
    schemas: dict[str, pa.Schema],
    batch_size: int,
    engine: Any,
    state: FittedFeatures,
    custom: CustomStage,
    train: TableSource,
    drop_constant: bool,
) -> tuple[dict[str, int], FittedFeatures]:
    """Write every ``<table>_features__tmp``, training table first; rows written per table
    and the engine features kept (constant ones on train dropped when asked).

    When the training table is held in memory, its engine features are computed first and
    the constant ones left out before anything is written (no column is ever dropped from
    a stored table, which costs some engines time per column); otherwise they are found
    while it is written and dropped from it afterwards."""
    written = {}
    train_features: list[pa.RecordBatch] | None = None
    if drop_constant and state.units and train.cached:
        state, train_features = _without_constants(engine, state, train)
        drop_constant = False
    for table in sorted(tables, key=lambda t: t != train.table):
        is_train = table == train.table
        source = schemas[table]
        tracker = _ConstantTracker(state.names) if drop_constant and is_train else None
        reads = train if is_train else TableSource(store, table, batch_size, 0)
        tmp = table + "_features" + TMP_SUFFIX
        schema = pa.schema(list(source) + list(state.schema()) + custom.fields)
        with row_progress(f"Features for {table}", tables[table]) as bar:
            ready = train_features if is_train else None
            stream = _feature_batches(advancing(reads.batches(), bar.advance), schema, engine, state, custom, tracker, ready)
            written[table] = store.write_extension(tmp, table, schema, stream, replace=True)
        if tracker is not None and (dropped := tracker.constant()):
            log.info("constant or all-null features dropped", count=len(dropped), features=dropped[:20])
            store.drop_columns(tmp, dropped)
            state = state.without(dropped)
    return written, state


def _without_constants(engine: Any, state: FittedFeatures, train: TableSource) -> tuple[FittedFeatures, list[pa.RecordBatch] | None]:
    """Compute the engine features of the in-memory training table once; return the state
    without those constant or all-null on it, and the remaining features batch by batch
    while they fit beside the table in its memory budget (else None: recomputed)."""
    tracker = _ConstantTracker(state.names)
    budget = train.cache_bytes - train.cached_bytes
    kept: list[pa.RecordBatch] | None = []
    size = 0

    def transform(batch: pa.RecordBatch) -> pa.RecordBatch:
        features = engine.transform(state, batch)
        tracker.update(features)
        return features

    for _, features in ahead(train.batches(), transform):
        if kept is not None:
            size += features.nbytes
            if size <= budget:
                kept.append(features)
            else:
                kept = None
    dropped = tracker.constant()
    if not dropped:
        return state, kept
    log.info("constant or all-null features dropped", count=len(dropped), features=dropped[:20])
    gone = set(dropped)
    positions = [i for i, name in enumerate(state.names) if name not in gone]
    narrowed = state.without(dropped)
    if kept is not None:
        kept = [features.select(positions) for features in kept]
    return narrowed, kept


def _feature_batches(
    batches: Iterator[pa.RecordBatch],
    schema: pa.Schema,
    engine: Any,
    state: FittedFeatures,
    custom: CustomStage,
    tracker: _ConstantTracker | None,
    ready: list[pa.RecordBatch] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Original columns followed by engine and custom features, batch by batch; engine
    features are shown to ``tracker`` when given, and taken from ``ready`` (one per batch,
    already computed) when given."""
    if not state.units:
        for batch in batches:
            yield pa.RecordBatch.from_arrays(list(batch.columns) + custom.compute(batch), schema=schema)
        return
    if ready is not None:
        for batch, features in zip(batches, ready, strict=True):
            arrays = list(batch.columns) + list(features.columns) + custom.compute(batch)
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)
        return

    def transform(batch: pa.RecordBatch) -> pa.RecordBatch:
        features = engine.transform(state, batch)
        if tracker is not None:
            tracker.update(features)
        return features

    for batch, features in ahead(batches, transform):
        arrays = list(batch.columns) + list(features.columns) + custom.compute(batch)
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def _drop_tmp(store: Any, tables: dict[str, int]) -> None:
    for table in tables:
        store.drop_table(table + "_features" + TMP_SUFFIX)
