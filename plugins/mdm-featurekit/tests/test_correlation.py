"""Correlations (mdm_featurekit.correlation): all pairs match numpy per pair; the strongest
pairs are exact up to ``EXACT_PAIR_COLUMNS`` numeric columns (the same pairs as the
all-pairs search) and screened above it (strong pairs found, every reported correlation
exact)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mdm_featurekit import EXACT_PAIR_COLUMNS, pairwise_correlations, strongest_pairs


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
    got, want = pairwise_correlations(matrix), _pairwise_reference(matrix)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], atol=1e-9)


def _all_pairs(matrix: np.ndarray, threshold: float, limit: int) -> list[tuple[int, int, float]]:
    """The search over every pair (what interactions did before screening existed)."""
    corr = pairwise_correlations(matrix)
    n = matrix.shape[1]
    found = sorted(
        (-abs(corr[i, j]), i, j) for i in range(n) for j in range(i + 1, n)
        if np.isfinite(corr[i, j]) and abs(corr[i, j]) > threshold
    )
    return [(i, j, float(corr[i, j])) for _, i, j in found[:limit]]


def _exact(matrix: np.ndarray, i: int, j: int) -> float:
    both = np.isfinite(matrix[:, i]) & np.isfinite(matrix[:, j])
    return float(np.corrcoef(matrix[both, i], matrix[both, j])[0, 1])


@pytest.mark.parametrize("columns", [2, 17, EXACT_PAIR_COLUMNS])
def test_pairs_up_to_the_exact_limit_are_those_of_the_all_pairs_search(columns):
    rng = np.random.default_rng(columns)
    matrix = rng.normal(size=(40, columns))
    matrix[:, columns // 2] = 3.0  # constant: no correlation
    matrix[rng.random(matrix.shape) < 0.1] = np.nan
    if columns > 2:
        matrix[:, 1] = matrix[:, 0] * -2 + rng.normal(size=40) * 0.01
    for threshold, limit in ((0.1, 5), (0.0, 10_000), (0.9, 3)):
        assert strongest_pairs(matrix, threshold, limit) == _all_pairs(matrix, threshold, limit)


def test_wide_matrices_find_strong_pairs_with_exact_correlations():
    rng = np.random.default_rng(11)
    rows, columns = 200, 3000
    matrix = rng.normal(size=(rows, columns))
    planted = [(17, 2890, -4.0), (1203, 1999, 0.5), (640, 641, 1.0)]
    for i, j, scale in planted:
        matrix[:, j] = scale * matrix[:, i] + rng.normal(size=rows) * 0.05 * abs(scale)
    matrix[rng.random(matrix.shape) < 0.03] = np.nan
    found = strongest_pairs(matrix, 0.1, 5)
    pairs = [(i, j) for i, j, _ in found]
    assert set(pairs[:3]) == {(i, j) for i, j, _ in planted}
    for i, j, r in found:
        assert r == pytest.approx(_exact(matrix, i, j), abs=1e-12)
    assert found == strongest_pairs(matrix, 0.1, 5)  # deterministic


def test_wide_matrices_without_usable_columns_give_no_pairs():
    constant = np.ones((10, EXACT_PAIR_COLUMNS + 5))
    assert strongest_pairs(constant, 0.1, 5) == []
    assert strongest_pairs(np.full((2, 400), np.nan), 0.0, 5) == []
