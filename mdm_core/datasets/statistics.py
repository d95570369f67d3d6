"""Column statistics of a stored table, computed in one streamed pass.

The table is read as Arrow record batches (``settings.performance.batch_size`` rows at a
time) and never held whole. Per column the pass keeps only the exact multiset of its
non-null values, as a ``(value, count)`` table merged from per-batch
``pyarrow.compute.value_counts``; its size is the number of *distinct* values, not rows.
Everything is then computed exactly from that multiset:

- ``count``, ``nulls``, ``distinct`` (exact, NaN counts as null as in pandas), ``min``/``max``;
- ``mean`` and ``std`` (ddof=1) in float64, two passes over the distinct values;
- ``top``: the 5 most frequent values with their counts (categorical, text, boolean and id
  columns; ties in value order);
- with ``extended`` (numeric columns): percentiles with pandas' linear interpolation,
  skewness (pandas' adjusted Fisher-Pearson; null, as pandas' NaN, below 3 values or
  for a constant column), a 10-bin histogram as ``numpy.histogram``.

So results do not depend on batch boundaries, and memory grows with the distinct values of
a column, never with its rows (a repeated table costs no more than the original).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mdm_core.errors import DatasetError

if TYPE_CHECKING:
    from mdm_core.datasets.client import MDMClient

PERCENTILES = (1, 5, 25, 50, 75, 95, 99)
TOP_VALUES = 5
HISTOGRAM_BINS = 10
#: Semantic kinds whose most frequent values are shown.
_TOP_KINDS = ("categorical", "text", "boolean", "id")
#: Pending per-batch counts of a column are merged beyond this many rows or parts.
_MERGE_ROWS = 8192
_MERGE_PARTS = 32


def is_numeric(typ: pa.DataType) -> bool:
    return pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ)


class ValueCounts:
    """The exact multiset of a column's non-null values, merged batch by batch."""

    def __init__(self) -> None:
        self.count = 0
        self.nulls = 0
        self.countable = True
        self._merged: pa.Table | None = None
        self._pending: list[pa.Table] = []
        self._pending_rows = 0

    def add(self, column: pa.Array | pa.ChunkedArray) -> None:
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        if pa.types.is_floating(column.type):  # NaN is missing, as pandas counts it
            column = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
        valid = len(column) - column.null_count
        self.count += valid
        self.nulls += column.null_count
        if not self.countable or valid == 0:
            return
        try:
            counts = pc.value_counts(column.drop_null())
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
            self.countable = False  # nested types: count and nulls only
            return
        self._pending.append(pa.Table.from_struct_array(counts))
        self._pending_rows += len(counts)
        # Merge once the pending counts outweigh the merged ones (amortised: each value is
        # re-merged O(log) times) or pile up in many small parts (a long table of few values).
        if self._pending_rows >= max(len(self._merged or ()), _MERGE_ROWS) or len(self._pending) >= _MERGE_PARTS:
            self._merge()

    def _merge(self) -> None:
        parts = ([self._merged] if self._merged is not None else []) + self._pending
        self._pending, self._pending_rows = [], 0
        if not parts:
            return
        table = pa.concat_tables(parts)
        if len(parts) > 1:
            table = table.group_by("values").aggregate([("counts", "sum")]).rename_columns(["values", "counts"])
        self._merged = table.combine_chunks()

    def table(self) -> pa.Table | None:
        """The ``values``/``counts`` table; None when no value was counted (all null, or a
        type that cannot be counted: see :attr:`countable`)."""
        if not self.countable:
            return None
        self._merge()
        return self._merged


def column_statistics(counts: ValueCounts, typ: pa.DataType, kind: str, extended: bool) -> dict[str, Any]:
    """The stable-keyed statistics of one column from its merged value counts."""
    stats: dict[str, Any] = {
        "type": str(typ), "kind": kind, "count": counts.count, "nulls": counts.nulls, "distinct": None,
        "min": None, "max": None, "mean": None, "std": None, "top": None,
        "percentiles": None, "skewness": None, "histogram": None,
    }
    if not counts.countable:
        return stats
    table = counts.table()
    stats["distinct"] = 0 if table is None else len(table)
    numeric = is_numeric(typ)
    if kind in _TOP_KINDS or (not kind and not numeric and not pa.types.is_temporal(typ)):
        stats["top"] = [] if table is None else _top(table)
    if table is None:
        return stats
    try:
        low, high = pc.min_max(table["values"]).values()
        stats["min"], stats["max"] = _plain(low.as_py()), _plain(high.as_py())
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError):
        pass
    if numeric:
        stats.update(_numeric(table, extended))
    return stats


def _top(table: pa.Table) -> list[list[Any]]:
    try:
        order = pc.sort_indices(table, [("counts", "descending"), ("values", "ascending")])
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError):
        order = pc.sort_indices(table, [("counts", "descending")])
    head = table.take(order[:TOP_VALUES])
    return [[_plain(v), c] for v, c in zip(head["values"].to_pylist(), head["counts"].to_pylist(), strict=True)]


def _numeric(table: pa.Table, extended: bool) -> dict[str, Any]:
    order = pc.sort_indices(table["values"])
    values = table["values"].take(order).cast(pa.float64()).to_numpy()
    weights = table["counts"].take(order).to_numpy().astype(np.float64)
    n = weights.sum()
    mean = float((values * weights).sum() / n)
    deviation = values - mean
    m2 = float((weights * deviation**2).sum())
    out: dict[str, Any] = {"mean": mean, "std": float(np.sqrt(m2 / (n - 1))) if n > 1 else None}
    if not extended:
        return out
    cumulative = np.cumsum(table["counts"].take(order).to_numpy())
    out["percentiles"] = {
        f"p{p}": float(q) for p, q in zip(PERCENTILES, _quantiles(values, cumulative, np.array(PERCENTILES) / 100), strict=True)
    }
    if n > 2 and m2 > 0:
        m3 = float((weights * deviation**3).sum())  # sums of powers, as pandas' nanskew
        out["skewness"] = float(n * (n - 1) ** 0.5 / (n - 2) * m3 / m2**1.5)
    hist, edges = np.histogram(values, bins=HISTOGRAM_BINS, range=(values[0], values[-1]), weights=weights)
    out["histogram"] = {"edges": [float(e) for e in edges], "counts": [int(round(c)) for c in hist]}
    return out


def _quantiles(values: np.ndarray, cumulative: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """Quantiles of the multiset (sorted ``values``, cumulative counts) with linear
    interpolation between order statistics, as pandas and numpy's default."""
    position = (cumulative[-1] - 1) * qs
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, cumulative[-1] - 1)
    low = values[np.searchsorted(cumulative, below, side="right")]
    high = values[np.searchsorted(cumulative, above, side="right")]
    return low + (position - below) * (high - low)


def _plain(value: Any) -> Any:
    """Python scalars for JSON: Decimal as float, bytes as text (hex ``0x..`` unless UTF-8),
    dates/times as ISO text."""
    from datetime import date, datetime, time, timedelta
    from decimal import Decimal

    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return "0x" + value.hex()
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return value


def batches_statistics(
    batches: Iterable[pa.RecordBatch], schema: pa.Schema, kinds: dict[str, str], extended: bool = False
) -> tuple[int, dict[str, dict[str, Any]]]:
    """Rows and per-column statistics of a batch stream (one pass)."""
    counters = {field.name: ValueCounts() for field in schema}
    rows = 0
    for batch in batches:
        rows += batch.num_rows
        for field, column in zip(schema, batch.columns, strict=True):
            counters[field.name].add(column)
    return rows, {
        field.name: column_statistics(counters[field.name], field.type, kinds.get(field.name, ""), extended)
        for field in schema
    }


def dataset_statistics(
    client: MDMClient,
    name: str,
    table: str | None = None,
    columns: Sequence[str] | None = None,
    extended: bool = False,
    batch_size: int | None = None,
) -> dict[str, Any]:
    """``{"dataset", "table", "rows", "columns": {name: stats}}`` for one table of a dataset."""
    info = client.get_dataset_info(name)
    table_name = table or info.default_table
    table_info = info.table(table_name)
    with client.open_store(info.name) as store:
        schema = store.table_schema(table_name)
    wanted = list(dict.fromkeys(columns)) if columns else schema.names
    unknown = [c for c in wanted if c not in schema.names]
    if unknown:
        raise DatasetError(
            f"Table '{table_name}' of dataset '{info.name}' has no column "
            f"{', '.join(repr(c) for c in unknown)} (columns: {', '.join(schema.names)})."
        )
    schema = pa.schema([schema.field(c) for c in wanted])
    batches = client.iter_batches(info.name, table_name, columns=wanted, batch_size=batch_size)
    rows, stats = batches_statistics(batches, schema, table_info.column_types(), extended)
    return {"dataset": info.name, "table": table_name, "rows": rows, "columns": stats}
