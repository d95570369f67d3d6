"""``mdm dataset stats`` and ``client.get_statistics``: equal to pandas' answers for the
same data, on SQLite, DuckDB and PostgreSQL, on 1.x datasets, whatever the batch size."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdm_core.datasets.statistics import HISTOGRAM_BINS, PERCENTILES

FLIGHT_ROWS = 20_000
KEYS = ["type", "kind", "count", "nulls", "distinct", "min", "max", "mean", "std", "top", "percentiles",
        "skewness", "histogram"]



def _stats(run_mdm, *args: str) -> dict:
    out = run_mdm("dataset", "stats", *args, "--format", "json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def assert_matches_pandas(result: dict, frame: pd.DataFrame, extended: bool) -> None:
    """Every column's statistics against pandas' on the same data, field by field."""
    assert result["rows"] == len(frame)
    assert list(result["columns"]) == list(frame.columns)
    for name, stats in result["columns"].items():
        assert list(stats) == KEYS, name
        series = frame[name]
        assert stats["count"] == series.count(), name
        assert stats["nulls"] == series.isna().sum(), name
        assert stats["distinct"] == series.nunique(), name
        numeric = pd.api.types.is_numeric_dtype(series) and stats["kind"] != "boolean"
        if numeric:
            assert _same(stats["min"], series.min()) and _same(stats["max"], series.max()), name
            assert _same(stats["mean"], series.mean(), rel=1e-12), name
            assert _same(stats["std"], series.std(ddof=1), rel=1e-9), name
        elif stats["kind"] == "datetime":
            values = pd.to_datetime(series).dropna()
            assert pd.Timestamp(stats["min"]) == values.min() and pd.Timestamp(stats["max"]) == values.max(), name
        elif stats["kind"] in ("categorical", "text") and series.dtype == object:
            assert _same(stats["min"], series.dropna().min()) and _same(stats["max"], series.dropna().max()), name
        if stats["top"] is not None:
            counts = series.value_counts()
            assert [c for _, c in stats["top"]] == counts.head(5).tolist(), name
            by_text = {str(k): v for k, v in counts.items()}
            assert all(by_text[str(value)] == count for value, count in stats["top"]), name
        if not (extended and numeric) or stats["count"] == 0:
            assert stats["percentiles"] is None and stats["histogram"] is None, name
            continue
        expected = series.quantile([p / 100 for p in PERCENTILES]).tolist()
        assert list(stats["percentiles"]) == [f"p{p}" for p in PERCENTILES]
        assert list(stats["percentiles"].values()) == pytest.approx(expected, rel=1e-9, abs=1e-9), name
        assert _same(stats["skewness"], series.skew(), rel=1e-6, abs=1e-6), name  # NaN: a constant column
        counts, edges = np.histogram(series.dropna().to_numpy(dtype=float), bins=HISTOGRAM_BINS)
        assert stats["histogram"]["counts"] == counts.tolist(), name
        assert stats["histogram"]["edges"] == pytest.approx(edges.tolist()), name


def _same(ours, theirs, rel: float = 1e-12, abs: float = 0.0) -> bool:  # noqa: A002
    """``ours`` equals pandas' ``theirs``; pandas' NaN (nothing to compute) is our null."""
    if isinstance(theirs, float) and math.isnan(theirs):
        return ours is None
    if isinstance(theirs, str):
        return ours == theirs
    return ours == pytest.approx(theirs, rel=rel, abs=abs)


def test_flights_and_penguins_match_pandas_on_every_backend(any_backend, run_mdm, flights_20k, penguins):
    assert run_mdm("dataset", "register", "flights", str(flights_20k), "--no-features").returncode == 0
    assert run_mdm("dataset", "register", "penguins", str(penguins), "--no-features").returncode == 0

    flights = pd.read_csv(flights_20k)
    result = _stats(run_mdm, "flights", "--extended")
    assert (result["dataset"], result["table"]) == ("flights", "data")
    assert_matches_pandas(result, flights, extended=True)
    carrier = result["columns"]["carrier"]
    assert carrier["type"] == "string" and carrier["kind"] == "categorical"
    assert carrier["top"][0] == ["UA", int((flights["carrier"] == "UA").sum())]
    assert carrier["mean"] is None and carrier["skewness"] is None

    assert_matches_pandas(_stats(run_mdm, "penguins", "--extended"), pd.read_csv(penguins / "train.csv"), True)
    test = _stats(run_mdm, "penguins", "--table", "test")
    assert test["table"] == "test"
    assert_matches_pandas(test, pd.read_csv(penguins / "test.csv"), extended=False)


def test_columns_option_keeps_their_order(client, run_mdm, penguins):
    client.register_dataset("penguins", penguins, generate_features=False)
    result = _stats(run_mdm, "penguins", "--columns", "sex, bill_length_mm")
    assert list(result["columns"]) == ["sex", "bill_length_mm"]
    frame = pd.read_csv(penguins / "train.csv")[["sex", "bill_length_mm"]]
    assert_matches_pandas(result, frame, extended=False)
    sex = result["columns"]["sex"]
    assert sex == {
        "type": "string", "kind": "categorical", "count": 261, "nulls": 11, "distinct": 2,
        "min": "female", "max": "male", "mean": None, "std": None,
        "top": [["female", 134], ["male", 127]], "percentiles": None, "skewness": None, "histogram": None,
    }


def test_text_output_names_table_and_columns(client, run_mdm, penguins):
    client.register_dataset("penguins", penguins, generate_features=False)
    out = run_mdm("dataset", "stats", "penguins", "--extended")
    assert out.returncode == 0, out.stderr
    assert "Dataset 'penguins', table 'train': 272 rows, 9 columns." in out.stdout
    for text in ("bill_length_mm", "Adelie (118)", "Percentiles and skewness", "Histograms"):
        assert text in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--columns", "species,nope"], "Error: Table 'train' of dataset 'penguins' has no column 'nope' (columns: id,"),
        (["--table", "nope"], "Error: Dataset 'penguins' has no table 'nope' (tables: train, test, sample_submission)."),
    ],
)
def test_unknown_column_or_table_is_one_sentence(client, run_mdm, penguins, args, message):
    client.register_dataset("penguins", penguins, generate_features=False)
    out = run_mdm("dataset", "stats", "penguins", *args)
    assert out.returncode == 1
    assert out.stderr.startswith(message) and len(out.stderr.strip().splitlines()) == 1
    assert out.stdout == ""


def test_unknown_dataset_exits_1(home, run_mdm):
    out = run_mdm("dataset", "stats", "nope")
    assert out.returncode == 1 and "nope" in out.stderr and "Traceback" not in out.stderr


def test_small_batches_give_the_same_answer(any_backend, client, flights_20k):
    """Streaming is independent of batch boundaries: 997-row batches == one big batch."""
    client.register_dataset("flights", flights_20k, generate_features=False)
    small = client.get_statistics("flights", extended=True, batch_size=997)
    big = client.get_statistics("flights", extended=True, batch_size=1_000_000)
    assert small["rows"] == big["rows"] == FLIGHT_ROWS
    for name, stats in big["columns"].items():
        for key, value in stats.items():
            if isinstance(value, float):
                assert math.isclose(small["columns"][name][key], value, rel_tol=1e-12), (name, key)
            elif key == "percentiles" and value:
                assert small["columns"][name][key] == pytest.approx(value, rel=1e-12), (name, key)
            else:
                assert small["columns"][name][key] == value, (name, key)


def test_mdm_1x_datasets_are_read_as_they_are(monkeypatch, legacy_fixture, run_mdm):
    """1.x datasets come through the same read path; not a byte of the home changes."""
    home = legacy_fixture / "home"
    monkeypatch.setenv("MDM_HOME_DIR", str(home))
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in home.rglob("*") if p.is_file()}
    result = _stats(run_mdm, "penguins", "--extended")
    frame = pd.read_csv(legacy_fixture / "data" / "penguins" / "train.csv")
    assert result["rows"] == len(frame)
    shared = [c for c in frame.columns if c in result["columns"]]
    assert len(shared) == len(frame.columns)
    assert_matches_pandas({**result, "columns": {c: result["columns"][c] for c in shared}}, frame, extended=True)
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in home.rglob("*") if p.is_file()}
    assert after == before


def test_nan_counts_as_missing_and_empty_columns(client, tmp_path):
    """NaN is a missing value (as in pandas); an all-null column has no min, mean or top."""
    path = tmp_path / "t.parquet"
    frame = pd.DataFrame({"x": [1.0, float("nan"), 3.0, None], "s": pd.Series([None] * 4, dtype=object)})
    frame.to_parquet(path)
    client.register_dataset("t", path, generate_features=False, backend="duckdb")
    stats = client.get_statistics("t", extended=True)["columns"]
    assert (stats["x"]["count"], stats["x"]["nulls"], stats["x"]["distinct"]) == (2, 2, 2)
    assert stats["x"]["mean"] == 2.0 and stats["x"]["percentiles"]["p50"] == 2.0
    assert (stats["s"]["count"], stats["s"]["nulls"], stats["s"]["distinct"], stats["s"]["min"]) == (0, 4, 0, None)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.just(float("nan")), st.floats(-1e6, 1e6), st.integers(-50, 50)), min_size=1,
                    max_size=200),
    cuts=st.lists(st.integers(0, 200), max_size=6),
)
def test_any_batch_split_equals_pandas(values, cuts):
    """The accumulators alone, on random data cut into random batches: pandas' answers."""
    import pyarrow as pa

    from mdm_core.datasets.statistics import batches_statistics

    numbers = pa.array([None if v is None else float(v) for v in values], pa.float64())
    labels = pa.array([None if v is None else f"v{int(v) % 7 if v == v else 'nan'}" for v in values])
    batch = pa.record_batch({"x": numbers, "s": labels})
    bounds = sorted({0, len(values), *(c for c in cuts if c < len(values))})
    batches = [batch.slice(a, b - a) for a, b in zip(bounds, bounds[1:], strict=False)]
    rows, stats = batches_statistics(batches, batch.schema, {"x": "numeric", "s": "categorical"}, extended=True)
    frame = batch.to_pandas()
    result = {"rows": rows, "columns": stats}
    assert_matches_pandas(result, frame, extended=True)


def test_every_arrow_kind_the_same_on_every_backend(any_backend, client, tmp_path):
    """Booleans, decimals, dates, timestamps, binary and big integers: same answer everywhere."""
    import datetime as dt
    from decimal import Decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "types.parquet"
    pq.write_table(pa.table({
        "b": [True, False, None, True],
        "d": pa.array([Decimal("1.5"), None, Decimal("2.25"), Decimal("1.5")], pa.decimal128(10, 2)),
        "day": [dt.date(2020, 1, 1), None, dt.date(2021, 1, 1), dt.date(2020, 1, 1)],
        "ts": pa.array([dt.datetime(2020, 1, 1, tzinfo=dt.UTC)] * 3 + [None], pa.timestamp("us", "UTC")),
        "bin": [b"a", b"\xff", None, b"a"],
        "i": pa.array([1, 2, None, 2**40], pa.int64()),
    }), path)
    client.register_dataset("types", path, generate_features=False)
    got = {c: (s["kind"], s["count"], s["nulls"], s["distinct"], s["min"], s["max"], s["mean"], s["top"])
           for c, s in client.get_statistics("types", extended=True)["columns"].items()}
    assert got == {
        "b": ("boolean", 3, 1, 2, False, True, None, [[True, 2], [False, 1]]),
        "d": ("numeric", 3, 1, 2, 1.5, 2.25, 1.75, None),
        "day": ("datetime", 3, 1, 2, "2020-01-01", "2021-01-01", None, None),
        "ts": ("datetime", 3, 1, 1, "2020-01-01T00:00:00+00:00", "2020-01-01T00:00:00+00:00", None, None),
        "bin": ("categorical", 3, 1, 2, "a", "0xff", None, [["a", 2], ["0xff", 1]]),
        "i": ("numeric", 3, 1, 3, 1, 2**40, pytest.approx((3 + 2**40) / 3), None),
    }
