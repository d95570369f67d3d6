"""The streaming statistics (mdm_featurekit.stats): exact, and independent of batching."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from mdm_featurekit import (
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
