"""Datetime columns as exact points in time, whatever their Arrow type, unit or range.

:func:`datetime_mode` decides once, from a table's first rows, how a column's values are
read; :func:`to_instants` then turns any batch of it into :class:`Instants` (whole days
plus nanoseconds into the day), which hold every Arrow unit exactly with no overflow.
"""

from __future__ import annotations

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mdm_featurekit.arrays import as_text

#: Nanoseconds in a day.
NS_PER_DAY = 86_400 * 10**9
_NS_PER_UNIT = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def datetime_mode(head: pa.Array | pa.ChunkedArray | None) -> str:
    """How to parse a datetime column: ``native`` (already dates, timestamps, times or
    durations), ``iso`` when the first values all parse as ISO 8601, else ``mixed``
    (per-value inference). Decided from the table's first rows so it never depends on
    batch size."""
    import pandas as pd

    if head is None:
        return "iso"
    if pa.types.is_temporal(head.type):
        return "native"
    sample = pd.Series(as_text(head).to_pylist(), dtype="object").dropna()
    if sample.empty:
        return "iso"
    parsed = pd.to_datetime(sample, format="ISO8601", errors="coerce", utc=True)
    return "iso" if parsed.notna().all() else "mixed"


@attrs.frozen
class Instants:
    """Points in time of any range and precision, exactly, as naive UTC: whole days since
    1970-01-01 (floor, int64) and nanoseconds into that day (int64, ``0 <= nanos <
    NS_PER_DAY``); ``valid`` is False where the value is missing or did not parse (days
    and nanos hold 0 there). Every Arrow unit fits (a timestamp[s] spans far more than
    timestamp[ns] can hold), and nothing overflows: days stay below 2**47."""

    days: np.ndarray
    nanos: np.ndarray
    valid: np.ndarray

    def __len__(self) -> int:
        return len(self.days)

    @property
    def missing(self) -> np.ndarray:
        """Rows missing or unparseable (``~valid``)."""
        return ~self.valid

    def min_ns(self) -> int | None:
        """The earliest valid instant as (arbitrarily large) integer ns since the epoch."""
        if not self.valid.any():
            return None
        days, nanos = self.days[self.valid], self.nanos[self.valid]
        first = days.min()
        return int(first) * NS_PER_DAY + int(nanos[days == first].min())


def _int_values(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The integer storage of a temporal column (nulls as 0) and its validity."""
    width = column.type.bit_width
    raw = column.view(pa.int64() if width == 64 else pa.int32())
    valid = column.is_valid().to_numpy(zero_copy_only=False)
    values = pc.fill_null(raw, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    return values, valid


def _split(values: np.ndarray, ns_per_unit: int, valid: np.ndarray) -> Instants:
    per_day = NS_PER_DAY // ns_per_unit
    days, rest = np.divmod(values, per_day)
    nanos = rest * ns_per_unit
    return Instants(np.where(valid, days, 0), np.where(valid, nanos, 0), valid)


def to_instants(column: pa.Array | pa.ChunkedArray, mode: str) -> Instants:
    """A datetime column as :class:`Instants` (naive UTC; unparseable values invalid).

    Dates, timestamps (any unit; zoned ones at their UTC instant), times (on 1970-01-01)
    and durations (from 1970-01-01) are read from their integer storage, never cast to
    nanoseconds; text is parsed with pandas (``mode`` ``iso`` or ``mixed``, see
    :func:`datetime_mode`) at the resolution pandas picks for it."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    typ = column.type
    if pa.types.is_date32(typ):
        values, valid = _int_values(column)
        return _split(values, NS_PER_DAY, valid)
    if pa.types.is_date64(typ):
        values, valid = _int_values(column)
        return _split(values, _NS_PER_UNIT["ms"], valid)
    if pa.types.is_timestamp(typ) or pa.types.is_time(typ) or pa.types.is_duration(typ):
        values, valid = _int_values(column)
        return _split(values, _NS_PER_UNIT[typ.unit], valid)
    return _parse_text(column, mode)


def _parse_text(column: pa.Array, mode: str) -> Instants:
    import pandas as pd

    text = pd.Series(as_text(column).to_pandas(), dtype="object")
    fmt = "ISO8601" if mode == "iso" else "mixed"
    parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=True)
    stamps = pa.array(parsed)  # timestamp[<pandas' unit>, tz=UTC]: the UTC instants
    if not pa.types.is_timestamp(stamps.type):
        stamps = pc.cast(stamps, pa.timestamp("ns", "UTC"))
    return to_instants(stamps, "native")
