"""The 1.x Box-Cox feature: maximum-likelihood lambda fitted on a sample, and the transform."""

from __future__ import annotations

import math

import numpy as np


def boxcox_lambda(sample: np.ndarray) -> float:
    """Maximum-likelihood Box-Cox lambda of positive ``sample`` values, searched on
    [-5, 5] (grid then golden section): deterministic for a given sample."""
    with np.errstate(over="ignore", invalid="ignore"):  # huge values: those lambdas score -inf
        return _boxcox_lambda(sample)


def _boxcox_lambda(sample: np.ndarray) -> float:
    x = sample[np.isfinite(sample) & (sample > 0)]
    if len(x) < 3:
        return 1.0
    logs = np.log(x)
    total_log = logs.sum()

    def llf(lam: float) -> float:
        y = logs if abs(lam) < 1e-12 else np.expm1(lam * logs) / lam
        var = y.var()
        if not np.isfinite(var) or var <= 0:
            return -math.inf
        return (lam - 1) * total_log - len(x) / 2 * math.log(var)

    grid = np.linspace(-5, 5, 41)
    scores = [llf(g) for g in grid]
    best = int(np.argmax(scores))
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(60):
        a = hi - ratio * (hi - lo)
        b = lo + ratio * (hi - lo)
        if llf(a) > llf(b):
            hi = b
        else:
            lo = a
    return float((lo + hi) / 2)


def boxcox(values: np.ndarray, lam: float) -> np.ndarray:
    """Box-Cox transform; non-positive values give NaN."""
    out = np.full(values.shape, np.nan)
    ok = np.isfinite(values) & (values > 0)
    logs = np.log(values[ok])
    with np.errstate(over="ignore"):
        out[ok] = logs if abs(lam) < 1e-12 else np.expm1(lam * logs) / lam
    return out
