"""Correlations of numeric columns: all pairs of a matrix, and the strongest pairs of wide
ones at a cost linear in the columns.

Matrices are rows x columns float64 with NaN for missing values; a pair's correlation is
Pearson's over the rows where both columns are present. :func:`correlated_pairs` applies
:func:`strongest_pairs` to the row sample of a :class:`~mdm_featurekit.profile.TableProfile`.
"""

from __future__ import annotations

import numpy as np

from mdm_core.features.contract import FitContext
from mdm_featurekit.profile import TableProfile, sample_matrix


def pairwise_correlations(matrix: np.ndarray) -> np.ndarray:
    """Pearson correlation of every column pair over the rows where both are present
    (NaN on the diagonal, and where fewer than 3 such rows or either column is constant
    on them).

    Sums over the pairwise-present rows come from matrix products of the values centred
    on each column's mean, so all pairs cost a few BLAS calls. Where a pair's rows sit far
    from that mean relative to their spread, those sums would lose precision: such pairs
    are computed directly from their rows instead."""
    with np.errstate(all="ignore"):  # values near float's limits overflow: those pairs come out NaN
        return _pairwise_correlations(matrix)


def _pairwise_correlations(matrix: np.ndarray) -> np.ndarray:
    present = np.isfinite(matrix)
    weights = present.astype(np.float64)
    counts = weights.sum(axis=0)
    centre = np.where(present, matrix, 0.0).sum(axis=0) / np.maximum(counts, 1.0)
    values = np.where(present, matrix - centre, 0.0)
    n = weights.T @ weights
    sums = values.T @ weights  # [i, j]: sum of column i over rows where j is present too
    squares = (values * values).T @ weights
    products = values.T @ values
    var = squares - sums * sums / n
    cov = products - sums * sums.T / n
    out = cov / np.sqrt(var * var.T)
    offset = sums * sums / n > var * 1e6
    out[(n < 3) | (var <= 0) | (var.T <= 0)] = np.nan
    for i, j in zip(*np.nonzero(np.triu((offset | offset.T) & (n >= 3), 1)), strict=True):
        both = present[:, i] & present[:, j]
        a, b = matrix[both, i], matrix[both, j]
        exact = np.corrcoef(a, b)[0, 1] if np.ptp(a) > 0 and np.ptp(b) > 0 else np.nan
        out[i, j] = out[j, i] = exact
    np.fill_diagonal(out, np.nan)
    return np.clip(out, -1.0, 1.0)


#: Up to this many columns every pair's correlation is computed (exact strongest pairs);
#: above it, candidate pairs are screened (see :func:`strongest_pairs`).
EXACT_PAIR_COLUMNS = 256
_SCREEN_ROWS = 1024
_SCORE_ROWS = 256
_TABLES = 16
_BUCKET = 8
_REACH = 16
_FINALISTS = 64
_PAIR_CHUNK = 4096


def strongest_pairs(matrix: np.ndarray, threshold: float, limit: int) -> list[tuple[int, int, float]]:
    """Column pairs ``(i, j, r)`` (``i < j``) of ``matrix`` (rows x columns, NaN = missing)
    whose correlation over their pairwise-present rows has ``|r| > threshold``, by
    decreasing ``|r|`` (ties by ``i`` then ``j``), at most ``limit``.

    Exact up to :data:`EXACT_PAIR_COLUMNS` columns. Wider matrices would need all n²
    pairs, so candidates are screened instead, at a cost linear in the columns
    (locality-sensitive hashing): columns are standardised on the first rows (missing
    values at the mean) and oriented so that x and -x agree; random hyperplanes (fixed
    seed) give each column a few hash keys, with about ``_BUCKET`` columns per key; columns
    sharing a key are candidates, scored on those rows; the best-scored get their exact
    correlation. Strongly correlated pairs share a key with high probability (|r| = 0.95:
    over 99%), weakly correlated ones may be missed; the result is deterministic and every
    correlation it reports is exact."""
    n = matrix.shape[1] if matrix.ndim == 2 else 0
    if n < 2 or limit <= 0:
        return []
    with np.errstate(all="ignore"):
        if n <= EXACT_PAIR_COLUMNS:
            first, second = np.triu_indices(n, 1)
            corr = pairwise_correlations(matrix)[first, second]
        else:
            first, second = _screened_pairs(matrix, max(_FINALISTS, 8 * limit))
            corr = _pair_correlations(matrix, first, second)
    strength = np.abs(corr)
    keep = np.isfinite(corr) & (strength > threshold)
    first, second, corr, strength = first[keep], second[keep], corr[keep], strength[keep]
    order = np.lexsort((second, first, -strength))[:limit]
    return [(int(first[k]), int(second[k]), float(corr[k])) for k in order]


def _screened_pairs(matrix: np.ndarray, finalists: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``finalists`` best-scored candidate pairs ``(i, j)``, ``i < j`` (see
    :func:`strongest_pairs`)."""
    rows, n = matrix.shape
    head = matrix[: min(rows, _SCREEN_ROWS)]
    present = np.isfinite(head)
    counts = present.sum(axis=0)
    centred = np.where(present, head - np.where(present, head, 0.0).sum(axis=0) / np.maximum(counts, 1), 0.0)
    norms = np.sqrt((centred * centred).sum(axis=0))
    usable = np.flatnonzero((norms > 0) & np.isfinite(norms) & (counts >= 3))
    m = len(usable)
    if m < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    unit = centred[:, usable] / norms[usable]  # head rows x usable columns, unit length
    rng = np.random.default_rng(20240601)
    bits = int(np.clip(np.ceil(np.log2(m / _BUCKET)), 1, 62))
    # Per table, 1 + bits hyperplanes: the first orients each column (x and -x get the
    # same key, as only |r| counts), the others make its key.
    signs = (rng.standard_normal((_TABLES * (bits + 1), unit.shape[0])) @ unit) > 0
    weights = np.left_shift(np.int64(1), np.arange(bits, dtype=np.int64))
    first, second = [], []
    for table in range(_TABLES):
        planes = signs[table * (bits + 1) : (table + 1) * (bits + 1)]
        keys = weights @ (planes[1:] ^ planes[0]).astype(np.int64)
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        for step in range(1, min(_REACH, m - 1) + 1):
            same = ordered[step:] == ordered[:-step]
            first.append(order[:-step][same])
            second.append(order[step:][same])
    a, b = np.concatenate(first), np.concatenate(second)
    if not len(a):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    keys = np.sort(np.minimum(a, b).astype(np.int64) * m + np.maximum(a, b))
    keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]  # unique (np.unique hashes: slower)
    a, b = keys // m, keys % m
    # Scores on the first rows, in float32, one row per column (contiguous gathers): only
    # the ranking matters, the finalists' correlations are computed exactly.
    columns = np.ascontiguousarray(unit[:_SCORE_ROWS].T, dtype=np.float32)
    score = np.empty(len(a))
    for start in range(0, len(a), _PAIR_CHUNK):
        part = slice(start, start + _PAIR_CHUNK)
        score[part] = np.einsum("ij,ij->i", columns[a[part]], columns[b[part]])
    best = np.lexsort((b, a, -np.abs(score)))[:finalists]
    return usable[a[best]], usable[b[best]]


def _pair_correlations(matrix: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Correlation of each pair ``(first[k], second[k])`` over the rows where both are
    present (NaN where fewer than 3 or either is constant there); two-pass."""
    out = np.full(len(first), np.nan)
    for k, (i, j) in enumerate(zip(first.tolist(), second.tolist(), strict=True)):
        both = np.isfinite(matrix[:, i]) & np.isfinite(matrix[:, j])
        if both.sum() < 3:
            continue
        a, b = matrix[both, i], matrix[both, j]
        a, b = a - a.mean(), b - b.mean()
        var_a, var_b = (a * a).sum(), (b * b).sum()
        if var_a > 0 and var_b > 0:
            out[k] = np.clip((a * b).sum() / np.sqrt(var_a * var_b), -1.0, 1.0)
    return out


def correlated_pairs(profile: TableProfile, context: FitContext, threshold: float, limit: int) -> list[tuple[str, str]]:
    """Pairs ``(a, b)`` of featurable numeric columns of ``context`` (``a`` first in table
    order) whose absolute correlation on the profile's row sample exceeds ``threshold``,
    strongest first (ties by column order), at most ``limit`` (see :func:`strongest_pairs`).
    Columns without statistics or without any value take no part."""
    columns = [c.name for c in context.feature_columns("numeric") if c.name in profile.numeric and profile.numeric[c.name].count]
    found = strongest_pairs(sample_matrix(profile, columns), threshold, limit)
    return [(columns[i], columns[j]) for i, j, _ in found]
