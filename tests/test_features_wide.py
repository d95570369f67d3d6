"""Wide tables: feature generation costs time per column, not per pair of columns.

Interaction pairs are exact up to ``ops.EXACT_PAIR_COLUMNS`` numeric columns (the same
pairs as the all-pairs search) and screened above it (strong pairs found, every reported
correlation exact); constant features of a training table held in memory are left out
before anything is written, so no column is dropped from a stored table and they never
count against a backend's column limit. (Speed itself: benchmarks/bench_wide_features.py.)
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from mdm_core.datasets.client import MDMClient
from mdm_core.features import ops


def _all_pairs(matrix: np.ndarray, threshold: float, limit: int) -> list[tuple[int, int, float]]:
    """The search over every pair (what interactions did before screening existed)."""
    corr = ops.pairwise_correlations(matrix)
    n = matrix.shape[1]
    found = sorted(
        (-abs(corr[i, j]), i, j) for i in range(n) for j in range(i + 1, n)
        if np.isfinite(corr[i, j]) and abs(corr[i, j]) > threshold
    )
    return [(i, j, float(corr[i, j])) for _, i, j in found[:limit]]


def _exact(matrix: np.ndarray, i: int, j: int) -> float:
    both = np.isfinite(matrix[:, i]) & np.isfinite(matrix[:, j])
    return float(np.corrcoef(matrix[both, i], matrix[both, j])[0, 1])


@pytest.mark.parametrize("columns", [2, 17, ops.EXACT_PAIR_COLUMNS])
def test_pairs_up_to_the_exact_limit_are_those_of_the_all_pairs_search(columns):
    rng = np.random.default_rng(columns)
    matrix = rng.normal(size=(40, columns))
    matrix[:, columns // 2] = 3.0  # constant: no correlation
    matrix[rng.random(matrix.shape) < 0.1] = np.nan
    if columns > 2:
        matrix[:, 1] = matrix[:, 0] * -2 + rng.normal(size=40) * 0.01
    for threshold, limit in ((0.1, 5), (0.0, 10_000), (0.9, 3)):
        assert ops.strongest_pairs(matrix, threshold, limit) == _all_pairs(matrix, threshold, limit)


def test_wide_matrices_find_strong_pairs_with_exact_correlations():
    rng = np.random.default_rng(11)
    rows, columns = 200, 3000
    matrix = rng.normal(size=(rows, columns))
    planted = [(17, 2890, -4.0), (1203, 1999, 0.5), (640, 641, 1.0)]
    for i, j, scale in planted:
        matrix[:, j] = scale * matrix[:, i] + rng.normal(size=rows) * 0.05 * abs(scale)
    matrix[rng.random(matrix.shape) < 0.03] = np.nan
    found = ops.strongest_pairs(matrix, 0.1, 5)
    pairs = [(i, j) for i, j, _ in found]
    assert set(pairs[:3]) == {(i, j) for i, j, _ in planted}
    for i, j, r in found:
        assert r == pytest.approx(_exact(matrix, i, j), abs=1e-12)
    assert found == ops.strongest_pairs(matrix, 0.1, 5)  # deterministic


def test_wide_matrices_without_usable_columns_give_no_pairs():
    constant = np.ones((10, ops.EXACT_PAIR_COLUMNS + 5))
    assert ops.strongest_pairs(constant, 0.1, 5) == []
    assert ops.strongest_pairs(np.full((2, 400), np.nan), 0.0, 5) == []


def _wide_csv(path, columns: int, rows: int):
    rng = np.random.default_rng(5)
    table = pa.table({f"c{i}": rng.normal(size=rows).round(3) for i in range(columns)})
    pacsv.write_csv(table, path)
    return path


@pytest.mark.parametrize("backend", ["sqlite", "duckdb"])
def test_constant_features_are_left_out_before_writing(home, tmp_path, monkeypatch, backend):
    """1,000 columns x 5 rows: most c__is_outlier are constant (all 0). They are never written
    (no drop_columns), so the feature table fits even SQLite's 2,000-column limit, and
    it equals what regeneration writes."""
    import importlib

    module = importlib.import_module(f"mdm_plugin_{backend}.backend")
    store_class = next(v for k, v in vars(module).items() if k.endswith("Store") and hasattr(v, "drop_columns"))

    def refuse(self, name, columns):
        raise AssertionError(f"drop_columns({name!r}, {len(columns)} columns) called")

    monkeypatch.setattr(store_class, "drop_columns", refuse)
    client = MDMClient()
    info = client.register_dataset("wide", _wide_csv(tmp_path / "w.csv", 1000, 5), backend=backend)
    features = client.load_arrow("wide", "data_features")
    assert features.num_columns < 2000
    outliers = [n for n in features.column_names if n.endswith("__is_outlier")]
    assert 0 < len(outliers) < 500
    assert all(features.column(n).to_pylist().count(1) for n in outliers)
    assert info.table("data_features").row_count == 5
    client.regenerate_features("wide")
    assert client.load_arrow("wide", "data_features").equals(features)
