"""Row-wise formulas on float64 values (numpy, NaN = missing) with fitted arguments: bins,
outlier fences, safe division and the arithmetic of column pairs."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from mdm_featurekit.arrays import int_array
from mdm_featurekit.stats import quantiles_from_counts

_QUARTILES = np.array([0.25, 0.75])


def equal_width_edges(low: float, high: float, n_bins: int) -> np.ndarray:
    """``pandas.cut(x, n_bins)`` edges: equal widths, the lowest widened by 0.1%."""
    edges = np.linspace(low, high, n_bins + 1)
    edges[0] -= (high - low) * 0.001
    return edges


def quantile_edges(values: np.ndarray, counts: np.ndarray, n_bins: int) -> np.ndarray:
    """Edges of ``n_bins`` quantile bins of the distribution given as sorted distinct
    ``values`` and ``counts`` (linear quantiles), merged where edges coincide."""
    return np.unique(quantiles_from_counts(values, counts, np.linspace(0, 1, n_bins + 1)))


def bin_index(values: np.ndarray, edges: np.ndarray) -> pa.Array:
    """Bin number (int64) of each value for right-closed bins ``(e[i], e[i+1]]`` (the
    first also holds ``e[0]``); values outside the fitted range go to the first/last bin;
    missing values give null."""
    missing = ~np.isfinite(values)
    idx = np.searchsorted(edges, np.where(missing, edges[0], values), side="left") - 1
    idx = np.clip(idx, 0, max(len(edges) - 2, 0))
    return int_array(idx, missing)


def iqr_fences(values: np.ndarray, counts: np.ndarray, k: float) -> tuple[float, float]:
    """Outlier fences ``(Q1 - k*IQR, Q3 + k*IQR)`` of the distribution given as sorted
    distinct ``values`` and ``counts``."""
    q1, q3 = quantiles_from_counts(values, counts, _QUARTILES)
    return q1 - k * (q3 - q1), q3 + k * (q3 - q1)


def divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a / b`` with division by zero giving NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b == 0, np.nan, a / np.where(b == 0, 1.0, b))


#: Arithmetic of a column pair ``(a, b)`` by name, on float64 numpy values.
PAIR_OPERATIONS = {
    "plus": np.add,
    "minus": np.subtract,
    "times": np.multiply,
    "div": divide,
}
