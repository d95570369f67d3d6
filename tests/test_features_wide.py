"""Wide tables: feature generation costs time per column, not per pair of columns.

Interaction pairs are exact up to ``mdm_featurekit.EXACT_PAIR_COLUMNS`` numeric columns
and screened above it (plugins/mdm-featurekit/tests/test_correlation.py); constant
features of a training table held in memory are left out before anything is written, so
no column is dropped from a stored table and they never count against a backend's column
limit. (Speed itself: benchmarks/bench_wide_features.py.)
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from mdm_core.datasets.client import MDMClient


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
