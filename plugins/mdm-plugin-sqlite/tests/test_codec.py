"""The text storage encoding (SQLite): stored text is readable ISO-8601 and decodes exactly."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given
from hypothesis import strategies as st
from mdm_plugin_sqlite.codec import decode_column, encode_column

UNITS = st.sampled_from(["s", "ms", "us", "ns"])
ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])


def test_zoned_timestamps_are_stored_as_utc_text_with_z() -> None:
    column = pa.array([dt.datetime(2013, 1, 1, 5, tzinfo=dt.UTC), None], pa.timestamp("s", tz="America/New_York"))
    assert encode_column(column, column.type).to_pylist() == ["2013-01-01 05:00:00Z", None]


PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
YEAR_1, YEAR_9999_END = -62_135_596_800, 253_402_300_799  # seconds since the epoch


@st.composite
def zoned_instants(draw):
    """A unit, a zone and instants (as integers of that unit) within years 1..9999."""
    unit, zone = draw(UNITS), draw(ZONES)
    scale = PER_SECOND[unit]
    # Arrow cannot parse text within a few seconds of the int64 nanosecond limits.
    low, high = max(YEAR_1 * scale, -(2**63) + 10**10), min(YEAR_9999_END * scale, 2**63 - 1 - 10**10)
    return draw(st.lists(st.one_of(st.none(), st.integers(low, high)), max_size=50)), unit, zone


@given(zoned_instants())
def test_zoned_timestamp_text_matches_arrow_utc_formatting_and_round_trips(case) -> None:
    values, unit, zone = case
    typ = pa.timestamp(unit, tz=zone)
    column = pa.array(values, pa.int64()).view(typ) if values else pa.array([], typ)
    text = encode_column(column, typ)
    assert text.equals(pc.cast(pc.cast(column, pa.timestamp(unit, "UTC")), pa.string()))
    assert decode_column(text, typ).equals(column)
