"""One streamed pass over the training table collecting what engines fit on.

:func:`profile_table` reads the batches once and returns a :class:`TableProfile`: per
numeric column a :class:`~mdm_core.features.fitting.NumericProfile`, per categorical
column its :class:`~mdm_core.features.fitting.CategoryCounts`, per datetime column its
parse mode and earliest value, null counts of every column, and a fixed-seed row sample
of the numeric columns. All of it is independent of batch boundaries.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mdm_core.features.engine import FitContext
from mdm_core.features.fitting import (
    CategoryCounts,
    NumericProfile,
    RowSampler,
    datetime_mode,
    to_float_array,
    to_timestamps,
)


@attrs.define
class TableProfile:
    """Statistics of the training table (see module docstring)."""

    rows: int
    nulls: dict[str, int]
    numeric: dict[str, NumericProfile]
    categorical: dict[str, CategoryCounts]
    datetime_modes: dict[str, str]
    datetime_min: dict[str, int | None]
    sample: pa.Table

    def missing_ratio(self, column: str) -> float:
        return self.nulls.get(column, 0) / self.rows if self.rows else 0.0


def profile_table(
    batches: Iterable[pa.RecordBatch],
    context: FitContext,
    *,
    exact_limit: int,
    sample_size: int,
) -> TableProfile:
    """Stream ``batches`` once (see module docstring). Numeric and boolean columns that
    may get features are profiled as numbers; categorical ones are counted; datetime ones
    are parsed with a mode chosen from ``context.head``."""
    numeric_cols = [c.name for c in context.feature_columns("numeric")]
    categorical_cols = [c.name for c in context.feature_columns("categorical")]
    datetime_cols = [c.name for c in context.feature_columns("datetime")]
    all_cols = [c.name for c in context.feature_columns()]
    numeric = {c: NumericProfile(exact_limit) for c in numeric_cols}
    categorical = {c: CategoryCounts() for c in categorical_cols}
    modes = {
        c: datetime_mode(context.head.column(c) if context.head is not None and c in context.head.column_names else None)
        for c in datetime_cols
    }
    dt_min: dict[str, int | None] = dict.fromkeys(datetime_cols)
    nulls = dict.fromkeys(all_cols, 0)
    sampler = RowSampler(numeric_cols, sample_size)
    rows = 0
    for batch in batches:
        rows += batch.num_rows
        for name in all_cols:
            nulls[name] += batch.column(name).null_count
        for name in numeric_cols:
            values = to_float_array(batch.column(name))
            numeric[name].add(values)
        for name in categorical_cols:
            categorical[name].add(batch.column(name))
        for name in datetime_cols:
            stamps = to_timestamps(batch.column(name), modes[name])
            nulls[name] += stamps.null_count - batch.column(name).null_count
            low = pc.min(stamps).value
            if low is not None:
                dt_min[name] = low if dt_min[name] is None else min(dt_min[name], low)
        if numeric_cols:
            sampler.add(_numeric_batch(batch, numeric_cols))
        else:
            sampler.add(batch)
    return TableProfile(rows, nulls, numeric, categorical, modes, dt_min, sampler.table())


def _numeric_batch(batch: pa.RecordBatch, columns: list[str]) -> pa.RecordBatch:
    arrays = [pa.array(to_float_array(batch.column(c)), from_pandas=True) for c in columns]
    return pa.RecordBatch.from_arrays(arrays, names=columns)


def sample_matrix(profile: TableProfile, columns: list[str]) -> np.ndarray:
    """The row sample of ``columns`` as a float matrix (NaN = missing), rows x columns."""
    if not columns or profile.sample.num_rows == 0:
        return np.empty((0, len(columns)))
    return np.column_stack([profile.sample.column(c).to_numpy(zero_copy_only=False).astype(float) for c in columns])
