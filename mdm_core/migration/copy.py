"""Copying one table from a store to a store of any backend, verified.

The data streams in batches from the source reader through the target backend's
``as_stored`` (what the target engine will keep: SQLite turns NaN into NULL) into the
target's ``write_table`` (one transaction: on any failure nothing of the table remains),
while a content checksum of the stream is kept; reading and checksumming run on a worker
thread, a batch or two ahead of the write. The target is then read back for its own
checksum and row count: equal checksums mean the same multiset of rows with the same
types. Memory holds a few batches at a time, of at most ``batch_size`` rows and fewer when rows
are wide (:mod:`mdm_core.memory`); a MemoryError copies the table again with half the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from mdm_core.checksum import ContentChecksum
from mdm_core.memory import governed_rows, retry_on_memory_error
from mdm_core.pipeline import advancing, prefetched
from mdm_core.storage import StorageBackend, Store, StoreRef

if TYPE_CHECKING:
    import pyarrow as pa


@attrs.frozen
class CopyResult:
    rows_read: int
    rows_written: int
    checksum_source: str
    checksum_target: str

    @property
    def verified(self) -> bool:
        return self.rows_read == self.rows_written and self.checksum_source == self.checksum_target


def copy_table(source: Store, table: str, target: Store, target_backend: StorageBackend, *, batch_size: int,
               memory_budget_mb: int = 0, progress: Callable[[int], None] = lambda rows: None,
               target_table: str | None = None) -> CopyResult:
    """Copy ``table`` of ``source`` into ``target`` (as ``target_table``, default the same
    name), replacing a table of that name left by an interrupted attempt; returns the
    counts and checksums of both sides. ``memory_budget_mb`` is
    ``performance.memory_budget_mb``."""
    rows = governed_rows(batch_size, memory_budget_mb, lambda n: source.read_table(table, limit=n, batch_size=n),
                         what=f"table '{table}'")
    return retry_on_memory_error(
        lambda r: _copy(source, table, target, target_backend, batch_size=r, progress=progress,
                        name=target_table or table),
        rows, what=f"Copying table '{table}'", batch_size=batch_size,
    )


def _copy(source: Store, table: str, target: Store, target_backend: StorageBackend, *, batch_size: int,
          progress: Callable[[int], None], name: str) -> CopyResult:
    reader = source.read_table(table, batch_size=batch_size)
    checksum = ContentChecksum()
    as_stored = getattr(target_backend, "as_stored", None)

    def read() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            stored = as_stored(batch) if as_stored is not None else batch
            checksum.add(stored)
            yield stored

    # reading and checksumming run on a worker while the target writes the batch before
    stream = prefetched(read())
    try:
        target.write_table(name, reader.schema, advancing(stream, progress), replace=True)
    finally:
        stream.close()
    return CopyResult(
        rows_read=checksum.rows, rows_written=target.row_count(name),
        checksum_source=checksum.hexdigest(), checksum_target=target.checksum(name),
    )


def open_target_store(backend: StorageBackend, ref: StoreRef, staging_folder: Path) -> Store:
    """The store at ``ref``, open for writing: created empty if missing (built under
    ``staging_folder`` and moved into place, so it is durable and has the backend's
    configured settings before any table is written; a store left half-created by a
    killed run is dropped and built again)."""
    if backend.store_exists(ref):
        return backend.open_store(ref, read_only=False)
    stage = staging_ref(ref, staging_folder)
    backend.drop_store(stage)
    backend.create_store(stage).close()
    backend.move_store(stage, ref)
    return backend.open_store(ref, read_only=False)


def staging_ref(ref: StoreRef, staging_folder: Path) -> StoreRef:
    """Where :func:`open_target_store` builds the store of ``ref`` before moving it into
    place (a rollback drops what a killed run left there)."""
    return StoreRef(f"{ref.key}_stage", staging_folder / ref.key)
