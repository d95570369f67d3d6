"""One streamed pass over the training table collecting what engines fit on.

:func:`profile_table` reads the batches once and returns a :class:`TableProfile`: per
numeric column a :class:`~mdm_featurekit.stats.NumericProfile`, per categorical
column its :class:`~mdm_featurekit.stats.CategoryCounts`, per datetime column its
parse mode and earliest value, null counts of every column, and a fixed-seed row sample
of the numeric columns. All of it is independent of batch boundaries.

A column whose statistics cannot be collected (a value no conversion handles) is left
out of ``numeric``/``categorical``/``datetime_*`` and listed in ``failed`` with the error,
so it gets no features of its kind, with a warning naming it (``guard``; or the fit stops
with an error naming it when ``feature_engineering.skip_on_error`` is off).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs
import numpy as np
import pyarrow as pa

from mdm_core.features.contract import FitContext
from mdm_featurekit.arrays import to_float_array
from mdm_featurekit.instants import datetime_mode, to_instants
from mdm_featurekit.stats import CategoryCounts, NumericProfile, RowSampler
from mdm_featurekit.units import FitGuard


@attrs.define
class TableProfile:
    """Statistics of the training table (see module docstring): ``rows``, per featurable
    column its ``nulls``, per numeric column its :class:`NumericProfile`, per categorical
    one its :class:`CategoryCounts`, per datetime one its parse mode and earliest instant
    (ns since the epoch, ``None`` without values), the fixed-seed row ``sample`` of the
    numeric columns (float64), and the columns whose statistics ``failed``."""

    rows: int
    nulls: dict[str, int]
    numeric: dict[str, NumericProfile]
    categorical: dict[str, CategoryCounts]
    datetime_modes: dict[str, str]
    datetime_min: dict[str, int | None]
    sample: pa.Table
    failed: dict[str, str] = attrs.Factory(dict)

    def missing_ratio(self, column: str) -> float:
        """Share of the rows where ``column`` is missing (0 for an empty table)."""
        return self.nulls.get(column, 0) / self.rows if self.rows else 0.0

    def sample_values(self, column: str) -> np.ndarray:
        """The row sample of a numeric ``column`` as float64 (NaN = missing)."""
        return self.sample.column(column).to_numpy(zero_copy_only=False).astype(float)

    def distribution(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """Sorted distinct values of a numeric ``column`` and their counts: exact while
        it has at most ``exact_limit`` distinct values, else those of the row sample."""
        profile = self.numeric[column]
        if profile.exact:
            return profile.distinct()
        sample = self.sample_values(column)
        return np.unique(sample[np.isfinite(sample)], return_counts=True)


def profile_table(
    batches: Iterable[pa.RecordBatch],
    context: FitContext,
    *,
    exact_limit: int,
    sample_size: int,
    guard: FitGuard | None = None,
) -> TableProfile:
    """Stream ``batches`` once (see module docstring). Numeric and boolean columns that
    may get features are profiled as numbers; categorical ones are counted; datetime ones
    are parsed with a mode chosen from ``context.head``. ``guard`` decides what a column
    whose statistics fail does (default: skipped with a warning)."""
    guard = guard or FitGuard(skip_on_error=True)
    numeric_cols = [c.name for c in context.feature_columns("numeric")]
    categorical_cols = [c.name for c in context.feature_columns("categorical")]
    datetime_cols = [c.name for c in context.feature_columns("datetime")]
    all_cols = [c.name for c in context.feature_columns()]
    numeric = {c: NumericProfile(exact_limit) for c in numeric_cols}
    categorical = {c: CategoryCounts() for c in categorical_cols}
    dt_min: dict[str, int | None] = dict.fromkeys(datetime_cols)
    nulls = dict.fromkeys(all_cols, 0)
    failed: dict[str, str] = {}
    sampler = RowSampler(numeric_cols, sample_size)
    rows = 0

    def fail(kind: str, name: str, exc: Exception) -> None:
        guard.failed(f"{kind} statistics", name, exc)
        failed[name] = f"{type(exc).__name__}: {exc}"

    head = context.head
    head_names = set(head.column_names) if head is not None else set()
    modes: dict[str, str] = {}
    for name in datetime_cols:
        try:
            modes[name] = datetime_mode(head.column(name) if name in head_names else None)
        except Exception as exc:  # this column only
            fail("datetime", name, exc)

    def add_numeric(name: str, column: pa.Array) -> np.ndarray:
        values = to_float_array(column)
        numeric[name].add(values)
        return values

    def add_datetime(name: str, column: pa.Array) -> None:
        instants = to_instants(column, modes[name])
        nulls[name] += int(instants.missing.sum()) - column.null_count
        low = instants.min_ns()
        if low is not None:
            dt_min[name] = low if dt_min[name] is None else min(dt_min[name], low)

    for batch in batches:
        rows += batch.num_rows
        columns = dict(zip(batch.schema.names, batch.columns, strict=True))
        for name in all_cols:
            nulls[name] += columns[name].null_count
        floats: list[pa.Array] = []
        for name in numeric_cols:
            values = None
            if name not in failed:
                try:
                    values = add_numeric(name, columns[name])
                except Exception as exc:  # this column only (see module docstring)
                    fail("numeric", name, exc)
            floats.append(pa.array(values, from_pandas=True) if values is not None else pa.nulls(batch.num_rows, pa.float64()))
        for name in categorical_cols:
            if name not in failed:
                try:
                    categorical[name].add(columns[name])
                except Exception as exc:  # this column only
                    fail("categorical", name, exc)
        for name in datetime_cols:
            if name not in failed:
                try:
                    add_datetime(name, columns[name])
                except Exception as exc:  # this column only
                    fail("datetime", name, exc)
        if numeric_cols:
            sampler.add(pa.RecordBatch.from_arrays(floats, names=numeric_cols))
        else:
            sampler.add(batch)
    for name in failed:
        numeric.pop(name, None)
        categorical.pop(name, None)
        modes.pop(name, None)
        dt_min.pop(name, None)
    return TableProfile(rows, nulls, numeric, categorical, modes, dt_min, sampler.table(), failed)


def sample_matrix(profile: TableProfile, columns: list[str]) -> np.ndarray:
    """The row sample of ``columns`` as a float matrix (NaN = missing), rows x columns."""
    if not columns or profile.sample.num_rows == 0:
        return np.empty((0, len(columns)))
    return np.column_stack([profile.sample_values(c) for c in columns])
