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

from mdm_core.features.contract import FeatureUnit, SourceColumn
from mdm_plugin_features_new.naming import Namer


def plan(profile: TableProfile, column: SourceColumn, fe, namer: Namer) -> list[FeatureUnit]:
    """The numeric and binning unit of one column (none for other kinds)."""
    num, bins = fe.numeric, fe.binning
    c = column.name
    if not (num.enabled or bins.enabled) or column.kind != "numeric" or c not in profile.numeric:
        return []
    p = profile.numeric[c]
    if p.count == 0:
        return []
    values, counts = profile.distribution(c)
    mean, std = p.mean(), p.std()
    params: dict = {"mean": mean, "std": std, "values": values, "counts": counts, "names": {}}
    specs = []

    def add(family: str, key: str, legacy: str, dtype: str) -> None:
        spec = namer.spec(family, c, key, legacy, dtype)
        params["names"][spec.name] = key
        specs.append(spec)

    with np.errstate(over="ignore", invalid="ignore"):
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
                params["fences"] = iqr_fences(values, counts, num.outlier_iqr_multiplier)
                add("numeric", "is_outlier", "is_outlier", "int64")
        if bins.enabled and len(values) > bins.n_bins:
            edges = equal_width_edges(p.minimum, p.maximum, bins.n_bins)
            if bins.equal_width and np.all(np.isfinite(edges)):  # a range wider than floats hold has no equal widths
                params["width_edges"] = edges
                add("binning", "bin_width", "bin_equal", "int64")
            q_edges = quantile_edges(values, counts, bins.n_bins)
            if bins.quantile and np.all(np.isfinite(q_edges)):
                params["quantile_edges"] = q_edges
                add("binning", "bin_quantile", "bin_quantile", "int64")
    if not specs:
        return []
    return [FeatureUnit(f"numeric:{c}", "numeric", "numeric", (c,), tuple(specs), params)]


def skewness(values: np.ndarray, counts: np.ndarray) -> float:
    """Population skewness of the distribution given as distinct values and counts
    (0 for fewer than 3 values or a constant column)."""
    n = counts.sum()
    if n < 3:
        return 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        return _skewness(values, counts, n)


def _skewness(values: np.ndarray, counts: np.ndarray, n: int) -> float:
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
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for name in (spec.name for spec in unit.outputs):
            key = prm["names"][name]
            if key == "log1p":
                out[name] = float_array(np.sign(x) * np.log1p(np.abs(x)))
            elif key == "sqrt":
                out[name] = float_array(np.sqrt(np.where(x >= 0, x, np.nan)))
            elif key == "zscore":
                out[name] = float_array((x - prm["mean"]) / prm["std"])
            elif key == "pct_rank":
                out[name] = float_array(rank_pct(x, prm["values"], prm["counts"]))
            elif key == "div_mean":
                out[name] = float_array(x / prm["mean"])
            elif key == "is_outlier":
                low, high = prm["fences"]
                out[name] = int_array((x < low) | (x > high), missing)
            elif key == "bin_width":
                out[name] = bin_index(x, prm["width_edges"])
            elif key == "bin_quantile":
                out[name] = bin_index(x, prm["quantile_edges"])
    return out


OPS = {"numeric": compute}
