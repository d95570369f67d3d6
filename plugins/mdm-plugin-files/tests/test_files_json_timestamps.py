"""ISO-8601 text in JSON and JSON Lines becomes dates and timestamps as in CSV: the zone
kept (as UTC), the unit that loses nothing, text when values disagree, and a late value
that does not fit widens the column (read again) instead of being dropped or altered."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pytest
from mdm_plugin_files.csv_reader import CsvReader
from mdm_plugin_files.json_reader import JsonReader

UTC = dt.UTC
#: More rows than fit in pyarrow's first 8 MiB JSON block (about 40 bytes each).
ONE_BLOCK_AND_MORE = 260_000


def _write(path, values: list, key: str = "t") -> None:
    if path.suffix == ".json":
        path.write_text(json.dumps([{"id": i, key: v} for i, v in enumerate(values)]))
    else:
        path.write_text("".join(json.dumps({"id": i, key: v}) + "\n" for i, v in enumerate(values)))


@pytest.fixture(params=["jsonl", "json"])
def json_path(request, tmp_path):
    return tmp_path / f"t.{request.param}"


@pytest.mark.parametrize(
    ("values", "expected_type", "expected"),
    [
        (["2013-01-01 05:00:00Z", "2013-01-02T06:30:00Z"], pa.timestamp("s", tz="UTC"),
         [dt.datetime(2013, 1, 1, 5, tzinfo=UTC), dt.datetime(2013, 1, 2, 6, 30, tzinfo=UTC)]),
        (["2013-01-01 07:00:00+02:00", "2013-01-01 05:00:00Z"], pa.timestamp("s", tz="UTC"),
         [dt.datetime(2013, 1, 1, 5, tzinfo=UTC), dt.datetime(2013, 1, 1, 5, tzinfo=UTC)]),
        (["1970-01-01 00:00:01.000000Z", None], pa.timestamp("us", tz="UTC"),
         [dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC), None]),
        (["2013-01-01 05:00:00", "2013-01-01"], pa.timestamp("s"),
         [dt.datetime(2013, 1, 1, 5), dt.datetime(2013, 1, 1)]),
        (["2013-01-01 05:00:00.000000", "2013-01-01 05:00:00.5"], pa.timestamp("us"),
         [dt.datetime(2013, 1, 1, 5), dt.datetime(2013, 1, 1, 5, 0, 0, 500_000)]),
        (["2013-01-01 05:00:00.123"], pa.timestamp("ms"), [dt.datetime(2013, 1, 1, 5, 0, 0, 123_000)]),
        (["2013-01-01", "2014-02-28"], pa.date32(), [dt.date(2013, 1, 1), dt.date(2014, 2, 28)]),
    ],
)
def test_iso_text_becomes_dates_and_timestamps(json_path, values, expected_type, expected):
    _write(json_path, values)
    table = JsonReader(json_path, 10, {}).open().read_all()
    assert table.schema.field("t").type == expected_type
    assert table.column("t").to_pylist() == expected


def test_nanoseconds_are_kept(json_path):
    _write(json_path, ["2013-01-01 05:00:00.123456789Z", "2013-01-01 05:00:00Z"])
    column = JsonReader(json_path, 10, {}).open().read_all().column("t")
    assert column.type == pa.timestamp("ns", tz="UTC")
    assert column.cast(pa.int64()).to_pylist() == [1357016400_123456789, 1357016400_000000000]


@pytest.mark.parametrize(
    "values",
    [
        ["2013-01-01 05:00:00Z", "2013-01-01 05:00:00"],  # zone and no zone
        ["2013-01-01", "2013-01-01 05:00:00Z"],  # a date alone has no zone
        ["2013-01-01 05:00:00", "soon"],
        ["2013-01-01 05:00:00", ""],
        ["2013-02-30 05:00:00"],
    ],
)
def test_values_that_disagree_stay_text_as_written(json_path, values):
    _write(json_path, values)
    table = JsonReader(json_path, 10, {}).open().read_all()
    assert table.schema.field("t").type == pa.string()
    assert table.column("t").to_pylist() == values


@pytest.mark.parametrize(
    "values",
    [
        ["2013-01-01 05:00:00Z", "2013-01-02 06:00:00Z"],
        ["2013-01-01 07:00:00+02:00", "2013-01-01 05:00:00+0000"],
        ["2013-01-01 05:00:00", "2013-01-02 06:00"],
        ["2013-01-01", "2013-01-02 06:00:00"],
        ["2013-01-01", "2014-02-28"],
        ["2013-01-01 05:00:00Z", "2013-01-01 05:00:00"],
    ],
)
def test_json_types_what_csv_types_for_the_same_text(tmp_path, values):
    csv_path, jsonl_path = tmp_path / "t.csv", tmp_path / "t.jsonl"
    csv_path.write_text("id,t\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values)))
    _write(jsonl_path, values)
    from_csv = CsvReader(csv_path, 10, {}).open().read_all()
    from_json = JsonReader(jsonl_path, 10, {}).open().read_all()
    assert from_json.schema == from_csv.schema
    assert from_json.equals(from_csv)


def test_nested_timestamps_stay_as_written_and_columns_keep_their_order(tmp_path):
    path = tmp_path / "n.jsonl"
    path.write_text(json.dumps({"a": 1, "o": {"t": "2013-01-01 05:00:00Z"}, "l": ["2013-01-01 05:00:00+02:00"],
                                "t": "2013-01-01 05:00:00Z", "z": "x"}) + "\n")
    reader = JsonReader(path, 10, {})
    table = reader.open().read_all()
    assert table.column_names == reader.column_names() == ["a", "o", "l", "t", "z"]
    assert table.to_pylist() == [{"a": 1, "o": '{"t": "2013-01-01 05:00:00Z"}', "l": '["2013-01-01 05:00:00+02:00"]',
                                  "t": dt.datetime(2013, 1, 1, 5, tzinfo=UTC), "z": "x"}]


def test_a_late_value_that_is_no_timestamp_widens_the_column_to_text(tmp_path, ingest):
    """A value after the first block that does not parse: the file is read again with
    the column as text, every value as written (nothing dropped or altered)."""
    path = tmp_path / "late.jsonl"
    values = ["2013-01-01 05:00:00Z"] * ONE_BLOCK_AND_MORE + ["not a time", "2013-01-01 05:00:00Z"]
    _write(path, values)
    reader = JsonReader(path, 100_000, {})
    first = reader.open()
    assert first.schema.field("t").type == pa.timestamp("s", tz="UTC")  # typed on the first block
    first.close()
    widened, table = ingest(reader)
    assert widened == [True]
    assert table.schema.field("t").type == pa.string()
    assert table.num_rows == len(values)
    assert table.column("t").to_pylist() == values


def test_late_values_widen_to_the_unit_that_holds_them(tmp_path, ingest):
    path = tmp_path / "late.jsonl"
    values = ["2013-01-01 05:00:00"] * ONE_BLOCK_AND_MORE + ["2013-01-01 05:00:00.123456789", "2013-01-01"]
    _write(path, values)
    widened, table = ingest(JsonReader(path, 100_000, {}))
    assert widened == [True]
    column = table.column("t")
    assert column.type == pa.timestamp("ns")
    assert column.cast(pa.int64())[-3:].to_pylist() == [1357016400_000000000, 1357016400_123456789, 1356998400_000000000]


def test_a_late_value_with_another_zone_style_widens_to_text(tmp_path, ingest):
    path = tmp_path / "late.jsonl"
    values = ["2013-01-01 05:00:00+02:00"] * ONE_BLOCK_AND_MORE + ["2013-01-01 05:00:00"]
    _write(path, values)
    widened, table = ingest(JsonReader(path, 100_000, {}))
    assert widened == [True]
    assert table.column("t").type == pa.string()
    assert table.column("t").to_pylist() == values


def test_a_json_array_decides_on_every_value(tmp_path):
    path = tmp_path / "a.json"
    values = ["2013-01-01 05:00:00Z"] * 50_000 + ["later"]
    _write(path, values)
    table = JsonReader(path, 1000, {}).open().read_all()
    assert table.column("t").type == pa.string()
    assert table.column("t").to_pylist() == values
