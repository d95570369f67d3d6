"""Fitting the feature engine on the main table while registration writes it, so the
source is read once and the fit runs on a second core (see :class:`TrainingFitTap`)."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from mdm_core.config.settings import Settings
from mdm_core.datasets.detection import SAMPLE_ROWS, column_kinds, id_columns_of
from mdm_core.features.engine import FitContext, SourceColumn
from mdm_core.features.fit import Fitted, StreamingFit, as_stored
from mdm_core.features.runner import HEAD_ROWS
from mdm_core.storage import StorageBackend


class TrainingFitTap:
    """Fits the feature engine on the main table while it is written: batches are handed
    over as the store will give them back; the fit starts once the detection sample is
    complete (kinds come from it, as in the dataset's metadata). Keeps the table's batches
    for the feature pass while they fit in ``performance.memory_cache_mb``."""

    def __init__(self, settings: Settings, table: str, target: str | None, id_columns: Sequence[str],
                 overrides: dict[str, str], backend: StorageBackend) -> None:
        self.settings, self.table, self.requested_ids = settings, table, tuple(id_columns)
        self.target, self.overrides, self.backend = target, overrides, backend
        self.fit: StreamingFit | None = None
        self.reset()

    def reset(self) -> None:
        """Forget everything fed (the table is being written again)."""
        self.cancel()
        self.pending: list[tuple[pa.RecordBatch, pa.RecordBatch]] = []  # (as read, as stored)
        self.kept: list[pa.RecordBatch] | None = []
        self.kept_bytes = 0

    def feed(self, batch: pa.RecordBatch) -> None:
        stored = as_stored(batch, self.backend)
        if self.kept is not None:
            self.kept_bytes += stored.nbytes
            if self.kept_bytes <= self.settings.performance.memory_cache_mb * 2**20:
                self.kept.append(stored)
            else:
                self.kept = None
        if self.fit is None:
            self.pending.append((batch, stored))
        else:
            self.fit.feed(stored)

    def sample_complete(self) -> None:
        """Start fitting: the batches fed so far hold the detection sample."""
        if self.fit is not None:
            return
        if not self.pending:
            return
        sample = pa.Table.from_batches([read for read, _ in self.pending]).slice(0, SAMPLE_ROWS)
        ids = id_columns_of(self.requested_ids, sample, self.target, self.overrides)
        kinds = column_kinds(sample, ids, self.overrides)
        context = FitContext(
            table=self.table,
            columns=tuple(SourceColumn(c, kinds[c]) for c in sample.column_names),
            target_column=self.target,
            id_columns=tuple(ids),
            head=pa.Table.from_batches([stored for _, stored in self.pending]).slice(0, HEAD_ROWS),
        )
        self.fit = StreamingFit(self.settings, context)
        for _, stored in self.pending:
            self.fit.feed(stored)
        self.pending = []

    def finish(self) -> Fitted | None:
        self.sample_complete()
        return self.fit.finish() if self.fit is not None else None

    def cancel(self) -> None:
        if self.fit is not None:
            self.fit.cancel()
            self.fit = None
