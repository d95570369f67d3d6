"""Streaming statistics over Arrow batches: exact, bounded and batch-independent.

Every collector here gives the same result however the table is cut into batches:

- :class:`ExactSum` adds float64 values exactly (a per-exponent integer accumulator), so
  means and variances do not depend on summation order;
- :class:`NumericProfile` keeps count, nulls, min, max, exact sums of values and squares,
  and the exact sorted distinct values with counts while there are at most ``limit`` of
  them (percentiles and quantiles are then exact; above the limit callers use the sample);
- :class:`RowSampler` keeps a fixed-seed *bottom-k* sample of rows: each row gets a key
  from a hash of its position in the table and the ``k`` smallest keys win, which is
  deterministic and independent of batch boundaries;
- :class:`CategoryCounts` counts category levels exactly.

Memory is bounded by the limits given (distinct values, sample size), never by rows.
The functions below them apply what was collected to new values, row-wise:
:func:`quantiles_from_counts`, :func:`rank_pct` and :func:`level_lookup`.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mdm_featurekit.arrays import as_text, int_array

_CHUNK = 1 << 24  # rows per exact-sum step: keeps float64 bincount sums exact
_MASK26 = (1 << 26) - 1


class ExactSum:
    """Exact sum of float64 values; :meth:`value` is the correctly rounded result,
    :meth:`fraction` the exact rational, whatever the order values were added in."""

    def __init__(self) -> None:
        self._acc: dict[int, int] = {}

    def add(self, values: np.ndarray) -> None:
        """Add finite float64 values (callers filter NaN/inf)."""
        for start in range(0, len(values), _CHUNK):
            self._add_chunk(values[start : start + _CHUNK])

    def _add_chunk(self, values: np.ndarray) -> None:
        if not len(values):
            return
        mantissa, exponent = np.frexp(values)
        ints = np.ldexp(mantissa, 53).astype(np.int64)  # exact: |ints| < 2**53
        high = ints >> 26
        low = ints & _MASK26
        # Group by exponent with a counting pass (exponents span at most ~2100 values)
        # instead of a sort: same per-exponent sums, same accumulator keys.
        base = int(exponent.min())
        offsets = exponent - base
        present = np.flatnonzero(np.bincount(offsets))
        high_sums = np.bincount(offsets, weights=high)[present]
        low_sums = np.bincount(offsets, weights=low)[present]
        for exp, hi, lo in zip((present + base).tolist(), high_sums.tolist(), low_sums.tolist(), strict=True):
            self._acc[exp] = self._acc.get(exp, 0) + (int(hi) << 26) + int(lo)

    def fraction(self) -> Fraction:
        """The exact sum as a rational number."""
        if not self._acc:
            return Fraction(0)
        base = min(self._acc) - 53
        total = sum(v << (e - 53 - base) for e, v in self._acc.items())
        return Fraction(total) * (Fraction(2) ** base)

    def value(self) -> float:
        """The exact sum rounded once to the nearest float."""
        return float(self.fraction())


def _two_square(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x*x`` as ``p + e`` exactly (Dekker/Veltkamp), for exact sums of squares."""
    p = values * values
    c = 134217729.0 * values
    high = c - (c - values)
    low = values - high
    e = ((high * high - p) + 2.0 * high * low) + low * low
    return p, e


class NumericProfile:
    """Streamed summary of one numeric column (see the module docstring): ``count``
    (finite values), ``nulls`` (missing, NaN or infinite), ``minimum``, ``maximum``,
    exact :meth:`mean` and :meth:`std`, and the exact :meth:`distinct` values with counts
    while there are at most ``limit`` of them (:attr:`exact`)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        self.nulls = 0
        self.minimum = math.inf
        self.maximum = -math.inf
        self._sum = ExactSum()
        self._sumsq = ExactSum()
        self._values: np.ndarray | None = np.empty(0)
        self._counts: np.ndarray = np.empty(0, dtype=np.int64)
        self._pending: list[np.ndarray] = []
        self._pending_size = 0

    def add(self, values: np.ndarray) -> None:
        """Add one batch of float64 values (NaN = missing; infinities count as missing)."""
        ok = np.isfinite(values)
        good = values[ok]
        self.nulls += int(len(values) - len(good))
        if not len(good):
            return
        self.count += len(good)
        self.minimum = min(self.minimum, float(good.min()))
        self.maximum = max(self.maximum, float(good.max()))
        self._sum.add(good)
        with np.errstate(over="ignore", invalid="ignore"):  # squares past float's range: no exact sum
            p, e = _two_square(good)
        if np.all(np.isfinite(p)):
            self._sumsq.add(p)
            self._sumsq.add(e)
        else:
            self._sumsq = None  # type: ignore[assignment]
        if self._values is not None:
            self._pending.append(good)
            self._pending_size += len(good)
            if self._pending_size >= 65536:
                self._merge()

    def _merge(self) -> None:
        if self._values is None or not self._pending:
            return
        import pandas as pd

        # Count the pending values with a hash table first (no sort of every value); only
        # the distinct ones are then sorted together with the values kept so far.
        codes, levels = pd.factorize(np.concatenate(self._pending), sort=False)
        level_counts = np.bincount(codes, minlength=len(levels))
        merged = np.concatenate([self._values, np.asarray(levels, dtype=np.float64)])
        weights = np.concatenate([self._counts, level_counts.astype(np.int64)])
        self._pending, self._pending_size = [], 0
        values, inverse = np.unique(merged, return_inverse=True)
        if len(values) > self.limit:
            self._values = None
            self._counts = np.empty(0, dtype=np.int64)
            return
        self._values = values
        self._counts = np.bincount(inverse, weights=weights, minlength=len(values)).astype(np.int64)

    @property
    def exact(self) -> bool:
        """Whether the distinct values are known exactly (at most ``limit`` of them)."""
        self._merge()
        return self._values is not None

    def distinct(self) -> tuple[np.ndarray, np.ndarray]:
        """Sorted distinct values and their counts (only when :attr:`exact`)."""
        self._merge()
        if self._values is None:
            raise ValueError("more distinct values than the exact limit")
        return self._values, self._counts

    @property
    def n_distinct(self) -> int | None:
        """Number of distinct values, ``None`` above the exact limit."""
        return len(self.distinct()[0]) if self.exact else None

    def mean(self) -> float | None:
        """Exact mean rounded once; ``None`` without values."""
        return float(self._sum.fraction() / self.count) if self.count else None

    def std(self) -> float | None:
        """Sample standard deviation (ddof=1), computed exactly then rounded; ``None``
        below 2 values or when squares exceed float's range."""
        if self.count < 2 or self._sumsq is None:
            return None
        s1 = self._sum.fraction()
        var = max((self._sumsq.fraction() - s1 * s1 / self.count) / (self.count - 1), Fraction(0))
        try:
            return math.sqrt(float(var))
        except OverflowError:  # the variance exceeds float's range; its root may not
            return math.sqrt(float(var / 2**200)) * 2**100


def _splitmix64(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.uint64)
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


class RowSampler:
    """Fixed-seed bottom-k sample of ``size`` rows of chosen ``columns`` (see the module
    docstring): feed every batch of the table in order to :meth:`add`."""

    def __init__(self, columns: list[str], size: int, seed: int = 20240601) -> None:
        self.columns = columns
        self.size = size
        self.seed = np.uint64(seed)
        self.seen = 0
        self._keys = np.empty(0, dtype=np.uint64)
        self._rows: pa.Table | None = None

    def add(self, batch: pa.RecordBatch) -> None:
        """Offer the next batch of the table (rows are keyed by their table position)."""
        n = batch.num_rows
        positions = np.arange(self.seen, self.seen + n, dtype=np.uint64)
        self.seen += n
        if not self.columns or self.size <= 0 or not n:
            return
        keys = _splitmix64(positions ^ self.seed)
        if len(self._keys) >= self.size:
            # Full: keys are distinct (splitmix64 is a bijection), so only rows whose key
            # beats the largest kept one can enter the bottom-k; skip the others early.
            entering = np.flatnonzero(keys < self._keys.max())
            if not len(entering):
                return
            keys = keys[entering]
            batch = batch.select(self.columns).take(pa.array(entering))
        part = pa.Table.from_batches([batch.select(self.columns)])
        rows = part if self._rows is None else pa.concat_tables([self._rows, part])
        all_keys = np.concatenate([self._keys, keys])
        if len(all_keys) > self.size:
            keep = np.argpartition(all_keys, self.size - 1)[: self.size]
            keep.sort()
            all_keys = all_keys[keep]
            rows = rows.take(pa.array(keep))
        self._keys, self._rows = all_keys, rows.combine_chunks()

    def table(self) -> pa.Table:
        """The sample in a canonical order (by key), whatever the batches were."""
        if self._rows is None:
            return pa.table({c: pa.array([], pa.float64()) for c in self.columns})
        order = np.argsort(self._keys, kind="stable")
        return self._rows.take(pa.array(order))


class CategoryCounts:
    """Exact counts of the levels of one column, as strings (nulls counted apart in
    ``nulls``; ``rows`` counts every value seen)."""

    def __init__(self) -> None:
        self.nulls = 0
        self.rows = 0
        self._parts: list[pa.Table] = []
        self._pending = 0
        self._merged: pa.Table | None = None

    def add(self, column: pa.Array) -> None:
        """Count one batch of the column (any type; compared as text)."""
        column = as_text(column)
        self.rows += len(column)
        self.nulls += column.null_count
        counts = pc.value_counts(column.drop_null())
        part = pa.table({"value": counts.field("values"), "count": counts.field("counts")})
        self._parts.append(part)
        self._pending += len(part)
        if self._pending >= 65536:
            self._merge()

    def _merge(self) -> None:
        if not self._parts:
            return
        parts = ([self._merged] if self._merged is not None else []) + self._parts
        table = pa.concat_tables(parts).group_by("value").aggregate([("count", "sum")])
        self._merged = table.rename_columns(["value", "count"])
        self._parts, self._pending = [], 0

    def levels(self) -> tuple[list[str], np.ndarray]:
        """Levels by decreasing count, ties by value: deterministic."""
        self._merge()
        if self._merged is None or not len(self._merged):
            return [], np.empty(0, dtype=np.int64)
        ordered = self._merged.sort_by([("count", "descending"), ("value", "ascending")])
        return ordered["value"].to_pylist(), ordered["count"].to_numpy().astype(np.int64)


def quantiles_from_counts(values: np.ndarray, counts: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """``numpy.quantile(expanded, qs)`` (linear method) from sorted distinct values and
    their counts, without expanding them."""
    n = int(counts.sum())
    cum = np.cumsum(counts)
    h = (n - 1) * qs
    lo = np.floor(h).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    v_lo = values[np.searchsorted(cum, lo, side="right")]
    v_hi = values[np.searchsorted(cum, hi, side="right")]
    return v_lo + (h - lo) * (v_hi - v_lo)


def rank_pct(values: np.ndarray, ref_values: np.ndarray, ref_counts: np.ndarray) -> np.ndarray:
    """Average-rank percentile of ``values`` within the reference distribution (sorted
    distinct ``ref_values`` with ``ref_counts``; pandas' ``rank(pct=True)`` for values
    that occur in it); NaN stays NaN."""
    n = ref_counts.sum()
    cum = np.concatenate([[0], np.cumsum(ref_counts)])
    left = np.searchsorted(ref_values, values, side="left")
    right = np.searchsorted(ref_values, values, side="right")
    below = cum[left]
    equal = cum[right] - cum[left]
    with np.errstate(invalid="ignore"):
        out = (below + (equal + 1) / 2.0) / n
    out[np.isnan(values)] = np.nan
    return out


def level_lookup(column: pa.Array, levels: list[str], counts: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """For each value of ``column`` (compared as text): its fitted count from
    ``levels``/``counts`` (as :meth:`CategoryCounts.levels` returns them; unseen levels 0,
    missing values null, int64) and its level index (-1 when unseen or missing)."""
    text = as_text(column)
    idx = pc.index_in(text, value_set=pa.array(levels, pa.string()))
    index = idx.fill_null(-1).to_numpy(zero_copy_only=False)
    found = np.where(index >= 0, counts[np.maximum(index, 0)] if len(counts) else 0, 0)
    missing = text.is_null().to_numpy(zero_copy_only=False)
    return int_array(found, missing), index
