"""The hand-over from a dataset to the feature stage, one way: a
:class:`~mdm_core.features.runner.FeatureJob` built from the dataset's metadata, the
written feature tables recorded back into it, and :class:`TrainingFitTap`, which fits the
engine on the main table while registration writes it (the source is read once and the
fit runs on a second core)."""

from __future__ import annotations

import pyarrow as pa

from mdm_core.config.settings import Settings
from mdm_core.datasets.models import ColumnInfo, DatasetInfo, TableInfo
from mdm_core.features.contract import FitContext, SourceColumn
from mdm_core.features.fit import EngineFit, StreamingFit
from mdm_core.features.runner import HEAD_ROWS, FeatureJob, FeatureResult
from mdm_core.storage import StorageBackend

#: Tables that never get features: a submission template holds only id and target.
SKIPPED_TABLES = ("sample_submission",)


def feature_job(info: DatasetInfo, train: FitContext | None = None) -> FeatureJob:
    """The job for ``info``'s data tables (all but :data:`SKIPPED_TABLES`); ``train`` is
    the training table's context when registration already built it, else it is made
    from the metadata (the runner reads the first rows)."""
    if train is None:
        table = info.table(info.default_table)
        train = FitContext(
            table=table.name,
            columns=tuple(SourceColumn(c.name, c.type) for c in table.columns),
            target_column=info.target_column,
            id_columns=tuple(info.id_columns),
            row_count=table.row_count,
        )
    tables = {t.name: t.row_count for t in info.data_tables if t.name not in SKIPPED_TABLES}
    return FeatureJob(info.name, train, tables)


def record_features(info: DatasetInfo, result: FeatureResult) -> None:
    """Replace ``info``'s feature tables with ``result``'s and record the engine."""
    sources = {t.name: t for t in info.tables}
    written = [
        TableInfo(
            name=table.name, kind="features", row_count=table.row_count,
            columns=list(sources[table.source].columns) + [ColumnInfo(f.name, _kind(f.type), str(f.type)) for f in table.features],
        )
        for table in result.tables
    ]
    info.tables = [t for t in info.tables if t.kind != "features"] + written
    info.feature_engine = result.engine


def _kind(typ: pa.DataType) -> str:
    return "categorical" if pa.types.is_string(typ) else "numeric"


class TrainingFitTap:
    """Fits the feature engine on the main table while it is written. Batches are fed as
    read and handed to the engine as the store will give them back
    (``StorageBackend.as_stored``); the fit starts when registration has detected the
    column kinds and ID columns (:meth:`start`). Keeps the table's stored batches for the
    feature pass while they fit in ``performance.memory_cache_mb``."""

    def __init__(self, settings: Settings, table: str, target: str | None, backend: StorageBackend) -> None:
        self.settings, self.table, self.target, self.backend = settings, table, target, backend
        self.fit: StreamingFit | None = None
        self.context: FitContext | None = None
        self.reset()

    def reset(self) -> None:
        """Forget everything fed (the table is being written again)."""
        self.cancel()
        self.context = None
        self.pending: list[pa.RecordBatch] = []
        self.kept: list[pa.RecordBatch] | None = []
        self.kept_bytes = 0

    def feed(self, batch: pa.RecordBatch) -> None:
        stored = self.backend.as_stored(batch)
        if self.kept is not None:
            self.kept_bytes += stored.nbytes
            if self.kept_bytes <= self.settings.performance.memory_cache_mb * 2**20:
                self.kept.append(stored)
            else:
                self.kept = None
        if self.fit is None:
            self.pending.append(stored)
        else:
            self.fit.feed(stored)

    def start(self, kinds: dict[str, str], id_columns: list[str]) -> None:
        """Start fitting with the kinds and ID columns registration detected (an empty
        table is not fitted here: :meth:`finish` gives None)."""
        if self.fit is not None or not self.pending:
            return
        self.context = FitContext(
            table=self.table,
            columns=tuple(SourceColumn(name, kind) for name, kind in kinds.items()),
            target_column=self.target,
            id_columns=tuple(id_columns),
            head=pa.Table.from_batches(self.pending).slice(0, HEAD_ROWS),
        )
        self.fit = StreamingFit(self.settings, self.context)
        for stored in self.pending:
            self.fit.feed(stored)
        self.pending = []

    def finish(self) -> EngineFit | None:
        return self.fit.finish() if self.fit is not None else None

    def cancel(self) -> None:
        if self.fit is not None:
            self.fit.cancel()
            self.fit = None
