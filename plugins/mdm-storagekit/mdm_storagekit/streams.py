"""The stream of batches a backend hands to its driver's bulk ingest."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

import pyarrow as pa

from mdm_core.errors import StorageError


class IngestStream:
    """Iterate ``batches`` for table ``table``: each must have the columns ``names``, is
    counted (:attr:`rows`) and turned into what the driver ingests by
    ``encode(batch, first_row)`` (``first_row``: rows already written).

    Drivers (ADBC, DuckDB's Arrow scan) wrap an exception raised inside the stream in
    their own error; :meth:`unwrapped` re-raises the original instead, so a StorageError
    or KeyboardInterrupt from the data source reaches the caller unchanged."""

    def __init__(
        self,
        table: str,
        names: Sequence[str],
        batches: Iterable[pa.RecordBatch],
        encode: Callable[[pa.RecordBatch, int], pa.RecordBatch],
    ) -> None:
        self.table = table
        self.names = list(names)
        self.rows = 0
        self.failure: BaseException | None = None
        self._batches = batches
        self._encode = encode

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        try:
            for batch in self._batches:
                if batch.schema.names != self.names:
                    raise StorageError(f"Batch columns {batch.schema.names} do not match table '{self.table}'.")
                encoded = self._encode(batch, self.rows)
                self.rows += batch.num_rows
                yield encoded
        except BaseException as exc:
            self.failure = exc
            raise

    def reader(self, schema: pa.Schema) -> pa.RecordBatchReader:
        """The stream as a reader of ``schema`` (the encoded batches' schema)."""
        return pa.RecordBatchReader.from_batches(schema, iter(self))

    def drain(self) -> None:
        """Consume the stream without ingesting (a table with no columns)."""
        for _ in self:
            pass

    @contextmanager
    def unwrapped(self) -> Iterator[None]:
        """Re-raise the stream's own exception in place of the driver's wrapper."""
        try:
            yield
        except BaseException:
            if self.failure is not None:
                raise self.failure from None
            raise
