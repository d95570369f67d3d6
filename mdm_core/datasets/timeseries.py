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
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mdm_core.errors import DatasetError

if TYPE_CHECKING:
    from mdm_core.datasets.client import MDMClient
    from mdm_core.datasets.models import DatasetInfo

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
                        extra: Sequence[str | None] = ()) -> tuple[DatasetInfo, str, str, pa.Schema]:
    """(dataset metadata, table, time column, schema) of a time-series command: the time
    column given, else the dataset's; DatasetError naming the dataset when there is none or
    a column (the time column or one of ``extra``) is not in the table."""
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
    return info, table_name, column, schema


def require_column(dataset: str, table: str, schema: pa.Schema, column: str | None) -> None:
    """DatasetError naming ``column`` and the table's columns when the table lacks it."""
    if column is not None and column not in schema.names:
        shown = ", ".join(schema.names[:30]) + (" ..." if len(schema.names) > 30 else "")
        raise DatasetError(f"Column '{column}' is not in table '{table}' of dataset '{dataset}' (columns: {shown}).")


# -- validate -------------------------------------------------------------------------------
def validate(client: MDMClient, name: str, time_column: str | None = None, group_column: str | None = None,
             table: str | None = None, freq: str | None = None) -> dict[str, Any]:
    """Check a time column (default: the dataset's) of ``table`` (default ``train``/``data``),
    within each value of ``group_column`` when given (default: the dataset's group column).

    Only the time (and group) column is read, as Arrow, then sorted: memory grows with the
    rows of those one or two columns (about 30 bytes a row), never with the table's width.
    Result keys: ``rows``, ``null_times``, ``min``/``max`` (ISO 8601), ``groups`` (None
    without a group column), ``monotonic`` (times never decrease in stored order, within
    each group), ``duplicates`` (``count`` of rows repeating an earlier row's (group, time),
    as pandas' ``duplicated``; up to 5 ``examples`` with their ``rows``), ``frequency``
    (``freq`` when given, else the most common positive step, the smallest on a tie;
    None with no step), ``frequency_inferred``, ``gaps`` (``count`` of steps longer than
    the frequency within a group; the 5 ``largest`` with ``start``, ``end``, ``length``)
    and ``ok`` (no null times, duplicates or gaps). DatasetError for a missing column, a
    column that is not a time, or a calendar ``freq`` (months, years: no fixed length).
    """
    frequency = parse_frequency(freq) if freq else None
    if frequency is not None and frequency.nanoseconds is None:
        raise DatasetError(f"Frequency '{freq}' has no fixed length; validate needs one such as 1D, 1h or 15min.")
    info, table_name, column, schema = resolve_time_column(client, name, table, time_column, [group_column])
    group = group_column or (info.group_column if info.group_column in schema.names else None)
    times, codes, labels = _read_times(client, info.name, table_name, column, group)
    valid = ~np.asarray(times.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    values = times.cast(pa.int64()).to_numpy(zero_copy_only=False)[valid].astype(np.int64)
    codes = codes[valid]
    monotonic = _monotonic(values, codes)
    order = np.lexsort((values, codes))
    values, codes = values[order], codes[order]
    step = np.diff(values)
    same = codes[1:] == codes[:-1]
    per_ns = UNIT_NS[times.type.unit]
    if frequency is not None:
        expected = frequency.nanoseconds / per_ns
    else:
        positive = step[same & (step > 0)]
        found, counts = np.unique(positive, return_counts=True)
        expected = int(found[np.argmax(counts)]) if len(found) else None

    def when(value: int) -> str:
        return pa.scalar(int(value), type=times.type).as_py().isoformat()

    def label(code: int) -> Any:
        return None if labels is None else labels[int(code)].as_py()

    repeated = np.flatnonzero(same & (step == 0)) + 1
    examples = []
    for position in repeated[np.r_[True, np.diff(repeated) > 1]][:5] if len(repeated) else []:
        key = (codes == codes[position]) & (values == values[position])
        examples.append({"group": label(codes[position]), "time": when(values[position]), "rows": int(key.sum())})
    gaps = np.flatnonzero(same & (step > expected)) if expected is not None else np.array([], dtype=np.int64)
    largest = gaps[np.argsort(-step[gaps], kind="stable")][:5]
    result = {
        "dataset": info.name, "table": table_name, "time_column": column, "group_column": group,
        "rows": len(times), "null_times": times.null_count,
        "min": when(values.min()) if len(values) else None, "max": when(values.max()) if len(values) else None,
        "groups": None if labels is None else len(np.unique(codes)), "monotonic": monotonic,
        "duplicates": {"count": len(repeated), "examples": examples},
        "frequency": frequency.text if frequency else (format_duration(expected * per_ns) if expected else None),
        "frequency_inferred": frequency is None,
        "gaps": {"count": len(gaps), "largest": [
            {"group": label(codes[i]), "start": when(values[i]), "end": when(values[i + 1]),
             "length": format_duration(int(step[i]) * per_ns)} for i in largest]},
    }
    result["ok"] = result["null_times"] == 0 and not len(repeated) and not len(gaps)
    return result


def _read_times(client: MDMClient, name: str, table: str, column: str,
                group: str | None) -> tuple[pa.ChunkedArray, np.ndarray, pa.Array | None]:
    """The time column as timestamps, and the group of every row as integer codes into the
    group labels (NULL is a group of its own; all 0 and no labels without a group)."""
    cast = TimeCaster(name, table, column)
    times, groups = [], []
    for batch in client.iter_batches(name, table, columns=[column, group] if group else [column]):
        times.append(cast(batch.column(0)))
        if group:
            groups.append(batch.column(1))
    if not times:
        return pa.chunked_array([], type=pa.timestamp("s")), np.zeros(0, dtype=np.int64), None
    times = pa.chunked_array(times)
    if not group:
        return times, np.zeros(len(times), dtype=np.int64), None
    encoded = pc.dictionary_encode(pa.chunked_array(groups).combine_chunks(), null_encoding="encode")
    return times, encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), encoded.dictionary


def _monotonic(values: np.ndarray, codes: np.ndarray) -> bool:
    """Times never decrease in stored order within each group."""
    order = np.argsort(codes, kind="stable")
    values, codes = values[order], codes[order]
    same = codes[1:] == codes[:-1]
    return bool(np.all(np.diff(values)[same] >= 0))


# -- resample -------------------------------------------------------------------------------
AGGREGATIONS = ("mean", "sum", "min", "max", "count")
#: The partial aggregates each aggregation keeps per bucket, and how partials merge.
_PARTIALS = {"mean": ("sum", "count"), "sum": ("sum", "count"), "min": ("min",), "max": ("max",), "count": ("count",)}
_MERGE = {"sum": "sum", "count": "sum", "min": "min", "max": "max"}
#: Pending partial aggregates are merged beyond this many rows (or the merged rows, if more).
_MERGE_ROWS = 8192


def resample(client: MDMClient, name: str, freq: str, agg: str = "mean", columns: Sequence[str] | None = None,
             time_column: str | None = None, group_column: str | None = None, table: str | None = None) -> pa.Table:
    """``columns`` (default: every numeric column but ID, time and group columns) of
    ``table`` aggregated with ``agg`` (mean, sum, min, max or count of non-null values) per
    time bucket of ``freq`` (and per value of ``group_column``), streamed batch by batch.

    A bucket is ``pyarrow.compute.floor_temporal`` of the time, labelled by its start and
    counted from 1970-01-01 (weeks start on Monday, ``M`` buckets are calendar months): for
    ``1D``, ``6h``, ``15min`` the buckets of pandas' ``resample``. Buckets holding no rows
    are left out, and so are rows with no time; NaN counts as missing (as in pandas); the
    sum of a bucket with no values is 0 (as in pandas), its mean, min and max null. Memory
    grows with the number of buckets (times groups), not with rows. The table has the time
    column (the bucket start), the group column when given, then one column per aggregated
    column, sorted by bucket (then group). DatasetError (one sentence) for a bad ``freq``
    or ``agg``, a missing column, or a non-numeric column for an aggregation but count.
    """
    frequency = parse_frequency(freq)
    if agg not in AGGREGATIONS:
        raise DatasetError(f"Aggregation '{agg}' is not one of {', '.join(AGGREGATIONS)}.")
    info, table_name, column, schema = resolve_time_column(client, name, table, time_column,
                                                           [group_column, *(columns or ())])
    chosen = _value_columns(info, table_name, schema, column, group_column, columns, agg)
    keys = ["bucket", "group"] if group_column else ["bucket"]
    buckets = _Buckets(keys, [f"v{i}" for i in range(len(chosen))], _PARTIALS[agg])
    cast = TimeCaster(info.name, table_name, column)
    read = [column, *([group_column] if group_column else []), *chosen]
    for batch in client.iter_batches(info.name, table_name, columns=read):
        bucket = pc.floor_temporal(cast(batch.column(column)), multiple=frequency.multiple, unit=frequency.unit)
        data = {"bucket": bucket}
        if group_column:
            data["group"] = _plain(batch.column(group_column))
        data.update({f"v{i}": _nan_as_null(_plain(batch.column(c))) for i, c in enumerate(chosen)})
        buckets.add(pa.table(data).filter(pc.is_valid(bucket)))
    merged = buckets.result()
    if merged is None:
        return pa.table({column: pa.array([], pa.timestamp("us")), **({group_column: pa.array([], pa.string())}
                        if group_column else {}), **{c: pa.array([], pa.float64()) for c in chosen}})
    merged = merged.sort_by([(k, "ascending") for k in keys])
    out = {column: merged["bucket"], **({group_column: merged["group"]} if group_column else {})}
    for i, value_column in enumerate(chosen):
        out[value_column] = _final(merged, f"v{i}", agg)
    return pa.table(out)


class _Buckets:
    """Partial aggregates (``<column>_<op>``) per key, merged as parts arrive so that no
    more than about twice the final rows are held."""

    def __init__(self, keys: list[str], columns: list[str], ops: tuple[str, ...]) -> None:
        self.keys = keys
        self.fields = [(c, op) for c in columns for op in ops]
        self.parts: list[pa.Table] = []
        self.pending = self.merged = 0

    def add(self, table: pa.Table) -> None:
        part = table.group_by(self.keys, use_threads=False).aggregate(self.fields)
        self.parts.append(part)
        self.pending += len(part)
        if self.pending >= max(self.merged, _MERGE_ROWS):
            self._merge()

    def result(self) -> pa.Table | None:
        """One row per key with every partial aggregate; None when no row was added."""
        if not self.parts:
            return None
        self._merge()
        return self.parts[0]

    def _merge(self) -> None:
        table = pa.concat_tables(self.parts, promote_options="permissive")
        names = [f"{c}_{op}" for c, op in self.fields]
        merged = table.group_by(self.keys, use_threads=False).aggregate([(n, _MERGE[op]) for n, (_, op) in zip(names, self.fields, strict=True)])
        self.parts = [pa.table({**{k: merged[k] for k in self.keys},
                                **{n: merged[f"{n}_{_MERGE[op]}"] for n, (_, op) in zip(names, self.fields, strict=True)}})]
        self.pending, self.merged = 0, len(merged)


def _value_columns(info: DatasetInfo, table: str, schema: pa.Schema, time_column: str, group_column: str | None,
                   columns: Sequence[str] | None, agg: str) -> list[str]:
    """The columns to aggregate, checked: numeric (any type for ``count``), not the time or
    group column."""
    if not columns:
        skip = {time_column, group_column, *info.id_columns}
        chosen = [f.name for f in schema if f.name not in skip and _numeric(f.type)]
        if not chosen:
            raise DatasetError(f"Table '{table}' of dataset '{info.name}' has no numeric columns to resample; "
                               "pass --columns.")
        return chosen
    for column in columns:
        if column in (time_column, group_column):
            raise DatasetError(f"Column '{column}' is the time or group column of the resample; "
                               "leave it out of --columns.")
        if agg != "count" and not _numeric(schema.field(column).type):
            raise DatasetError(f"Column '{column}' of table '{table}' of dataset '{info.name}' is "
                               f"{schema.field(column).type}, not numeric; {agg} needs numbers (count takes any column).")
    return list(columns)


def _numeric(typ: pa.DataType) -> bool:
    if pa.types.is_dictionary(typ):
        typ = typ.value_type
    return pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ)


def _plain(values: pa.Array) -> pa.Array:
    return values.cast(values.type.value_type) if pa.types.is_dictionary(values.type) else values


def _nan_as_null(values: pa.Array) -> pa.Array:
    if pa.types.is_floating(values.type):
        return pc.if_else(pc.is_nan(values), pa.scalar(None, values.type), values)
    return values


def _final(merged: pa.Table, column: str, agg: str) -> pa.ChunkedArray:
    """The aggregate ``agg`` of ``column`` from its merged partials."""
    if agg == "mean":
        return pc.divide(merged[f"{column}_sum"].cast(pa.float64()), merged[f"{column}_count"].cast(pa.float64()))
    if agg == "sum":
        return pc.fill_null(merged[f"{column}_sum"], 0)
    return merged[f"{column}_{agg}"]
