"""1.x statistical features of numeric columns, fitted on the whole training table.

Per column ``c``, in 1.x order: ``c_log`` (log1p; only when every train value is > 0),
``c_zscore`` (sample std), ``c_percentile`` (average-rank percentile within train),
``c_is_outlier`` (outside train's Q1 - 1.5 IQR .. Q3 + 1.5 IQR; missing is 0), ``c_bin_equal`` and
``c_bin_quantile`` (10 equal-width / decile bins of train; only for columns with more
than 20 distinct values, as 1.x skipped low-cardinality columns), ``c_sqrt`` and
``c_boxcox`` (only when every value is > 0; Box-Cox lambda by maximum likelihood on the
fixed-seed row sample), ``c_div_mean`` (when the mean is not 0).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from mdm_core.features import ops
from mdm_core.features.engine import FeatureSpec, FeatureUnit, SourceColumn
from mdm_core.features.fitting import (
    NumericProfile,
    quantiles_from_counts,
    rank_pct,
    to_float_array,
)
from mdm_core.features.profile import TableProfile

FAMILY = "statistical"
N_BINS = 10
MIN_DISTINCT_FOR_BINS = 20
QUARTILES = np.array([0.25, 0.75])


def _distribution(profile: NumericProfile, sample: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact distinct values and counts, or those of the row sample above the limit."""
    if profile.exact:
        return profile.distinct()
    return np.unique(sample[np.isfinite(sample)], return_counts=True)


def plan(profile: TableProfile, column: SourceColumn, fe) -> list[FeatureUnit]:
    """The statistical unit of one column (none for other kinds)."""
    with np.errstate(over="ignore", invalid="ignore"):  # statistics of values near float's limits
        return _plan(profile, column, fe)


def _plan(profile: TableProfile, column: SourceColumn, fe) -> list[FeatureUnit]:
    c = column.name
    if not fe.numeric.enabled or column.kind != "numeric" or c not in profile.numeric:
        return []
    p = profile.numeric[c]
    if p.count == 0:
        return []
    sample = profile.sample.column(c).to_numpy(zero_copy_only=False).astype(float)
    values, counts = _distribution(p, sample)
    mean, std = p.mean(), p.std()
    positive = p.minimum > 0
    many = len(values) > MIN_DISTINCT_FOR_BINS
    q1, q3 = quantiles_from_counts(values, counts, QUARTILES)
    params = {
        "mean": mean, "std": std, "values": values, "counts": counts,
        "low": q1 - 1.5 * (q3 - q1), "high": q3 + 1.5 * (q3 - q1),
    }
    names: list[str] = []
    if positive:
        names.append("log")
    if std:
        names.append("zscore")
    names += ["percentile", "is_outlier"]
    if many and fe.binning.enabled:
        params["equal_edges"] = ops.equal_width_edges(p.minimum, p.maximum, N_BINS)
        params["quantile_edges"] = np.unique(quantiles_from_counts(values, counts, np.linspace(0, 1, N_BINS + 1)))
        names += ["bin_equal", "bin_quantile"]
    if positive:
        params["lambda"] = ops.boxcox_lambda(sample)
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
            out[f"{c}_log"] = ops.float_array(np.log1p(np.where(x > 0, x, np.nan)))
        if want("zscore"):
            out[f"{c}_zscore"] = ops.float_array((x - prm["mean"]) / prm["std"])
        if want("percentile"):
            out[f"{c}_percentile"] = ops.float_array(rank_pct(x, prm["values"], prm["counts"]))
        if want("is_outlier"):
            flag = (x < prm["low"]) | (x > prm["high"])
            out[f"{c}_is_outlier"] = ops.int_array(flag)  # 1.x: missing values are not outliers
        if want("bin_equal"):
            out[f"{c}_bin_equal"] = ops.bin_index(x, prm["equal_edges"])
        if want("bin_quantile"):
            out[f"{c}_bin_quantile"] = ops.bin_index(x, prm["quantile_edges"])
        if want("sqrt"):
            out[f"{c}_sqrt"] = ops.float_array(np.sqrt(np.where(x >= 0, x, np.nan)))
        if want("boxcox"):
            out[f"{c}_boxcox"] = ops.float_array(ops.boxcox(x, prm["lambda"]))
        if want("div_mean"):
            out[f"{c}_div_mean"] = ops.float_array(x / prm["mean"])
    return out


OPS = {"statistical": compute}
