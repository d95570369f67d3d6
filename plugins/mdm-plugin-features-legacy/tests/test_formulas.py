"""Formulas only the legacy engine uses: the 1.x missing-pattern id, the longest run of
missing columns, and the Box-Cox lambda and transform."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from mdm_plugin_features_legacy.boxcox import boxcox, boxcox_lambda
from mdm_plugin_features_legacy.missing import max_run, pattern_ids


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
    assert boxcox_lambda(np.array([1.0, 2.0])) == 1.0  # too few values


def test_boxcox_of_non_positive_values_is_missing():
    out = boxcox(np.array([-1.0, 0.0, np.nan, np.e]), 0.0)
    assert np.isnan(out[:3]).all() and out[3] == pytest.approx(1.0)
