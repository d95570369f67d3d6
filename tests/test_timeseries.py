"""``mdm timeseries validate|resample`` / ``client.validate_time_series`` and
``client.resample_time_series``: planted problems in a small CSV, and 20,000 NYC flights
against pandas on every backend."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from mdm_core.datasets import timeseries
from mdm_core.errors import DatasetError

FLIGHT_ROWS = 20_000
EVENTS = """id,t,station,v
1,2024-01-01,a,1.0
2,2024-01-02,a,2.0
3,2024-01-03,a,
4,2024-01-04,a,4.0
5,2024-01-06,a,6.0
6,2024-01-07,a,7.0
7,2024-01-07,a,7.5
8,2024-01-02,b,20.0
9,2024-01-01,b,10.0
10,,b,99.0
"""



@pytest.fixture
def events(tmp_path) -> Path:
    """Daily readings of stations a and b: 2024-01-05 missing and 2024-01-07 twice for a,
    b stored out of order, one row with no time."""
    path = tmp_path / "events.csv"
    path.write_text(EVENTS)
    return path


def test_validate_reports_planted_problems_on_every_backend(any_backend, client, run_mdm, events):
    client.register_dataset("events", events, time_column="t", generate_features=False)
    done = run_mdm("timeseries", "validate", "events", "--format", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result == {
        "dataset": "events", "table": "data", "time_column": "t", "group_column": None,
        "rows": 10, "null_times": 1, "min": "2024-01-01T00:00:00", "max": "2024-01-07T00:00:00",
        "groups": None, "monotonic": False,
        "duplicates": {"count": 3, "examples": [
            {"group": None, "time": "2024-01-01T00:00:00", "rows": 2},
            {"group": None, "time": "2024-01-02T00:00:00", "rows": 2},
            {"group": None, "time": "2024-01-07T00:00:00", "rows": 2}]},
        "frequency": "1D", "frequency_inferred": True,
        "gaps": {"count": 1, "largest": [
            {"group": None, "start": "2024-01-04T00:00:00", "end": "2024-01-06T00:00:00", "length": "2D"}]},
        "ok": False,
    }
    grouped = client.validate_time_series("events", group_column="station", freq="1D")
    assert (grouped["groups"], grouped["monotonic"], grouped["frequency"], grouped["frequency_inferred"]) == (
        2, False, "1D", False)
    assert grouped["duplicates"] == {"count": 1, "examples": [{"group": "a", "time": "2024-01-07T00:00:00", "rows": 2}]}
    assert grouped["gaps"]["largest"] == [
        {"group": "a", "start": "2024-01-04T00:00:00", "end": "2024-01-06T00:00:00", "length": "2D"}]


def test_validate_text_output_and_a_clean_series(client, run_mdm, tmp_path):
    path = tmp_path / "clean.csv"
    path.write_text("t,v\n" + "".join(f"2024-03-01 {h:02d}:00:00,{h}\n" for h in range(6)))
    client.register_dataset("clean", path, generate_features=False)
    done = run_mdm("timeseries", "validate", "clean", "--time-column", "t")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Dataset 'clean', table 'data', time column 't': 6 rows from 2024-03-01T00:00:00 to 2024-03-01T05:00:00.",
        "Frequency: 1h (the most common step).",
        "Null times: 0.",
        "Stored in time order: yes.",
        "Duplicates: 0 rows repeat an earlier row's time.",
        "Gaps: 0 steps longer than 1h.",
        "OK.",
    ]
    slower = client.validate_time_series("clean", time_column="t", freq="30min")
    assert (slower["ok"], slower["gaps"]["count"]) == (False, 5)


def _pandas_gaps(times: pd.Series, groups: pd.Series | None) -> tuple[int, int]:
    """(duplicates, gaps) as pandas computes them: repeats of (group, time), and steps
    between sorted times within a group longer than the most common positive step."""
    frame = pd.DataFrame({"t": times.astype("int64"), "g": 0 if groups is None else groups})
    duplicates = int(frame.duplicated().sum())
    steps = frame.sort_values(["g", "t"]).groupby("g")["t"].diff().dropna()
    expected = steps[steps > 0].value_counts().sort_index().idxmax()
    return duplicates, int((steps > expected).sum())


def test_validate_matches_pandas_on_flights_on_every_backend(any_backend, client, flights_20k):
    client.register_dataset("flights", flights_20k, time_column="time_hour", generate_features=False)
    frame = pd.read_csv(flights_20k)
    times = pd.to_datetime(frame["time_hour"])
    for group in (None, "origin"):
        result = client.validate_time_series("flights", group_column=group)
        duplicates, gaps = _pandas_gaps(times, None if group is None else frame[group])
        assert (result["duplicates"]["count"], result["gaps"]["count"]) == (duplicates, gaps)
        assert pd.Timestamp(result["min"]) == times.min() and pd.Timestamp(result["max"]) == times.max()
        assert result["frequency"] == "1h" and result["null_times"] == 0 and result["ok"] is False
    assert result["groups"] == frame["origin"].nunique()


def _pandas_resample(frame: pd.DataFrame, freq: str, agg: str, columns: list[str]) -> pd.DataFrame:
    indexed = frame.set_index("time_hour")
    expected = indexed[columns].resample(freq).agg(agg)
    return expected[indexed.resample(freq).size() > 0]  # buckets with rows only


@pytest.mark.parametrize("freq", ["6h", "1D"])
def test_resample_matches_pandas_on_every_backend(any_backend, client, flights_20k, freq):
    client.register_dataset("flights", flights_20k, time_column="time_hour", generate_features=False)
    frame = pd.read_csv(flights_20k).assign(time_hour=lambda f: pd.to_datetime(f["time_hour"]))
    columns = ["dep_delay", "arr_delay", "distance"]
    for agg in ("mean", "sum", "count", "min", "max"):
        got = client.resample_time_series("flights", freq, agg=agg, columns=columns).to_pandas()
        expected = _pandas_resample(frame, freq, agg, columns)
        assert got.columns.tolist() == ["time_hour", *columns]
        assert (got["time_hour"] == expected.index).all()
        np.testing.assert_allclose(got[columns].to_numpy(float), expected.to_numpy(float), rtol=1e-9, atol=1e-9)


def test_resample_groups_and_small_batches(client, flights_20k, monkeypatch):
    monkeypatch.setenv("MDM_PERFORMANCE_BATCH_SIZE", "700")
    monkeypatch.setattr(timeseries, "_MERGE_ROWS", 5)
    from mdm_core.datasets.client import MDMClient

    small = MDMClient()
    small.register_dataset("flights", flights_20k, time_column="time_hour", generate_features=False)
    frame = pd.read_csv(flights_20k).assign(time_hour=lambda f: pd.to_datetime(f["time_hour"]))
    got = small.resample_time_series("flights", "1D", columns=["dep_delay"], group_column="origin").to_pandas()
    expected = frame.groupby("origin").resample("1D", on="time_hour")["dep_delay"].mean().dropna()
    expected = expected.swaplevel().sort_index()
    assert got.columns.tolist() == ["time_hour", "origin", "dep_delay"]
    assert list(zip(got["time_hour"], got["origin"], strict=True)) == list(expected.index)
    np.testing.assert_allclose(got["dep_delay"], expected.to_numpy(), rtol=1e-9)


def test_resample_by_month_with_defaults(client, events):
    client.register_dataset("events", events, time_column="t", generate_features=False)
    got = client.resample_time_series("events", "1M", agg="sum")
    assert got.column_names == ["t", "v"]  # id is an ID column; station is text
    assert got.to_pylist() == [{"t": pd.Timestamp("2024-01-01").to_pydatetime(), "v": 57.5}]


def test_resample_cli_formats_and_files(client, run_mdm, events, tmp_path):
    client.register_dataset("events", events, time_column="t", generate_features=False)
    done = run_mdm("timeseries", "resample", "events", "--freq", "2D", "--agg", "count", "--columns", "v,station",
                   "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        {"t": "2023-12-31 00:00:00", "v": 2, "station": 2},
        {"t": "2024-01-02 00:00:00", "v": 2, "station": 3},
        {"t": "2024-01-04 00:00:00", "v": 1, "station": 1},
        {"t": "2024-01-06 00:00:00", "v": 3, "station": 3},
    ]
    csv = run_mdm("timeseries", "resample", "events", "--freq", "1W", "--agg", "max", "--format", "csv")
    assert csv.stdout.splitlines() == ['"t","v"', "2024-01-01 00:00:00,20"]
    out = tmp_path / "weekly.parquet"
    written = run_mdm("timeseries", "resample", "events", "--freq", "1W", "-o", str(out))
    assert written.stdout.strip() == f"Wrote 1 buckets (mean per 1W) to {out}."
    assert pq.read_table(out).to_pylist()[0]["v"] == pytest.approx(57.5 / 8)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_date_and_text_time_columns(client, tmp_path):
    path = tmp_path / "offsets.csv"
    path.write_text("when,v\n2024-01-01T00:00:00Z,1\n2024-01-01T02:00:00Z,2\n2024-01-01T03:00:00Z,3\n")
    client.register_dataset("offsets", path, column_types=["when=text"], generate_features=False)
    result = client.validate_time_series("offsets", time_column="when")
    assert (result["min"], result["gaps"]["count"], result["frequency"]) == ("2024-01-01T00:00:00+00:00", 1, "1h")
    assert client.resample_time_series("offsets", "2h", time_column="when")["v"].to_pylist() == [1.0, 2.5]


@pytest.mark.parametrize(("args", "message"), [
    (["validate", "events", "--time-column", "nope"],
     "Column 'nope' is not in table 'data' of dataset 'events' (columns: id, t, station, v)."),
    (["validate", "events", "--group-column", "nope"],
     "Column 'nope' is not in table 'data' of dataset 'events' (columns: id, t, station, v)."),
    (["validate", "events", "--freq", "1M"],
     "Frequency '1M' has no fixed length; validate needs one such as 1D, 1h or 15min."),
    (["validate", "events", "--time-column", "v"],
     "The column 'v' of table 'data' of dataset 'events' is double, not a timestamp, date or timestamp text; "
     "pass --time-column with a time column."),
    (["resample", "events", "--freq", "3x"],
     "Frequency '3x' is not understood; write a multiple and a unit, e.g. 1D, 6h, 15min, 30s, 1W or 1M "
     "(units: ns, us, ms, s, min, h, D, W, M, Y)."),
    (["resample", "events", "--freq", "0D"],
     "Frequency '0D' is not understood; write a multiple and a unit, e.g. 1D, 6h, 15min, 30s, 1W or 1M "
     "(units: ns, us, ms, s, min, h, D, W, M, Y)."),
    (["resample", "events", "--freq", "1D", "--columns", "station"],
     "Column 'station' of table 'data' of dataset 'events' is string, not numeric; mean needs numbers "
     "(count takes any column)."),
    (["resample", "events", "--freq", "1D", "--columns", "t"],
     "Column 't' is the time or group column of the resample; leave it out of --columns."),
    (["resample", "events", "--freq", "1D", "-o", "out.txt"], "Output file out.txt must end in .csv or .parquet."),
])
def test_errors_are_one_sentence(client, run_mdm, events, args, message):
    client.register_dataset("events", events, time_column="t", generate_features=False)
    done = run_mdm("timeseries", *args)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"Error: {message}"]


def test_a_dataset_without_time_column(client, penguins):
    client.register_dataset("penguins", penguins, generate_features=False)
    with pytest.raises(DatasetError, match=r"^Dataset 'penguins' has no time column; pass --time-column COLUMN\.$"):
        client.validate_time_series("penguins")
