"""Row-wise numeric formulas (mdm_featurekit.numeric): bins, fences, division, pairs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from mdm_featurekit import (
    PAIR_OPERATIONS,
    bin_index,
    divide,
    equal_width_edges,
    iqr_fences,
    quantile_edges,
)


def test_equal_width_edges_are_those_of_pandas_cut():
    values = np.array([0.0, 1.5, 3.0, 7.25, 10.0])
    _, edges = pd.cut(values, 4, retbins=True)
    np.testing.assert_allclose(equal_width_edges(0.0, 10.0, 4), edges)


def test_bin_index_is_right_closed_and_clips_outside_values():
    edges = np.array([0.0, 1.0, 2.0, 3.0])
    got = bin_index(np.array([0.0, 0.5, 1.0, 1.01, 3.0, -5.0, 9.0, np.nan]), edges)
    assert got.to_pylist() == [0, 0, 0, 1, 2, 0, 2, None]


def test_quantile_edges_and_fences_come_from_counts_without_expanding_them():
    values, counts = np.array([1.0, 2.0, 3.0, 10.0]), np.array([5, 1, 1, 3])
    expanded = np.repeat(values, counts)
    np.testing.assert_allclose(quantile_edges(values, counts, 4), np.unique(np.quantile(expanded, np.linspace(0, 1, 5))))
    q1, q3 = np.quantile(expanded, [0.25, 0.75])
    assert iqr_fences(values, counts, 1.5) == pytest.approx((q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)))


def test_division_by_zero_is_missing_and_pairs_are_plain_arithmetic():
    x, y = np.array([1.0, 4.0, np.nan]), np.array([0.0, 2.0, 1.0])
    assert np.isnan(divide(x, y)[[0, 2]]).all() and divide(x, y)[1] == 2.0
    assert set(PAIR_OPERATIONS) == {"plus", "minus", "times", "div"}
    np.testing.assert_array_equal(PAIR_OPERATIONS["times"](x, y), x * y)
