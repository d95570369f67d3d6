"""The streaming statistics behind both engines: exact, and independent of batching."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from mdm_core.features.fitting import (
    CategoryCounts,
    ExactSum,
    NumericProfile,
    RowSampler,
    quantiles_from_counts,
)

floats = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)


@settings(max_examples=60, deadline=None)
@given(st.lists(floats, min_size=1, max_size=200), st.integers(1, 50))
def test_exact_sum_is_exact_and_order_independent(values, cut):
    acc = ExactSum()
    for i in range(0, len(values), cut):
        acc.add(np.array(values[i : i + cut]))
    assert acc.fraction() == sum(Fraction(v) for v in values)
    assert acc.value() == math.fsum(values)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(floats, st.just(float("nan"))), min_size=2, max_size=300), st.integers(1, 40))
def test_numeric_profile_does_not_depend_on_batches(values, cut):
    data = np.array(values)
    whole, parts = NumericProfile(1000), NumericProfile(1000)
    whole.add(data)
    for i in range(0, len(data), cut):
        parts.add(data[i : i + cut])
    assert (whole.mean(), whole.std(), whole.count, whole.nulls) == (parts.mean(), parts.std(), parts.count, parts.nulls)
    if whole.count:
        v, c = parts.distinct()
        qs = np.linspace(0, 1, 11)
        np.testing.assert_allclose(quantiles_from_counts(v, c, qs), np.quantile(data[~np.isnan(data)], qs))


def test_profile_falls_back_beyond_the_distinct_limit():
    profile = NumericProfile(limit=100)
    profile.add(np.arange(1000.0))
    assert not profile.exact and profile.mean() == 499.5


def test_row_sample_is_the_same_for_any_batch_size():
    table = pa.table({"x": np.arange(5000.0)})
    samples = []
    for size in (7, 999, 5000):
        sampler = RowSampler(["x"], 300)
        for batch in table.to_batches(max_chunksize=size):
            sampler.add(batch)
        samples.append(sampler.table())
    assert samples[0].num_rows == 300
    assert samples[0].equals(samples[1]) and samples[0].equals(samples[2])


def test_category_counts_are_exact_and_ordered():
    counts = CategoryCounts()
    counts.add(pa.array(["b", "a", None, "b"]))
    counts.add(pa.array(["a", "c", "b"]))
    assert counts.levels()[0] == ["b", "a", "c"]
    assert counts.levels()[1].tolist() == [3, 2, 1] and counts.nulls == 1


def _pairwise_reference(matrix: np.ndarray) -> np.ndarray:
    """Pearson per pair with numpy over the rows where both columns are present."""
    k = matrix.shape[1]
    out = np.full((k, k), np.nan)
    present = np.isfinite(matrix)
    for i in range(k):
        for j in range(i + 1, k):
            both = present[:, i] & present[:, j]
            a, b = matrix[both, i], matrix[both, j]
            if both.sum() >= 3 and np.ptp(a) > 0 and np.ptp(b) > 0:
                out[i, j] = out[j, i] = np.corrcoef(a, b)[0, 1]
    return out


@st.composite
def sample_matrices(draw):
    rows, cols = draw(st.integers(0, 40)), draw(st.integers(1, 5))
    # Measurements: small integers, or up to 1e6 with three decimals (squares of values
    # near the bottom of the float range underflow, in numpy's reference too).
    cell = st.one_of(st.just(np.nan), st.integers(-1000, 1000).map(float), st.integers(-10**9, 10**9).map(lambda v: v / 1000))
    columns = []
    for _ in range(cols):
        if draw(st.booleans()):
            columns.append(draw(st.lists(cell, min_size=rows, max_size=rows)))
        else:  # a column constant wherever present
            value = draw(cell.filter(lambda v: not np.isnan(v)))
            columns.append([value if draw(st.booleans()) else np.nan for _ in range(rows)])
    return np.array(columns, dtype=np.float64).T.reshape(rows, cols)


@settings(max_examples=150, deadline=None)
@given(sample_matrices())
def test_pairwise_correlations_match_per_pair_numpy(matrix):
    from mdm_core.features.ops import pairwise_correlations

    got, want = pairwise_correlations(matrix), _pairwise_reference(matrix)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], atol=1e-9)
