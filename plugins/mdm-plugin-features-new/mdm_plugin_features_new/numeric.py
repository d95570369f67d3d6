"""Numeric (statistical) and binning families of the new engine.

``numeric`` per column ``c`` (switch: ``feature_engineering.numeric.*``):
``c__log1p`` (sign(x)·log1p(|x|), defined for every value, for columns whose train
skewness is at least ``log_min_skewness`` in absolute value; 1.x name ``c_log``),
``c__sqrt`` (columns without negative values; ``c_sqrt``), ``c__zscore`` (sample std;
``c_zscore``; off by default: an exact rescaling of the column),
``c__pct_rank`` (average-rank percentile within train; ``c_percentile``),
``c__div_mean`` (``c_div_mean``), ``c__is_outlier`` (outside Q1 - k·IQR .. Q3 + k·IQR of
train, ``k = outlier_iqr_multiplier``; ``c_is_outlier``).

``binning`` (``feature_engineering.binning.*``), for columns with more distinct values
than ``n_bins``: ``c__bin_width`` (equal-width bins of train's range; ``c_bin_equal``) and
``c__bin_quantile`` (train quantile bins, merged where edges coincide;
``c_bin_quantile``). Values outside train's range fall in the first/last bin.

Means and standard deviations are exact; percentiles and quantiles are exact while a
column has at most ``exact_distinct_limit`` distinct values, and come from the fixed-seed
row sample (``sample_size`` rows) above that.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from mdm_core.features import ops
from mdm_core.features.engine import FeatureUnit, FitContext
from mdm_core.features.fitting import quantiles_from_counts, rank_pct, to_float_array
from mdm_core.features.profile import TableProfile
from mdm_plugin_features_new.naming import Namer

QUARTILES = np.array([0.25, 0.75])


def plan(profile: TableProfile, context: FitContext, fe, namer: Namer) -> list[FeatureUnit]:
    num, bins = fe.numeric, fe.binning
    if not (num.enabled or bins.enabled):
        return []
    units = []
    for column in context.feature_columns("numeric"):
        c = column.name
        p = profile.numeric[c]
        if p.count == 0:
            continue
        if p.exact:
            values, counts = p.distinct()
        else:
            sample = profile.sample.column(c).to_numpy(zero_copy_only=False).astype(float)
            values, counts = np.unique(sample[np.isfinite(sample)], return_counts=True)
        mean, std = p.mean(), p.std()
        params: dict = {"mean": mean, "std": std, "values": values, "counts": counts, "names": {}}
        specs = []

        def add(family: str, key: str, legacy: str, dtype: str, c: str = c, params: dict = params, specs: list = specs) -> None:
            spec = namer.spec(family, c, key, legacy, dtype)
            params["names"][spec.name] = key
            specs.append(spec)

        if num.enabled:
            if num.log and abs(skewness(values, counts)) >= num.log_min_skewness:
                add("numeric", "log1p", "log", "float64")
            if num.sqrt and p.minimum >= 0:
                add("numeric", "sqrt", "sqrt", "float64")
            if num.zscore and std:
                add("numeric", "zscore", "zscore", "float64")
            if num.percentile:
                add("numeric", "pct_rank", "percentile", "float64")
            if num.div_mean and mean:
                add("numeric", "div_mean", "div_mean", "float64")
            if num.outliers:
                q1, q3 = quantiles_from_counts(values, counts, QUARTILES)
                k = num.outlier_iqr_multiplier
                params["fences"] = (q1 - k * (q3 - q1), q3 + k * (q3 - q1))
                add("numeric", "is_outlier", "is_outlier", "int64")
        if bins.enabled and len(values) > bins.n_bins:
            if bins.equal_width:
                params["width_edges"] = ops.equal_width_edges(p.minimum, p.maximum, bins.n_bins)
                add("binning", "bin_width", "bin_equal", "int64")
            if bins.quantile:
                qs = np.linspace(0, 1, bins.n_bins + 1)
                params["quantile_edges"] = np.unique(quantiles_from_counts(values, counts, qs))
                add("binning", "bin_quantile", "bin_quantile", "int64")
        if specs:
            units.append(FeatureUnit(f"numeric:{c}", "numeric", "numeric", (c,), tuple(specs), params))
    return units


def skewness(values: np.ndarray, counts: np.ndarray) -> float:
    """Population skewness of the distribution given as distinct values and counts
    (0 for fewer than 3 values or a constant column)."""
    n = counts.sum()
    if n < 3:
        return 0.0
    deviations = values - (values * counts).sum() / n
    m2 = (counts * deviations**2).sum() / n
    if m2 <= 0:
        return 0.0
    return float((counts * deviations**3).sum() / n / m2**1.5)


def compute(batch: pa.RecordBatch, unit: FeatureUnit) -> dict[str, pa.Array]:
    prm = unit.params
    x = to_float_array(batch.column(unit.sources[0]))
    x = np.where(np.isfinite(x), x, np.nan)
    missing = np.isnan(x)
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, key in prm["names"].items():
            if key == "log1p":
                out[name] = ops.float_array(np.sign(x) * np.log1p(np.abs(x)))
            elif key == "sqrt":
                out[name] = ops.float_array(np.sqrt(np.where(x >= 0, x, np.nan)))
            elif key == "zscore":
                out[name] = ops.float_array((x - prm["mean"]) / prm["std"])
            elif key == "pct_rank":
                out[name] = ops.float_array(rank_pct(x, prm["values"], prm["counts"]))
            elif key == "div_mean":
                out[name] = ops.float_array(x / prm["mean"])
            elif key == "is_outlier":
                low, high = prm["fences"]
                out[name] = ops.int_array((x < low) | (x > high), missing)
            elif key == "bin_width":
                out[name] = ops.bin_index(x, prm["width_edges"])
            elif key == "bin_quantile":
                out[name] = ops.bin_index(x, prm["quantile_edges"])
    return out


OPS = {"numeric": compute}
