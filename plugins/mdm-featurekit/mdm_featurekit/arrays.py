"""Arrow columns to numpy and back: the conversions every feature formula starts and ends with.

Missing values are NaN on the numpy side and nulls on the Arrow side; nothing here
loops over rows.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def to_float_array(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A numeric/boolean Arrow column as float64 numpy, nulls as NaN.

    The conversion is the nearest float, whatever the range: integers beyond 2**53
    (int64/uint64 extremes included) and wide decimals are rounded, never refused, since
    every numeric feature is a float computation."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if column.type != pa.float64():
        column = pc.cast(column, pa.float64(), safe=False)
    return column.to_numpy(zero_copy_only=False)


def as_text(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A column as a string array (dictionary decoded), for level lookups and text
    features; nulls stay null."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if not pa.types.is_string(column.type):
        column = pc.cast(column, pa.string())
    return column


def float_array(values: np.ndarray) -> pa.Array:
    """float64 numpy (NaN/inf = missing) to an Arrow float64 array with nulls."""
    return pa.array(values, mask=~np.isfinite(values), type=pa.float64())


def int_array(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """Integer-valued (or boolean) numpy to int64 Arrow, ``missing`` rows null."""
    clean = np.where(missing, 0, values) if missing is not None else values
    return pa.array(np.asarray(clean).astype(np.int64), mask=missing, type=pa.int64())
