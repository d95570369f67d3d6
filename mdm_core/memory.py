"""Batches that fit in memory: how many rows a registration, export or migration copy
reads at once.

``performance.batch_size`` says how many rows a batch holds; wide rows (long text, many
columns) can make such a batch larger than the machine can afford. :func:`governed_rows`
reads the first rows of the stream once, measures their bytes per row, and lowers the
rows per batch so that :data:`WORKING_COPIES` copies of a batch fit in the budget
(``performance.memory_budget_mb``, or a quarter of the memory available now). When
Python still runs out of memory, :func:`retry_on_memory_error` runs the work once more
with half the rows, then fails with one sentence naming the settings to lower.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

from mdm_core.errors import OutOfMemory
from mdm_core.logging import get_logger

if TYPE_CHECKING:
    import pyarrow as pa

T = TypeVar("T")
log = get_logger(__name__)

MIB = 2**20
#: Rows read to measure a stream's bytes per row.
PROBE_ROWS = 1_000
#: Fewest rows per batch the governor lowers to (below this, per-batch overhead dominates).
MIN_ROWS = 100
#: Copies of one batch alive at once between reader and writer (the reader's, the
#: converted one, the writer's buffer, one for a transform or a checksum).
WORKING_COPIES = 4


def budget_bytes(memory_budget_mb: int) -> int:
    """The memory budget in bytes: ``memory_budget_mb`` when positive, else a quarter of
    the memory available now (at least 64 MiB)."""
    if memory_budget_mb > 0:
        return int(memory_budget_mb) * MIB
    import psutil

    return max(psutil.virtual_memory().available // 4, 64 * MIB)


def governed_rows(
    batch_size: int, memory_budget_mb: int, probe: Callable[[int], Iterable[pa.RecordBatch]], *, what: str,
    bytes_per_row: float | None = None,
) -> int:
    """Rows per batch for the stream ``probe`` opens: ``batch_size``, lowered (to no fewer
    than :data:`MIN_ROWS`) when :data:`WORKING_COPIES` batches of the rows ``probe(n)``
    yields first (batches of ``n`` rows) would not fit the budget. A known
    ``bytes_per_row`` is used instead of probing. ``what`` names the stream in the log line
    recording a lowered size. A probe that fails leaves ``batch_size``: the real read
    reports the problem where it is handled."""
    if bytes_per_row:
        return _fitting_rows(batch_size, memory_budget_mb, bytes_per_row, what)
    stream = None
    try:
        stream = probe(min(PROBE_ROWS, batch_size))
        first = next(iter(stream), None)
    except Exception as exc:
        log.debug("could not measure the rows of a stream", stream=what, error=str(exc))
        return batch_size
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    if first is None or first.num_rows == 0:
        return batch_size
    return _fitting_rows(batch_size, memory_budget_mb, first.nbytes / first.num_rows, what)


def _fitting_rows(batch_size: int, memory_budget_mb: int, bytes_per_row: float, what: str) -> int:
    bytes_per_row = max(bytes_per_row, 1.0)
    budget = budget_bytes(memory_budget_mb)
    rows = max(MIN_ROWS, min(batch_size, int(budget // (bytes_per_row * WORKING_COPIES))))
    if rows < batch_size:
        log.info("batch size lowered to fit the memory budget", stream=what, rows=rows, batch_size=batch_size,
                 bytes_per_row=round(bytes_per_row), budget_mb=round(budget / MIB, 1))
    return rows


def retry_on_memory_error(run: Callable[[int], T], rows: int, *, what: str, batch_size: int) -> T:
    """``run(rows)``; after a MemoryError, ``run`` once more with half the rows (the first
    attempt's memory freed), then :class:`OutOfMemory` naming ``performance.batch_size``
    (``batch_size`` is its value) and ``performance.memory_budget_mb``. ``run`` must start
    its work over (replace what the failed attempt wrote)."""
    try:
        return run(rows)
    except MemoryError:
        pass  # leave the handler first, so the failed attempt's frames and batches can go
    gc.collect()
    half = max(rows // 2, 1)
    log.warning("out of memory; trying again with smaller batches", stream=what, rows=half)
    try:
        return run(half)
    except MemoryError:
        pass
    gc.collect()
    raise OutOfMemory(out_of_memory_message(what, half, batch_size))


def out_of_memory_message(what: str, rows: int, batch_size: int) -> str:
    """The sentence for work that ran out of memory with batches of ``rows`` rows."""
    return (
        f"{what} ran out of memory with batches of {rows:,} rows; lower performance.batch_size "
        f"(now {batch_size:,}) or performance.memory_budget_mb, or free memory by closing other programs."
    )
