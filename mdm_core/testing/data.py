"""Test data for backend conformance: a fixed table of every supported type, hostile names,
hypothesis strategies for random tables, and NaN-aware table comparison.

Everything here is plain Python + pyarrow (+ hypothesis for the strategies), so the
``mdm storage test`` command can use it without pytest.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pyarrow as pa

from mdm_core.checksum import checksum_batches

#: The Arrow types every backend must round-trip exactly.
SUPPORTED_TYPES: dict[str, pa.DataType] = {
    "int8": pa.int8(),
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float32": pa.float32(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "string": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "timestamp_utc": pa.timestamp("us", tz="UTC"),
    "timestamp_ny": pa.timestamp("us", tz="America/New_York"),
}

#: Identifiers that break naive SQL: quotes, spaces, unicode, keywords, injection attempts.
HOSTILE_NAMES: tuple[str, ...] = (
    'quote"double',
    "quote'single",
    "with space",
    "select",
    "table",
    "Mixed Case",
    "ünïcødé 名前",
    "emoji 😀",
    '"; DROP TABLE x; --',
    "back`tick[bracket]",
)

#: Strings that break naive value handling.
HOSTILE_STRINGS: tuple[str, ...] = (
    "",
    "it's",
    'say "hi"',
    "line1\nline2\r\nline3",
    "tab\there",
    "emoji 😀👍🏽",
    "名前",
    "'; DROP TABLE x; --",
    "\\N",
    "NULL",
    "back\\slash",
)


def sample_table(rows: int = 12) -> pa.Table:
    """A table with one column per supported type, nulls in every column, NaN and
    infinities, extreme integers, hostile strings and pre-1970 dates."""
    utc = dt.UTC
    ints = {
        "int8": [-128, 127, 0],
        "int16": [-32768, 32767, 1],
        "int32": [-(2**31), 2**31 - 1, 2],
        "int64": [-(2**63), 2**63 - 1, 3],
    }
    base_ts = [dt.datetime(1969, 12, 31, 23, 59, 59, 999999), dt.datetime(2024, 2, 29, 12, 30, 0, 123456),
               dt.datetime(1900, 1, 1), dt.datetime(2199, 12, 31, 23, 0, 1)]
    columns: dict[str, list[Any]] = {}
    for name, values in ints.items():
        columns[name] = values
    columns["float32"] = [1.5, -0.0, float("inf"), float("nan"), -3.25]
    columns["float64"] = [math.pi, float("-inf"), float("nan"), 1e-300, 1e300]
    columns["bool"] = [True, False]
    columns["string"] = list(HOSTILE_STRINGS)
    columns["date"] = [dt.date(1969, 7, 20), dt.date(2000, 2, 29), dt.date(1900, 1, 1)]
    columns["timestamp"] = base_ts
    columns["timestamp_utc"] = [t.replace(tzinfo=utc) for t in base_ts]
    columns["timestamp_ny"] = [t.replace(tzinfo=utc) for t in base_ts]
    arrays = {}
    for name, typ in SUPPORTED_TYPES.items():
        values = columns[name]
        cells = [None if i % 4 == 3 else values[i % len(values)] for i in range(rows)]
        arrays[name] = pa.array(cells, typ)
    arrays["all_null"] = pa.nulls(rows, pa.int64())
    return pa.table(arrays)


def extra_types_table() -> pa.Table:
    """Arrow types beyond :data:`SUPPORTED_TYPES` that the bundled backends also keep
    exactly: unsigned integers (uint64 at its maximum), large strings, dictionaries,
    binary, decimals, times, durations and other timestamp units."""
    import decimal

    return pa.table({
        "uint8": pa.array([0, 255, None], pa.uint8()),
        "uint16": pa.array([0, 65535, None], pa.uint16()),
        "uint32": pa.array([0, 2**32 - 1, None], pa.uint32()),
        "uint64": pa.array([0, 2**64 - 1, None], pa.uint64()),
        "large_string": pa.array(["a", "é\n😀", None], pa.large_string()),
        "dictionary": pa.array(["x", "y", None]).dictionary_encode(),
        "binary": pa.array([b"", b"\x00\xff", None], pa.binary()),
        "decimal": pa.array([decimal.Decimal("1.25"), decimal.Decimal("-99999.99"), None], pa.decimal128(7, 2)),
        "time": pa.array([dt.time(0, 0), dt.time(23, 59, 59, 999999), None], pa.time64("us")),
        "duration": pa.array([0, -5_000_000, None], pa.duration("us")),
        "timestamp_s": pa.array([0, 1_700_000_000, None], pa.timestamp("s")),
        "timestamp_ns_tz": pa.array([0, 1_700_000_000_123_456_000, None], pa.timestamp("ns", tz="Asia/Tokyo")),
    })


def nan_to_null(table: pa.Table) -> pa.Table:
    """``table`` with every floating-point NaN replaced by NULL (what SQLite stores)."""
    import pyarrow.compute as pc

    columns = []
    for column in table.columns:
        if pa.types.is_floating(column.type):
            column = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=table.schema)


def unsign_zeros(table: pa.Table) -> pa.Table:
    """``table`` with every floating-point -0.0 replaced by 0.0 (what SQLite stores)."""
    import pyarrow.compute as pc

    columns = []
    for column in table.columns:
        if pa.types.is_floating(column.type):
            column = pc.if_else(pc.equal(column, 0), pa.scalar(0.0, column.type), column)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=table.schema)


def _normalise(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value):
            return "<NaN>"
        if value == 0 and math.copysign(1.0, value) < 0:
            return "<-0.0>"
    return value


def table_differences(expected: pa.Table, actual: pa.Table, *, limit: int = 5) -> list[str]:
    """Human-readable differences between two tables (schema, row count, cells); empty
    when they are equal. NaN equals NaN; NaN never equals NULL; -0.0 is not 0.0."""
    problems: list[str] = []
    if expected.schema != actual.schema:
        problems.append(f"schema differs: expected {expected.schema}, got {actual.schema}")
        return problems
    if expected.num_rows != actual.num_rows:
        problems.append(f"row count differs: expected {expected.num_rows}, got {actual.num_rows}")
        return problems
    for name in expected.column_names:
        want = [_normalise(v) for v in expected.column(name).to_pylist()]
        got = [_normalise(v) for v in actual.column(name).to_pylist()]
        for row, (a, b) in enumerate(zip(want, got, strict=True)):
            if a != b or type(a) is not type(b):
                problems.append(f"column {name!r} row {row}: expected {a!r}, got {b!r}")
                if len(problems) >= limit:
                    return problems
    return problems


def assert_tables_equal(expected: pa.Table, actual: pa.Table) -> None:
    """Raise AssertionError listing the first differences between two tables."""
    problems = table_differences(expected, actual)
    assert not problems, "tables differ:\n  " + "\n  ".join(problems)


def expected_checksum(table: pa.Table) -> str:
    """The checksum every backend must report for ``table`` (the generic one)."""
    return checksum_batches(table.to_batches())
