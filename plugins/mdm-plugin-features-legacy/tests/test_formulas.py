"""Formulas only the legacy engine uses: the 1.x missing-pattern id, the longest run of
missing columns, and the Box-Cox lambda and transform."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from mdm_plugin_features_legacy.boxcox import boxcox, boxcox_lambda
from mdm_plugin_features_legacy.missing import max_run, pattern_ids

PENGUINS_1X = (Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "legacy-mdm-1.0.6" / "home" / "datasets"
               / "penguins" / "penguins.sqlite")


def test_pattern_id_is_the_1x_md5_prefix_of_the_indicator_string():
    matrix = np.array([[True, False, True], [False, False, False], [True, False, True]])
    expected = [int(hashlib.md5(s.encode()).hexdigest()[:8], 16) for s in ("101", "000", "101")]
    assert pattern_ids(matrix).tolist() == expected
    assert pattern_ids(np.empty((2, 0), dtype=bool)).tolist() == [0, 0]


def test_max_run_is_the_longest_run_of_missing_columns():
    matrix = np.array([[1, 1, 0, 1, 1, 1], [0, 0, 0, 0, 0, 0], [1, 0, 1, 0, 1, 0]], dtype=bool)
    assert max_run(matrix).tolist() == [3, 0, 1]


def test_boxcox_lambda_maximises_the_likelihood():
    rng = np.random.default_rng(2)
    sample = rng.lognormal(size=2000)  # log-normal: lambda close to 0
    lam = boxcox_lambda(sample)
    assert abs(lam) < 0.1

    def llf(value: float) -> float:
        y = boxcox(sample, value)
        return (value - 1) * np.log(sample).sum() - len(sample) / 2 * np.log(y.var())

    assert llf(lam) >= max(llf(lam - 0.01), llf(lam + 0.01))
    assert boxcox_lambda(np.array([3.0, 3.0, np.nan, -1.0])) == 1.0  # constant: 1.x made no column


def test_boxcox_lambda_is_the_one_1x_got_for_a_single_chunk():
    """The fixture's penguins train table was featurised by 1.x in one chunk (272 rows):
    the lambda of the same values in the same order gives its values."""
    # immutable: the fixture is in WAL mode, and a plain read-only open would create -wal/-shm beside it
    with sqlite3.connect(f"file:{PENGUINS_1X}?mode=ro&immutable=1", uri=True) as db:
        rows = db.execute("SELECT flipper_length_mm, flipper_length_mm_boxcox, year, year_boxcox "
                          "FROM train_features").fetchall()
    flipper, flipper_1x, year, year_1x = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    assert np.allclose(boxcox(flipper, boxcox_lambda(flipper)), flipper_1x, rtol=1e-12, equal_nan=True)
    # lambda capped so the largest value stays within float max / 1e4, as scipy does
    assert np.allclose(boxcox(year, boxcox_lambda(year)), year_1x, rtol=1e-12)


def test_boxcox_of_non_positive_values_is_missing():
    out = boxcox(np.array([-1.0, 0.0, np.nan, np.e]), 0.0)
    assert np.isnan(out[:3]).all() and out[3] == pytest.approx(1.0)
