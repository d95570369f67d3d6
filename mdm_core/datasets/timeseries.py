"""Time-series helpers: reading a time column as timestamps, frequencies, ``validate``
and ``resample``.

A time column may be stored as a timestamp, a date, or text in ISO 8601 form
(``2013-01-01 05:00:00``, ``2013-01-01T05:00:00Z``); it is cast with pyarrow to a
timestamp (dates to ``timestamp[s]``, text to ``timestamp[us]``, or ``timestamp[us, UTC]``
when the text carries a zone offset). Anything else is refused with one sentence naming
the column.

Frequencies are written as pandas writes them: an optional multiple and a unit,
``ns``, ``us``, ``ms``, ``s``, ``min``, ``h``, ``D``, ``W``, ``M`` (month) or ``Y`` (year),
e.g. ``1D``, ``6h``, ``15min``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from mdm_core.errors import DatasetError

if TYPE_CHECKING:
    from mdm_core.datasets.client import MDMClient

#: Frequency unit spellings -> (pyarrow temporal unit, nanoseconds or None for calendar units).
_UNITS = {
    "ns": ("nanosecond", 1), "us": ("microsecond", 10**3), "ms": ("millisecond", 10**6),
    "s": ("second", 10**9), "min": ("minute", 60 * 10**9), "h": ("hour", 3600 * 10**9),
    "H": ("hour", 3600 * 10**9), "D": ("day", 86400 * 10**9), "d": ("day", 86400 * 10**9),
    "W": ("week", 7 * 86400 * 10**9), "M": ("month", None), "MS": ("month", None),
    "Y": ("year", None), "YS": ("year", None),
}
_FREQ_RE = re.compile(r"^\s*(\d*)\s*([A-Za-z]+)\s*$")
#: The value pyarrow names when text does not parse as a timestamp.
_BAD_TEXT = re.compile(r"Failed to parse string: '(.{0,40}?)' as")
#: Nanoseconds per unit of a timestamp type.
UNIT_NS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
#: Units a duration is shown in, largest first.
_SHOWN = (("D", 86400 * 10**9), ("h", 3600 * 10**9), ("min", 60 * 10**9), ("s", 10**9),
          ("ms", 10**6), ("us", 10**3), ("ns", 1))


@attrs.frozen
class Frequency:
    """A parsed frequency: ``multiple`` of pyarrow's temporal ``unit`` (``day``, ``hour``...);
    ``nanoseconds`` is its fixed length, None for months and years."""

    text: str
    multiple: int
    unit: str
    nanoseconds: int | None


def parse_frequency(text: str) -> Frequency:
    """``1D``, ``6h``, ``15min``, ``1W``, ``1M`` ... as a Frequency; DatasetError otherwise."""
    match = _FREQ_RE.match(text or "")
    multiple = int(match.group(1) or 1) if match else 0
    if not match or match.group(2) not in _UNITS or multiple < 1:
        raise DatasetError(f"Frequency '{text}' is not understood; write a multiple and a unit, "
                           "e.g. 1D, 6h, 15min, 30s, 1W or 1M (units: ns, us, ms, s, min, h, D, W, M, Y).")
    unit, nanoseconds = _UNITS[match.group(2)]
    return Frequency(f"{multiple}{match.group(2)}", multiple, unit, None if nanoseconds is None else multiple * nanoseconds)


def format_duration(nanoseconds: int) -> str:
    """A duration as the largest unit dividing it: ``1D``, ``27h``, ``90s``."""
    for name, size in _SHOWN:
        if nanoseconds % size == 0:
            return f"{nanoseconds // size}{name}"
    return f"{nanoseconds}ns"


class TimeCaster:
    """Casts batches of one time column to a timestamp type, the same type for every batch
    (text is tried as a naive timestamp first, then as UTC when it carries an offset)."""

    def __init__(self, dataset: str, table: str, column: str) -> None:
        self.where = f"column '{column}' of table '{table}' of dataset '{dataset}'"
        self.column = column
        self.target: pa.DataType | None = None

    def __call__(self, values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
        typ = values.type
        if pa.types.is_dictionary(typ):
            values, typ = values.cast(typ.value_type), typ.value_type
        if pa.types.is_timestamp(typ):
            return values
        if pa.types.is_date(typ):
            return pc.cast(values, pa.timestamp("s"))
        if not (pa.types.is_string(typ) or pa.types.is_large_string(typ)):
            raise DatasetError(f"The {self.where} is {typ}, not a timestamp, date or timestamp text; "
                               "pass --time-column with a time column.")
        errors = []
        for target in [self.target] if self.target is not None else [pa.timestamp("us"), pa.timestamp("us", "UTC")]:
            try:
                cast = pc.cast(values, target)
            except pa.ArrowInvalid as exc:
                errors.append(str(exc))
                continue
            self.target = target
            return cast
        example = _BAD_TEXT.search(errors[0])
        shown = f" (e.g. '{example.group(1)}')" if example else ""
        raise DatasetError(f"The {self.where} holds text that is not a timestamp{shown}; "
                           "pass --time-column with a timestamp, date or ISO 8601 text column.")


def resolve_time_column(client: MDMClient, name: str, table: str | None, time_column: str | None,
                        extra: Sequence[str | None] = ()) -> tuple[str, str, str, pa.Schema]:
    """(dataset, table, time column, schema) of a time-series command: the time column given,
    else the dataset's; DatasetError naming the dataset when there is none or a column
    (the time column or one of ``extra``) is not in the table."""
    info = client.get_dataset_info(name)
    table_name = table or info.default_table
    info.table(table_name)
    column = time_column or info.time_column
    if not column:
        raise DatasetError(f"Dataset '{info.name}' has no time column; pass --time-column COLUMN.")
    with client.open_store(info.name) as store:
        schema = store.table_schema(table_name)
    for wanted in (column, *extra):
        require_column(info.name, table_name, schema, wanted)
    return info.name, table_name, column, schema


def require_column(dataset: str, table: str, schema: pa.Schema, column: str | None) -> None:
    """DatasetError naming ``column`` and the table's columns when the table lacks it."""
    if column is not None and column not in schema.names:
        shown = ", ".join(schema.names[:30]) + (" ..." if len(schema.names) > 30 else "")
        raise DatasetError(f"Column '{column}' is not in table '{table}' of dataset '{dataset}' (columns: {shown}).")
