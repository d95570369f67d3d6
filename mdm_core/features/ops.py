"""Vectorised primitives engines build features from (numpy / Arrow compute, no row loops).

These are building blocks for engine authors, not features: which primitive produces
which column under which name is each engine's business. Every function is row-wise given
its fitted arguments, so results never depend on batch boundaries. Missing inputs give
missing outputs unless stated.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mdm_core.features.fitting import NS_PER_DAY, Instants, as_text

TEXT_PATTERNS = {
    "uppercase": r"\p{Lu}",
    "lowercase": r"\p{Ll}",
    "digits": r"\p{Nd}",
    "spaces": r"\s",
    "special": r"[^\p{L}\p{N}\s]",
    "words": r"\S+",
    "urls": r"(?i)(?:https?://|www\.)\S+",
    "emails": r"[\w.+-]+@[\w-]+\.[\w.-]+",
    "hashtags": r"#\w+",
    "mentions": r"(?:^|\s)@\w+",
}


def float_array(values: np.ndarray) -> pa.Array:
    """float64 numpy (NaN/inf = missing) to an Arrow array with nulls."""
    return pa.array(values, mask=~np.isfinite(values), type=pa.float64())


def int_array(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """Integer-valued numpy to int64 Arrow, ``missing`` rows null."""
    clean = np.where(missing, 0, values) if missing is not None else values
    return pa.array(np.asarray(clean).astype(np.int64), mask=missing, type=pa.int64())


def bin_index(values: np.ndarray, edges: np.ndarray) -> pa.Array:
    """Bin number of each value for right-closed bins ``(e[i], e[i+1]]`` (the first also
    holds ``e[0]``); values outside the fitted range go to the first/last bin."""
    missing = ~np.isfinite(values)
    idx = np.searchsorted(edges, np.where(missing, edges[0], values), side="left") - 1
    idx = np.clip(idx, 0, max(len(edges) - 2, 0))
    return int_array(idx, missing)


def equal_width_edges(low: float, high: float, n_bins: int) -> np.ndarray:
    """``pandas.cut(x, n_bins)`` edges: equal widths, the lowest widened by 0.1%."""
    edges = np.linspace(low, high, n_bins + 1)
    edges[0] -= (high - low) * 0.001
    return edges


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


def level_lookup(column: pa.Array, levels: list[str], counts: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """For each value: its fitted count (unseen levels 0, missing values null) and its
    level index (-1 when unseen or missing)."""
    text = as_text(column)
    idx = pc.index_in(text, value_set=pa.array(levels, pa.string()))
    index = idx.fill_null(-1).to_numpy(zero_copy_only=False)
    found = np.where(index >= 0, counts[np.maximum(index, 0)] if len(counts) else 0, 0)
    missing = text.is_null().to_numpy(zero_copy_only=False)
    return int_array(found, missing), index


def text_counts(column: pa.Array, what: str) -> pa.Array:
    """Matches of :data:`TEXT_PATTERNS` ``what`` in each string (null stays null)."""
    return pc.count_substring_regex(as_text(column), TEXT_PATTERNS[what]).cast(pa.int64())


def unique_word_counts(column: pa.Array) -> pa.Array:
    """Distinct whitespace-separated words per string (case-sensitive); null stays null."""
    text = as_text(column)
    words = pc.utf8_split_whitespace(text)
    parents = pc.list_parent_indices(words)
    flat = pc.list_flatten(words)
    table = pa.table({"row": parents, "word": flat}).filter(pc.not_equal(flat, ""))
    counts = np.zeros(len(text), dtype=np.int64)
    if table.num_rows:
        grouped = table.group_by("row").aggregate([("word", "count_distinct")])
        counts[grouped["row"].to_numpy()] = grouped["word_count_distinct"].to_numpy()
    return int_array(counts, text.is_null().to_numpy(zero_copy_only=False))


def civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Proleptic Gregorian (year, month, day) of whole days since 1970-01-01, for any
    int64 day count (H. Hinnant's ``civil_from_days``, vectorised; exact, no range
    limit short of int64 overflow, which days of an Arrow value never reach)."""
    z = days.astype(np.int64) + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Whole days since 1970-01-01 of proleptic Gregorian dates (inverse of :func:`civil`)."""
    y = year - (month <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = np.where(month > 2, month - 3, month + 9)
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def calendar(instants: Instants) -> dict[str, pa.Array]:
    """Calendar parts of naive UTC instants: year, month, day, dayofweek (Monday=0), hour,
    minute, quarter, dayofyear, is_weekend, is_month_start, is_month_end (0/1); missing
    instants give nulls. Exact for every date an Arrow value can hold."""
    missing = instants.missing
    days = instants.days
    year, month, day = civil(days)
    dow = np.mod(days + 3, 7)  # 1970-01-01 was a Thursday
    leap = (np.mod(year, 4) == 0) & ((np.mod(year, 100) != 0) | (np.mod(year, 400) == 0))
    month_days = _MONTH_DAYS[month] + ((month == 2) & leap)
    jan1 = days_from_civil(year, np.ones_like(year), np.ones_like(year))
    hour = instants.nanos // (3600 * 10**9)
    minute = (instants.nanos // (60 * 10**9)) % 60
    parts = {
        "year": year,
        "month": month,
        "day": day,
        "dayofweek": dow,
        "hour": hour,
        "minute": minute,
        "quarter": (month - 1) // 3 + 1,
        "dayofyear": days - jan1 + 1,
        "is_weekend": dow >= 5,
        "is_month_start": day == 1,
        "is_month_end": day == month_days,
    }
    return {name: int_array(values, missing) for name, values in parts.items()}


def cyclical(values: pa.Array, period: int) -> tuple[pa.Array, pa.Array]:
    """sin and cos of ``2*pi*value/period``."""
    x = values.to_numpy(zero_copy_only=False).astype(float) * (2 * math.pi / period)
    return float_array(np.sin(x)), float_array(np.cos(x))


def days_since(instants: Instants, start_ns: int | None) -> pa.Array:
    """Whole days (floor) from ``start_ns`` (integer ns since the epoch, any size) to each
    instant, exactly; null when either is missing."""
    if start_ns is None:
        return pa.nulls(len(instants), pa.int64())
    start_days, start_nanos = divmod(int(start_ns), NS_PER_DAY)
    whole = instants.days - np.int64(start_days) - (instants.nanos < start_nanos)
    return int_array(whole, instants.missing)


def pattern_ids(matrix: np.ndarray) -> np.ndarray:
    """MDM 1.x missing-pattern id per row: the first 8 hex digits of the MD5 of the row's
    0/1 indicator string, as an integer. Hashes one string per distinct pattern."""
    if matrix.shape[1] == 0:
        return np.zeros(matrix.shape[0], dtype=np.int64)
    uniq, inverse = np.unique(matrix.astype(np.uint8), axis=0, return_inverse=True)
    ids = np.array(
        [int(hashlib.md5("".join(map(str, row)).encode()).hexdigest()[:8], 16) for row in uniq.tolist()],
        dtype=np.int64,
    )
    return ids[inverse.reshape(-1)]


def max_run(matrix: np.ndarray) -> np.ndarray:
    """Longest run of consecutive true values along each row (loops over columns)."""
    run = np.zeros(matrix.shape[0], dtype=np.int64)
    best = run.copy()
    for j in range(matrix.shape[1]):
        run = (run + 1) * matrix[:, j]
        best = np.maximum(best, run)
    return best


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


def divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a / b`` with division by zero giving NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b == 0, np.nan, a / np.where(b == 0, 1.0, b))
