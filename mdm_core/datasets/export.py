"""Exporting a dataset's tables to files: streamed writers with bounded memory.

Each table is read from its store batch by batch and written as it comes: CSV with
``pyarrow.csv.CSVWriter``, Parquet with ``pyarrow.parquet.ParquetWriter`` (its own codec),
JSON Lines and JSON arrays encoded per batch with Arrow compute (no Python loop over rows).
CSV and JSON are compressed through ``pyarrow.CompressedOutputStream`` (gzip, zstd).

A file is written to ``<file>.partial-<token>`` beside its final name and renamed in place
at the end, so a failure or Ctrl-C never leaves a partial file behind.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from mdm_core.datasets.models import DatasetInfo
from mdm_core.errors import DatasetError
from mdm_core.memory import governed_rows, retry_on_memory_error
from mdm_core.storage import Store

#: File formats and their extensions.
FORMATS = {"csv": "csv", "parquet": "parquet", "json": "json", "jsonl": "jsonl"}
#: Compression of a CSV/JSON stream, and the suffix it adds.
STREAM_CODECS = {"gzip": "gz", "zstd": "zst"}
#: Parquet's own column codecs.
PARQUET_CODECS = ("snappy", "zstd", "gzip")


@attrs.frozen
class ExportedFile:
    table: str
    path: Path
    rows: int
    bytes: int


@attrs.frozen
class SkippedTable:
    table: str
    reason: str


@attrs.define
class ExportResult:
    codec: str | None = None
    files: list[ExportedFile] = attrs.Factory(list)
    skipped: list[SkippedTable] = attrs.Factory(list)


def check_options(fmt: str, compression: str | None) -> str | None:
    """The codec to use (None: none), or DatasetError naming a combination that makes no sense.
    ``None`` means the format's default (Parquet: snappy, others: none); ``"none"``: none."""
    if fmt not in FORMATS:
        raise DatasetError(f"Unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}.")
    if compression is None and fmt == "parquet":
        return "snappy"
    codec = None if compression in (None, "", "none") else compression.lower()
    if codec is None:
        return None
    if fmt == "parquet":
        if codec not in PARQUET_CODECS:
            raise DatasetError(f"Parquet files compress with {', '.join(PARQUET_CODECS)} or none, not {compression!r}.")
        return codec
    if codec not in STREAM_CODECS:
        hint = " (snappy compresses Parquet files only)" if codec == "snappy" else ""
        raise DatasetError(f"{fmt} files compress with gzip, zstd or none, not {compression!r}{hint}.")
    return codec


def file_name(dataset: str, table: str, fmt: str, codec: str | None) -> str:
    """``<dataset>_<table>.<ext>[.gz|.zst]`` (Parquet compresses inside the file)."""
    suffix = f".{STREAM_CODECS[codec]}" if codec and fmt != "parquet" else ""
    return f"{dataset}_{table}.{FORMATS[fmt]}{suffix}"


def select_tables(info: DatasetInfo, table: str | None, all_tables: bool, include_features: bool,
                  ) -> tuple[list[str], list[SkippedTable]]:
    """The tables to export, and the incomplete feature tables left out (with why)."""
    if table and all_tables:
        raise DatasetError("Use either --table or --all-tables, not both.")
    incomplete = set(info.incomplete_tables)
    if table:
        info.table(table)
        if table in incomplete:
            raise DatasetError(f"Table '{table}' of dataset '{info.name}' is incomplete and cannot be exported.")
        return [table], []
    names: list[str] = []
    skipped: list[SkippedTable] = []
    for candidate in info.tables:
        if candidate.kind != "data" and not include_features:
            continue
        if candidate.name in incomplete:
            skipped.append(SkippedTable(candidate.name, "incomplete feature table (1.x), not exported"))
            continue
        names.append(candidate.name)
    return names, skipped


def export_tables(
    store: Store,
    info: DatasetInfo,
    output_dir: Path,
    *,
    table: str | None = None,
    all_tables: bool = False,
    fmt: str = "csv",
    compression: str | None = None,
    columns: Sequence[str] | None = None,
    include_features: bool = True,
    batch_size: int = 10_000,
    memory_budget_mb: int = 0,
    on_file: Callable[[ExportedFile], None] | None = None,
) -> ExportResult:
    """Write the chosen tables of ``info`` (read from ``store``) into ``output_dir``, in
    batches of ``batch_size`` rows or fewer when rows are wide (``memory_budget_mb`` is
    ``performance.memory_budget_mb``; see :mod:`mdm_core.memory`).

    With ``columns`` each table gets the listed columns it has, in that order; a column no
    chosen table has is an error, a table having none of them is skipped."""
    codec = check_options(fmt, compression)
    names, skipped = select_tables(info, table, all_tables, include_features)
    result = ExportResult(codec=codec, skipped=skipped)
    plan: list[tuple[str, list[str] | None]] = []
    if columns:
        wanted = list(dict.fromkeys(columns))
        schemas = {name: store.table_schema(name).names for name in names}
        unknown = [c for c in wanted if not any(c in have for have in schemas.values())]
        if unknown:
            raise DatasetError(f"Dataset '{info.name}' has no column {unknown[0]!r} in "
                               f"{'table ' + repr(names[0]) if len(names) == 1 else 'the exported tables'}.")
        for name in names:
            mine = [c for c in wanted if c in schemas[name]]
            if mine:
                plan.append((name, mine))
            else:
                result.skipped.append(SkippedTable(name, "has none of the requested columns"))
    else:
        plan = [(name, None) for name in names]
    if not plan:
        raise DatasetError(f"Nothing to export from dataset '{info.name}'.")
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"Cannot create the output folder {output_dir}: {exc.strerror or exc}.") from exc
    for name, cols in plan:
        target = output_dir / file_name(info.name, name, fmt, codec)
        try:
            rows = _export_table(store, name, cols, target, fmt, codec, batch_size, memory_budget_mb)
        except OSError as exc:
            raise DatasetError(f"Cannot write {target}: {exc.strerror or exc}.") from exc
        exported = ExportedFile(name, target, rows, target.stat().st_size)
        result.files.append(exported)
        if on_file:
            on_file(exported)
    return result


def _export_table(store: Store, name: str, columns: list[str] | None, target: Path, fmt: str, codec: str | None,
                  batch_size: int, memory_budget_mb: int) -> int:
    """Write table ``name`` to ``target`` in batches that fit the memory budget; rows written."""
    rows = governed_rows(batch_size, memory_budget_mb, what=f"table '{name}'",
                         probe=lambda n: store.read_table(name, columns=columns, limit=n, batch_size=n))
    return retry_on_memory_error(
        lambda r: write_file(store.read_table(name, columns=columns, batch_size=r), target, fmt, codec),
        rows, what=f"Exporting table '{name}'", batch_size=batch_size,
    )


def write_file(reader: pa.RecordBatchReader, target: Path, fmt: str, codec: str | None) -> int:
    """Stream ``reader`` into ``target`` (replaced if it exists); rows written. Written to a
    ``.partial-<token>`` file first, removed on any error or interruption."""
    temp = target.with_name(f"{target.name}.partial-{secrets.token_hex(4)}")
    try:
        if fmt == "parquet":
            rows = _write_parquet(reader, temp, codec)
        else:
            with pa.OSFile(str(temp), "wb") as raw:
                sink = pa.CompressedOutputStream(raw, codec) if codec else raw
                try:
                    rows = _WRITERS[fmt](reader, sink)
                finally:
                    if codec:
                        sink.close()
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return rows


def _write_parquet(reader: pa.RecordBatchReader, path: Path, codec: str | None) -> int:
    import pyarrow.parquet as pq

    rows = 0
    with pq.ParquetWriter(str(path), reader.schema, compression=codec or "none") as writer:
        for batch in reader:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows


def _write_csv(reader: pa.RecordBatchReader, sink: pa.NativeFile) -> int:
    import pyarrow.csv as pacsv

    _refuse_unencodable(reader.schema, "CSV")
    floats = [i for i, field in enumerate(reader.schema) if pa.types.is_floating(field.type)]
    schema = reader.schema
    for i in floats:
        schema = schema.set(i, pa.field(schema.field(i).name, pa.string()))
    rows = 0
    with pacsv.CSVWriter(sink, schema) as writer:
        for batch in reader:
            columns = list(batch.columns)
            for i in floats:  # 194.0, not 194: a float column stays one when read back
                columns[i] = _float_text(columns[i])
            writer.write_batch(pa.RecordBatch.from_arrays(columns, schema=schema))
            rows += batch.num_rows
    return rows


def _write_jsonl(reader: pa.RecordBatchReader, sink: pa.NativeFile) -> int:
    keys = _json_keys(reader.schema)
    rows = 0
    for batch in reader:
        if batch.num_rows:
            sink.write(_concatenated(_json_objects(batch, keys, "\n")))
            rows += batch.num_rows
    return rows


def _write_json_array(reader: pa.RecordBatchReader, sink: pa.NativeFile) -> int:
    keys = _json_keys(reader.schema)
    rows = 0
    sink.write(b"[")
    for batch in reader:
        if batch.num_rows:
            sink.write(b",\n" if rows else b"\n")
            body = _concatenated(_json_objects(batch, keys, ",\n"))
            sink.write(body[: len(body) - 2])  # no separator after the batch's last object
            rows += batch.num_rows
    sink.write(b"\n]\n" if rows else b"]\n")
    return rows


_WRITERS = {"csv": _write_csv, "jsonl": _write_jsonl, "json": _write_json_array}


# -- JSON encoding with Arrow compute ---------------------------------------------------------
def _refuse_unencodable(schema: pa.Schema, what: str) -> None:
    for field in schema:
        if pa.types.is_nested(field.type) or _is_binary(field.type):
            raise DatasetError(f"Column {field.name!r} is {field.type}, which {what} cannot hold; export Parquet instead.")


def _is_binary(typ: pa.DataType) -> bool:
    return pa.types.is_binary(typ) or pa.types.is_large_binary(typ) or pa.types.is_fixed_size_binary(typ)


def _json_keys(schema: pa.Schema) -> list[str]:
    _refuse_unencodable(schema, "JSON")
    return [json.dumps(name, ensure_ascii=False) + ":" for name in schema.names]


def _json_objects(batch: pa.RecordBatch, keys: list[str], terminator: str) -> pa.Array:
    """One JSON object per row, each followed by ``terminator``."""
    if not keys:
        return pa.array(["{}" + terminator] * batch.num_rows, pa.string())
    pieces: list = []
    for i, (key, column) in enumerate(zip(keys, batch.columns, strict=True)):
        pieces.append(("{" if i == 0 else ",") + key)
        pieces.append(_json_values(column))
    pieces.append("}" + terminator)
    return pc.binary_join_element_wise(*pieces, "")


def _json_values(column: pa.Array) -> pa.Array:
    """Each value of ``column`` as JSON text; null (and NaN/infinity) as ``null``."""
    typ = column.type
    if pa.types.is_null(typ):
        return pa.array(["null"] * len(column), pa.string())
    if pa.types.is_boolean(typ):
        text = pc.if_else(column, "true", "false")
    elif pa.types.is_integer(typ) or pa.types.is_decimal(typ):
        text = pc.cast(column, pa.string())
    elif pa.types.is_floating(typ):
        text = pc.if_else(pc.is_finite(column), _float_text(column), pa.scalar(None, pa.string()))  # JSON has no NaN
    else:
        text = _quoted(pc.cast(column, pa.string()))
    return pc.fill_null(text, "null")


def _float_text(column: pa.Array) -> pa.Array:
    """Shortest round-trip text of each float, always with a point or exponent (``194.0``)."""
    text = pc.cast(column, pa.string())
    plain = pc.match_substring_regex(text, "^-?[0-9]+$")
    return pc.if_else(plain, pc.binary_join_element_wise(text, ".0", ""), text)


_CONTROL = [chr(c) for c in range(0x20)]
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _quoted(text: pa.Array) -> pa.Array:
    """JSON string literals: backslash, quote and control characters escaped."""
    text = pc.replace_substring(text, "\\", "\\\\")
    text = pc.replace_substring(text, '"', '\\"')
    if pc.any(pc.match_substring_regex(text, "[\\x00-\\x1f]")).as_py():
        for char in _CONTROL:
            if pc.any(pc.match_substring(text, char)).as_py():
                text = pc.replace_substring(text, char, _SHORT_ESCAPES.get(char, f"\\u{ord(char):04x}"))
    return pc.binary_join_element_wise('"', text, '"', "")


def _concatenated(strings: pa.Array) -> bytes | pa.Buffer:
    """The bytes of every (non-null) string of ``strings`` back to back, without copying."""
    import numpy as np

    _, offsets, data = strings.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32)[[strings.offset, strings.offset + len(strings)]]
    return data[int(bounds[0]):int(bounds[1])]
