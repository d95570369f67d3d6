"""Datetimes of every Arrow type, unit and range as exact instants
(mdm_featurekit.instants), and their calendar parts and elapsed days
(mdm_featurekit.dates): dates 0001..9999, timestamps of every unit, times, durations, text."""

from __future__ import annotations

import calendar as stdlib_calendar
import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from mdm_featurekit import calendar, datetime_mode, days_since, to_instants


def test_calendar_matches_arrow_over_the_nanosecond_range():
    rng = np.random.default_rng(3)
    ns = rng.integers(-(2**63) + 1, 2**63 - 1, 20_000)
    stamps = pa.array(ns, pa.timestamp("ns"))
    parts = calendar(to_instants(stamps, "native"))
    expected = {
        "year": pc.year(stamps), "month": pc.month(stamps), "day": pc.day(stamps),
        "dayofweek": pc.day_of_week(stamps), "hour": pc.hour(stamps), "minute": pc.minute(stamps),
        "quarter": pc.quarter(stamps), "dayofyear": pc.day_of_year(stamps),
    }
    for name, want in expected.items():
        assert parts[name].to_pylist() == want.cast(pa.int64()).to_pylist(), name
    ends = [int(d == stdlib_calendar.monthrange(y, m)[1]) for y, m, d in
            zip(pc.year(stamps).to_pylist(), pc.month(stamps).to_pylist(), pc.day(stamps).to_pylist(), strict=True)]
    assert parts["is_month_end"].to_pylist() == ends


def test_calendar_and_elapsed_days_at_the_ends_of_every_unit():
    dates = [dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(2000, 2, 29), dt.date(1900, 2, 28)]
    for typ in (pa.date32(), pa.date64(), pa.timestamp("s"), pa.timestamp("ms"), pa.timestamp("us"),
                pa.timestamp("s", tz="Asia/Tokyo")):
        column = pc.cast(pa.array(dates + [None], pa.date32()), typ)
        instants = to_instants(column, "native")
        parts = calendar(instants)
        assert parts["year"].to_pylist() == [1, 9999, 2000, 1900, None], typ
        assert parts["dayofyear"].to_pylist() == [1, 365, 60, 59, None], typ
        assert parts["is_month_end"].to_pylist() == [0, 1, 1, 1, None], typ
        start = instants.min_ns()
        assert start == (dt.date(1, 1, 1) - dt.date(1970, 1, 1)).days * 86_400 * 10**9
        assert days_since(instants, start).to_pylist() == [(d - dates[0]).days for d in dates] + [None]


def test_times_and_durations_are_deterministic_instants():
    times = pa.array([dt.time(0, 0), dt.time(23, 59, 59), None], pa.time64("us"))
    assert datetime_mode(times) == "native"
    parts = calendar(to_instants(times, "native"))
    assert parts["year"].to_pylist() == [1970, 1970, None]
    assert parts["hour"].to_pylist() == [0, 23, None]
    durations = pa.array([-1, 86_400, None], pa.duration("s"))
    assert calendar(to_instants(durations, "native"))["day"].to_pylist() == [31, 2, None]


def test_text_dates_parse_beyond_the_nanosecond_range():
    text = pa.array(["9999-12-31", "0001-01-01T10:00:00", "2020-01-01T10:00:00+02:00", "not a date", None])
    parts = calendar(to_instants(text, "iso"))
    assert parts["year"].to_pylist() == [9999, 1, 2020, None, None]
    assert parts["hour"].to_pylist() == [0, 10, 8, None, None]
