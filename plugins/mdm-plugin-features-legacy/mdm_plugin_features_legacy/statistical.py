"""1.x statistical features of numeric columns, fitted on the whole training table.

Per column ``c``, in 1.x order: ``c_log`` (log1p; only when every train value is > 0),
``c_zscore`` (sample std), ``c_percentile`` (average-rank percentile within train),
``c_is_outlier`` (outside train's Q1 - 1.5 IQR .. Q3 + 1.5 IQR; missing is 0), ``c_bin_equal`` and
``c_bin_quantile`` (10 equal-width / decile bins of train; only for columns with more
than 20 distinct values, as 1.x skipped low-cardinality columns), ``c_sqrt`` and
``c_boxcox`` (only when every value is > 0; the Box-Cox lambda of 1.x's
``scipy.stats.boxcox``, see :mod:`~mdm_plugin_features_legacy.boxcox`, on every value of
the column in table order when the training table has at most
``feature_engineering.sample_size`` rows, as 1.x did for a table it featurised in one
chunk, else on the fixed-seed row sample), ``c_div_mean`` (when the mean is not 0).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import pyarrow as pa
from mdm_featurekit import (
    TableProfile,
    bin_index,
    equal_width_edges,
    float_array,
    int_array,
    iqr_fences,
    quantile_edges,
    rank_pct,
    to_float_array,
)

from mdm_core.features.contract import FeatureSpec, FeatureUnit, SourceColumn
from mdm_plugin_features_legacy.boxcox import boxcox, boxcox_lambda

FAMILY = "statistical"
N_BINS = 10
MIN_DISTINCT_FOR_BINS = 20
IQR_MULTIPLIER = 1.5


class WholeColumns:
    """Numeric ``columns`` of the training table in table order, kept while the table
    has at most ``limit`` rows: :meth:`tap` passes batches through, :meth:`values` gives
    a column (None once the table outgrew the limit)."""

    def __init__(self, columns: list[str], limit: int) -> None:
        self.limit = limit
        self.rows = 0
        self.parts: dict[str, list[np.ndarray]] | None = {c: [] for c in columns}

    def tap(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            self.rows += batch.num_rows
            if self.parts is not None and self.rows > self.limit:
                self.parts = None
            if self.parts is not None:
                for name, parts in self.parts.items():
                    parts.append(to_float_array(batch.column(name)))
            yield batch

    def values(self, column: str) -> np.ndarray | None:
        if self.parts is None or column not in self.parts:
            return None
        return np.concatenate(self.parts[column]) if self.parts[column] else np.empty(0)


def plan(profile: TableProfile, column: SourceColumn, fe, whole: WholeColumns | None = None) -> list[FeatureUnit]:
    """The statistical unit of one column (none for other kinds); ``whole`` holds the
    column's values in table order when the table was small enough."""
    with np.errstate(over="ignore", invalid="ignore"):  # statistics of values near float's limits
        return _plan(profile, column, fe, whole)


def _plan(profile: TableProfile, column: SourceColumn, fe, whole: WholeColumns | None) -> list[FeatureUnit]:
    c = column.name
    if not fe.numeric.enabled or column.kind != "numeric" or c not in profile.numeric:
        return []
    p = profile.numeric[c]
    if p.count == 0:
        return []
    values, counts = profile.distribution(c)
    mean, std = p.mean(), p.std()
    positive = p.minimum > 0
    many = len(values) > MIN_DISTINCT_FOR_BINS
    low, high = iqr_fences(values, counts, IQR_MULTIPLIER)
    params = {"mean": mean, "std": std, "values": values, "counts": counts, "low": low, "high": high}
    names: list[str] = []
    if positive:
        names.append("log")
    if std:
        names.append("zscore")
    names += ["percentile", "is_outlier"]
    if many and fe.binning.enabled:
        params["equal_edges"] = equal_width_edges(p.minimum, p.maximum, N_BINS)
        params["quantile_edges"] = quantile_edges(values, counts, N_BINS)
        names += ["bin_equal", "bin_quantile"]
    if positive:
        ordered = whole.values(c) if whole is not None else None
        params["lambda"] = boxcox_lambda(ordered if ordered is not None else profile.sample_values(c))
        names += ["sqrt", "boxcox"]
    if mean:
        names.append("div_mean")
    int_outputs = {"is_outlier", "bin_equal", "bin_quantile"}
    outputs = tuple(
        FeatureSpec(f"{c}_{n}", FAMILY, (c,), "int64" if n in int_outputs else "float64") for n in names
    )
    return [FeatureUnit(f"{FAMILY}:{c}", FAMILY, "statistical", (c,), outputs, params)]


def compute(batch: pa.RecordBatch, unit: FeatureUnit) -> dict[str, pa.Array]:
    c = unit.sources[0]
    prm = unit.params
    x = to_float_array(batch.column(c))
    x = np.where(np.isfinite(x), x, np.nan)
    wanted = {s.name for s in unit.outputs}
    out: dict[str, pa.Array] = {}

    def want(name: str) -> bool:
        return f"{c}_{name}" in wanted

    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if want("log"):
            out[f"{c}_log"] = float_array(np.log1p(np.where(x > 0, x, np.nan)))
        if want("zscore"):
            out[f"{c}_zscore"] = float_array((x - prm["mean"]) / prm["std"])
        if want("percentile"):
            out[f"{c}_percentile"] = float_array(rank_pct(x, prm["values"], prm["counts"]))
        if want("is_outlier"):
            flag = (x < prm["low"]) | (x > prm["high"])
            out[f"{c}_is_outlier"] = int_array(flag)  # 1.x: missing values are not outliers
        if want("bin_equal"):
            out[f"{c}_bin_equal"] = bin_index(x, prm["equal_edges"])
        if want("bin_quantile"):
            out[f"{c}_bin_quantile"] = bin_index(x, prm["quantile_edges"])
        if want("sqrt"):
            out[f"{c}_sqrt"] = float_array(np.sqrt(np.where(x >= 0, x, np.nan)))
        if want("boxcox"):
            out[f"{c}_boxcox"] = float_array(boxcox(x, prm["lambda"]))
        if want("div_mean"):
            out[f"{c}_div_mean"] = float_array(x / prm["mean"])
    return out


OPS = {"statistical": compute}
