"""Order-independent content checksums of Arrow data, equal on every engine.

The checksum of a table is its row count and the sum (mod 2**64) of one 64-bit hash per
row; a row's hash mixes one hash per column value with the column's position. Equal
multisets of rows with equal Arrow types give equal checksums whatever the engine, the
row order or the batch sizes. Value hashes are computed column-wise with numpy:

- integers, booleans, dates, times, timestamps and durations: their integer value;
- floating point: the float64 bit pattern, with every NaN the same and -0.0 kept apart;
- text and binary: pandas' SipHash of each distinct value (the column is dictionary
  encoded first, so repeated values are hashed once);
- anything else (decimals, lists, structs): the hash of the value's text;
- NULL: a constant of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

_NULL = 0x9E3779B97F4A7C15
_NAN = 0x7FF8000000000000


def checksum_batches(batches: Iterable[pa.RecordBatch]) -> str:
    """The checksum of a stream of batches (see the module doc) as ``<rows>:<16 hex>``.
    ``batches`` is pulled on the calling thread while a worker hashes the batch before
    (a store's reader stays on the thread that opened it)."""
    from mdm_core.pipeline import ahead

    checksum = ContentChecksum()
    for _ in ahead(iter(batches), checksum.add):
        pass
    return checksum.hexdigest()


def checksum_parts(parts: Sequence[Callable[[], Iterable[pa.RecordBatch]]]) -> str:
    """The checksum of a table read in ``parts`` at once: each callable opens the stream
    of one part (disjoint, together the whole table) and is read and hashed on a thread
    of its own; the parts' checksums are merged (the order of rows does not matter)."""
    from concurrent.futures import ThreadPoolExecutor

    def part_checksum(part: Callable[[], Iterable[pa.RecordBatch]]) -> ContentChecksum:
        checksum = ContentChecksum()
        for batch in part():
            checksum.add(batch)
        return checksum

    total = ContentChecksum()
    with ThreadPoolExecutor(max_workers=max(len(parts), 1), thread_name_prefix="mdm-checksum") as pool:
        for checksum in pool.map(part_checksum, parts):
            total.merge(checksum)
    return total.hexdigest()


class ContentChecksum:
    """:func:`checksum_batches` one batch at a time (for data already flowing elsewhere)."""

    def __init__(self) -> None:
        self.rows = 0
        self._total = 0

    def add(self, batch: pa.RecordBatch) -> None:
        import numpy as np

        if batch.num_rows == 0:
            return
        rows = np.zeros(batch.num_rows, dtype=np.uint64)
        for position, column in enumerate(batch.columns):
            rows += _mix(column_hashes(column) ^ np.uint64(_mix_scalar(position + 1)))
        self._total = (self._total + int(_mix(rows).sum(dtype=np.uint64))) & 0xFFFFFFFFFFFFFFFF
        self.rows += batch.num_rows

    def merge(self, other: ContentChecksum) -> None:
        """Add ``other``'s rows: the checksum of a table read in parts (in any order, on
        any threads) is the merge of the parts' checksums."""
        self._total = (self._total + other._total) & 0xFFFFFFFFFFFFFFFF
        self.rows += other.rows

    def hexdigest(self) -> str:
        return f"{self.rows}:{self._total:016x}"


def column_hashes(column: pa.Array) -> np.ndarray:
    """One uint64 per value of ``column`` (NULL: a constant), as described in the module doc."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    typ = column.type
    if pa.types.is_dictionary(typ):
        column = column.dictionary_decode()
        typ = column.type
    if pa.types.is_floating(typ):
        values = pc.cast(column, pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False)
        bits = values.view(np.uint64).copy()
        bits[np.isnan(values)] = np.uint64(_NAN)
    elif pa.types.is_boolean(typ):
        bits = pc.cast(column, pa.uint64()).fill_null(0).to_numpy(zero_copy_only=False)
    elif _is_integer_like(typ):
        bits = _as_int64(column).to_numpy(zero_copy_only=False).view(np.uint64)
    elif pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_binary(typ) \
            or pa.types.is_large_binary(typ) or pa.types.is_fixed_size_binary(typ) \
            or pa.types.is_string_view(typ) or pa.types.is_binary_view(typ):
        bits = _text_hashes(column)
    else:
        bits = _text_hashes(pc.cast(column, pa.string()) if _castable_to_text(typ) else _as_text(column))
    bits = np.asarray(bits, dtype=np.uint64)
    if column.null_count:
        valid = column.is_valid().to_numpy(zero_copy_only=False)
        bits = np.where(valid, bits, np.uint64(_NULL))
    return bits


def _is_integer_like(typ: pa.DataType) -> bool:
    import pyarrow as pa

    return (pa.types.is_integer(typ) or pa.types.is_temporal(typ)) and not pa.types.is_interval(typ)


def _as_int64(column: pa.Array) -> pa.Array:
    """Integers, dates, times, timestamps and durations as their int64 value (nulls: 0;
    the caller masks them)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    typ = column.type
    if pa.types.is_integer(typ):
        if pa.types.is_uint64(typ):
            return column.view(pa.int64()).fill_null(0)
        return pc.cast(column, pa.int64()).fill_null(0)
    width = {4: pa.int32(), 8: pa.int64()}[typ.bit_width // 8]
    return pc.cast(column.view(width), pa.int64()).fill_null(0)


def _text_hashes(column: pa.Array) -> np.ndarray:
    """SipHash (pandas) of each value, computed once per distinct value."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    encoded = column.dictionary_encode() if not pa.types.is_fixed_size_binary(column.type) else None
    if encoded is None:
        return pd.util.hash_array(np.asarray(column.to_numpy(zero_copy_only=False), dtype=object), categorize=False)
    dictionary = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=object)
    hashed = pd.util.hash_array(dictionary, categorize=False) if len(dictionary) else np.zeros(0, dtype=np.uint64)
    indices = encoded.indices.fill_null(0).to_numpy(zero_copy_only=False)
    return hashed[indices] if len(hashed) else np.zeros(len(column), dtype=np.uint64)


def _castable_to_text(typ: pa.DataType) -> bool:
    import pyarrow as pa

    return pa.types.is_decimal(typ) or pa.types.is_null(typ)


def _as_text(column: pa.Array) -> pa.Array:
    """Nested values as their Python text (rare types: correctness over speed)."""
    import pyarrow as pa

    return pa.array([None if v is None else repr(v) for v in column.to_pylist()], type=pa.string())


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser over a uint64 array (wrapping arithmetic)."""
    import numpy as np

    z = values + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _mix_scalar(value: int) -> int:
    mask = 0xFFFFFFFFFFFFFFFF
    z = (value + 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)
