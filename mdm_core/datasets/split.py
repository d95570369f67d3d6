"""Split one table of a dataset into a new dataset holding tables ``train`` and ``test``.

Three methods, each streaming the table as Arrow batches (never held whole):

- ``random``: exactly ``round(n * test_size)`` rows (Python's ``round``) go to ``test``,
  chosen uniformly over row positions with ``numpy.random.default_rng(seed)``. One pass
  over a single column counts the rows, a second pass writes them; memory: a boolean mask
  of ``n`` rows.
- ``stratified``: per value ``c`` of the stratify column (NULL is a value of its own)
  holding ``n_c`` rows, exactly ``round(n_c * test_size)`` go to ``test``. The first pass
  reads that column alone (memory: the column plus ``n`` integer codes).
- ``time``: with ``test_days`` None, ``test`` holds rows with ``time >= max - (max - min) *
  test_size``, else rows with ``time >= max - test_days days`` (as MDM 1.x's
  ``split_by_time``); min and max come from a first pass over the time column. Rows with
  no time go to neither table and are counted as ``dropped``.

The same seed gives the same split of the same stored table. The two tables are written
as ``train.parquet`` and ``test.parquet`` into a folder under ``<home>/tmp/`` (removed
afterwards, whatever happens), which is then registered as the new dataset with the
source's target, problem type, ID/time/group columns, column kinds, description, tags
(plus ``split``) and backend; registration is all or nothing (see
:mod:`mdm_core.datasets.registration`). Values keep their types, except that a
``timestamp[s]`` column becomes ``timestamp[ms]`` (Parquet has no seconds unit).
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mdm_core.datasets.locks import dataset_lock
from mdm_core.datasets.models import COLUMN_KINDS, DatasetInfo, normalize_name
from mdm_core.datasets.registration import RegistrationRequest, register
from mdm_core.datasets.timeseries import UNIT_NS, TimeCaster, require_column
from mdm_core.errors import DatasetError

if TYPE_CHECKING:
    from mdm_core.datasets.client import MDMClient

DEFAULT_SEED = 42
#: A function from a batch and the position of its first row to its (train, test) masks.
Assign = Callable[[pa.RecordBatch, int], tuple[pa.Array, pa.Array]]


@attrs.frozen
class SplitResult:
    """What a split made: the new ``dataset`` (on ``backend``) from ``source``'s ``table``,
    rows per table, the ``method`` (``random``, ``stratified`` or ``time``), its ``column``
    (stratify or time column), ``seed`` (None for a time split), ``test_from`` (time
    split: the first time in ``test``, ISO 8601) and the rows ``dropped`` for having no time."""

    dataset: str
    backend: str
    source: str
    table: str
    method: str
    rows: dict[str, int]
    test_size: float | None
    seed: int | None = None
    column: str | None = None
    test_days: int | None = None
    test_from: str | None = None
    dropped: int = 0


@attrs.frozen
class _Plan:
    method: str
    assign: Assign
    column: str | None = None
    test_from: str | None = None


def split_dataset(
    client: MDMClient, name: str, *, table: str | None = None, test_size: float = 0.2, stratify: bool = False,
    stratify_column: str | None = None, time_column: str | None = None, test_days: int | None = None,
    seed: int = DEFAULT_SEED, into: str | None = None, generate_features: bool = True, force: bool = False,
) -> SplitResult:
    """Split ``name``'s ``table`` (default ``train``/``data``) into the new dataset ``into``
    (default ``<name>_split``; an existing one only with ``force``). A time split is made
    when ``time_column`` or ``test_days`` is given, or the dataset is a ``time_series``
    one with a time column and no stratification was asked for. DatasetError (one
    sentence) for a bad test size, a missing column or a split leaving a table empty."""
    info = client.get_dataset_info(name)
    table_name = table or info.default_table
    if info.table(table_name).kind != "data":
        raise DatasetError(f"Table '{table_name}' of dataset '{info.name}' is a feature table; split a data table "
                           f"({', '.join(t.name for t in info.data_tables)}).")
    if test_days is None and not 0 < test_size < 1:
        raise DatasetError(f"Test size {test_size} is not between 0 and 1; pass e.g. --test-size 0.2.")
    if test_days is not None and test_days < 1:
        raise DatasetError(f"Test days {test_days} must be at least 1.")
    target = normalize_name(into or f"{info.name}_split")
    if target == info.name:
        raise DatasetError(f"Cannot split dataset '{info.name}' into itself; pass --into with another name.")
    if not force and client.dataset_exists(target):
        raise DatasetError(f"Dataset '{target}' already exists; use --force to replace it or --into to pick another name.")
    with client.open_store(info.name) as store:
        schema = store.table_schema(table_name)

    by_time = time_column is not None or test_days is not None or (
        not stratify and stratify_column is None and info.problem_type == "time_series" and info.time_column is not None)
    if by_time and (stratify or stratify_column):
        raise DatasetError("A split is either stratified or by time; drop --stratify or the time options.")
    if by_time:
        column = time_column or info.time_column
        if column is None:
            raise DatasetError(f"Dataset '{info.name}' has no time column; pass --time-column COLUMN.")
        require_column(info.name, table_name, schema, column)
        plan = _time_plan(client, info.name, table_name, column, test_size, test_days)
    elif stratify or stratify_column:
        column = stratify_column or info.target_column
        if column is None:
            raise DatasetError(f"Dataset '{info.name}' has no target to stratify by; pass --stratify-column COLUMN.")
        require_column(info.name, table_name, schema, column)
        plan = _mask_plan("stratified", _stratified_mask(client, info.name, table_name, schema, column, test_size, seed), column)
    else:
        rows = _count_rows(client, info.name, table_name, schema.names[0])
        plan = _mask_plan("random", _random_mask(rows, test_size, seed, info.name, table_name))

    folder = client.settings.home / "tmp" / f"split-{secrets.token_hex(6)}"
    try:
        rows, dropped = _write(client, info.name, table_name, plan.assign, folder)
        for part in ("train", "test"):
            if rows[part] == 0:
                raise DatasetError(f"Splitting table '{table_name}' of dataset '{info.name}' leaves '{part}' empty; "
                                   "change --test-size or --test-days.")
        made = register(client.settings, _request(info, table_name, target, folder, plan, generate_features, force))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            folder.parent.rmdir()
    _record_source(client, made.name, f"split of dataset '{info.name}' table '{table_name}'")
    return SplitResult(
        dataset=made.name, backend=made.backend, source=info.name, table=table_name, method=plan.method, rows=rows,
        test_size=None if test_days is not None else test_size, seed=None if by_time else seed, column=plan.column,
        test_days=test_days, test_from=plan.test_from, dropped=dropped,
    )


def _count_rows(client: MDMClient, name: str, table: str, column: str) -> int:
    return sum(b.num_rows for b in client.iter_batches(name, table, columns=[column]))


def _random_mask(rows: int, test_size: float, seed: int, name: str, table: str) -> np.ndarray:
    if rows == 0:
        raise DatasetError(f"Table '{table}' of dataset '{name}' has no rows to split.")
    mask = np.zeros(rows, dtype=bool)
    mask[np.random.default_rng(seed).choice(rows, size=round(rows * test_size), replace=False)] = True
    return mask


def _stratified_mask(client: MDMClient, name: str, table: str, schema: pa.Schema, column: str,
                     test_size: float, seed: int) -> np.ndarray:
    typ = schema.field(column).type
    values = pa.chunked_array([b.column(0) for b in client.iter_batches(name, table, columns=[column])], type=typ)
    if len(values) == 0:
        raise DatasetError(f"Table '{table}' of dataset '{name}' has no rows to split.")
    if pa.types.is_dictionary(typ):
        values = values.cast(typ.value_type)
    codes = pc.dictionary_encode(values.combine_chunks(), null_encoding="encode").indices.to_numpy()
    order = np.argsort(codes, kind="stable")
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(codes), dtype=bool)
    start = 0
    for count in np.bincount(codes):
        members = order[start:start + count]
        mask[rng.choice(members, size=round(int(count) * test_size), replace=False)] = True
        start += count
    return mask


def _mask_plan(method: str, mask: np.ndarray, column: str | None = None) -> _Plan:
    def assign(batch: pa.RecordBatch, offset: int) -> tuple[pa.Array, pa.Array]:
        test = mask[offset:offset + batch.num_rows]
        if len(test) != batch.num_rows:
            raise DatasetError("The table changed while it was being split; run the split again.")
        return pa.array(~test), pa.array(test)

    return _Plan(method, assign, column)


def _time_plan(client: MDMClient, name: str, table: str, column: str, test_size: float, test_days: int | None) -> _Plan:
    cast = TimeCaster(name, table, column)
    low = high = None
    for batch in client.iter_batches(name, table, columns=[column]):
        times = cast(batch.column(0))
        if times.null_count == len(times):
            continue
        bounds = pc.min_max(times)
        low = bounds["min"] if low is None else min(low, bounds["min"], key=lambda s: s.value)
        high = bounds["max"] if high is None else max(high, bounds["max"], key=lambda s: s.value)
    if high is None:
        raise DatasetError(f"Column '{column}' of table '{table}' of dataset '{name}' holds no times to split by.")
    if test_days is None:
        start = high.value - int((high.value - low.value) * test_size)
    else:
        start = high.value - test_days * 86400 * (10**9 // UNIT_NS[high.type.unit])
    boundary = pa.scalar(start, type=high.type)

    def assign(batch: pa.RecordBatch, offset: int) -> tuple[pa.Array, pa.Array]:
        times = cast(batch.column(column))
        return pc.less(times, boundary), pc.greater_equal(times, boundary)

    return _Plan("time", assign, column, boundary.as_py().isoformat())


def _write(client: MDMClient, name: str, table: str, assign: Assign, folder: Path) -> tuple[dict[str, int], int]:
    """Stream the table into ``folder/{train,test}.parquet``; (rows per table, rows in neither)."""
    folder.mkdir(parents=True)
    rows = {"train": 0, "test": 0}
    dropped = offset = 0
    writers: dict[str, pq.ParquetWriter] = {}
    try:
        for batch in client.iter_batches(name, table):
            masks = dict(zip(("train", "test"), assign(batch, offset), strict=True))
            offset += batch.num_rows
            for part, mask in masks.items():
                if part not in writers:
                    writers[part] = pq.ParquetWriter(folder / f"{part}.parquet", batch.schema)
                chosen = batch.filter(mask)
                writers[part].write_batch(chosen)
                rows[part] += chosen.num_rows
            dropped += batch.num_rows - sum(pc.sum(m).as_py() or 0 for m in masks.values())
    finally:
        for writer in writers.values():
            writer.close()
    return rows, dropped


def _request(info: DatasetInfo, table: str, target: str, folder: Path, plan: _Plan, generate_features: bool,
             force: bool) -> RegistrationRequest:
    """The new dataset's registration: the source's metadata and ``table``'s column kinds."""
    kinds = {c.name: c.type for c in info.table(table).columns if c.type in COLUMN_KINDS}
    return RegistrationRequest(
        name=target, path=str(folder), target=info.target_column, problem_type=info.problem_type,
        id_columns=tuple(info.id_columns), time_column=info.time_column or (plan.column if plan.method == "time" else None),
        group_column=info.group_column, description=info.description,
        tags=tuple(dict.fromkeys([*info.tags, "split"])), column_types=kinds, backend=info.backend,
        generate_features=generate_features, force=force,
    )


def _record_source(client: MDMClient, name: str, source: str) -> None:
    """Record where the dataset came from instead of the removed temporary folder."""
    with dataset_lock(client.catalog.root, name, "split"):
        info = client.catalog.load(name)
        info.source = source
        client.catalog.save(info)
