"""The table profile (mdm_featurekit.profile) and the pairs found on its sample
(mdm_featurekit.correlation.correlated_pairs): one streamed pass, independent of batches."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
from mdm_featurekit import FitGuard, correlated_pairs, profile_table, sample_matrix

from mdm_core.features.contract import FitContext, SourceColumn


def _table(rows: int = 600) -> tuple[pa.Table, FitContext]:
    rng = np.random.default_rng(4)
    a = rng.normal(size=rows)
    table = pa.table({
        "id": np.arange(rows),
        "a": a,
        "b": np.where(rng.random(rows) < 0.1, np.nan, 3 * a + rng.normal(size=rows) * 0.01),
        "noise": rng.normal(size=rows).round(1),
        "city": pa.array(rng.choice(["x", "y", None], rows)),
        "when": pa.array([dt.date(2000, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 9000, rows)]),
        "y": rng.integers(0, 2, rows),
    })
    kinds = {"id": "id", "a": "numeric", "b": "numeric", "noise": "numeric", "city": "categorical",
             "when": "datetime", "y": "numeric"}
    context = FitContext("t", tuple(SourceColumn(n, k) for n, k in kinds.items()), target_column="y",
                         id_columns=("id",), head=table.slice(0, 100), row_count=rows)
    return table, context


def _profile(table, context, batch_rows, **limits):
    limits = {"exact_limit": 100, "sample_size": 200} | limits
    return profile_table(table.to_batches(max_chunksize=batch_rows), context, **limits)


def test_profile_is_the_same_for_any_batch_size():
    table, context = _table()
    profiles = [_profile(table, context, size) for size in (1, 7, 10_000)]
    first = profiles[0]
    assert set(first.numeric) == {"a", "b", "noise"} and set(first.categorical) == {"city"}
    assert first.datetime_modes == {"when": "native"}
    for other in profiles[1:]:
        assert other.rows == first.rows and other.nulls == first.nulls
        assert other.sample.equals(first.sample)
        assert other.datetime_min == first.datetime_min
        for name in first.numeric:
            assert (other.numeric[name].mean(), other.numeric[name].std()) == (first.numeric[name].mean(), first.numeric[name].std())
            for got, want in zip(other.distribution(name), first.distribution(name), strict=True):
                np.testing.assert_array_equal(got, want)
    assert first.missing_ratio("b") == first.nulls["b"] / 600


def test_distribution_is_exact_up_to_the_limit_and_the_sample_above():
    table, context = _table()
    profile = _profile(table, context, 64)
    values, counts = profile.distribution("noise")  # about 60 distinct values: exact
    assert counts.sum() == 600 and profile.numeric["noise"].exact
    values, counts = profile.distribution("a")  # 600 distinct values: the 200-row sample
    assert not profile.numeric["a"].exact and counts.sum() == 200
    sample = profile.sample_values("a")
    np.testing.assert_array_equal(values, np.unique(sample))
    assert sample_matrix(profile, ["a", "b"]).shape == (200, 2)


def test_correlated_pairs_name_featurable_numeric_columns_strongest_first():
    table, context = _table()
    profile = _profile(table, context, 100)
    assert correlated_pairs(profile, context, 0.5, 10) == [("a", "b")]
    assert correlated_pairs(profile, context, 0.5, 0) == []


def test_a_column_whose_statistics_fail_is_listed_and_left_out():
    table, context = _table()
    table = table.set_column(table.schema.get_field_index("noise"), "noise", pa.array(["n/a"] * table.num_rows))
    guard = FitGuard(skip_on_error=True)
    profile = profile_table(table.to_batches(), context, exact_limit=100, sample_size=50, guard=guard)
    assert "noise" in profile.failed and "noise" not in profile.numeric
    assert [(f, c) for f, c, _ in guard.skipped] == [("numeric statistics", "noise")]
