"""JSON files as record batches: JSON Lines of objects (streamed by pyarrow behind
:class:`JsonLinesGuard`) and JSON arrays of objects (loaded whole: an array cannot be
streamed). Nested values become JSON text; text of ISO-8601 dates and timestamps becomes
dates and timestamps as in CSV (:mod:`mdm_plugin_files.json_temporal`)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.json as pajson

from mdm_core.errors import DatasetError
from mdm_core.storage import rebatch
from mdm_plugin_files.columns import (
    flatten_nested,
    flatten_schema,
    null_as_string,
    require_columns,
    unique_names,
)
from mdm_plugin_files.detection import check_readable, json_layout
from mdm_plugin_files.json_guard import JsonLinesGuard
from mdm_plugin_files.json_temporal import (
    LateValue,
    as_text,
    chosen_types,
    holds_timestamp,
    typed_schema,
    with_types,
)
from mdm_plugin_files.json_text import json_found
from mdm_plugin_files.messages import cut
from mdm_plugin_files.reader import FileReader
from mdm_plugin_files.streams import open_binary, wind_down


@attrs.define
class JsonReader(FileReader):
    """A ``.json``/``.jsonl``/``.ndjson`` file; ``layout`` (``json`` for an array of
    objects, ``jsonl`` for JSON Lines) comes from its first significant byte.

    Text columns of ISO-8601 dates or timestamps are read as such (see
    :mod:`mdm_plugin_files.json_temporal`), typed on the block that fixes the schema;
    ``overrides`` maps column names to the types forced on the next :meth:`open` (filled by
    :meth:`widen_for` when a later block holds a value that type cannot hold)."""

    overrides: dict[str, pa.DataType] = attrs.Factory(dict)
    layout: str = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        check_readable(self.path)
        self.layout = json_layout(self.path)

    def _stream(self) -> pa.RecordBatchReader:
        if self.layout == "jsonl":
            return jsonl_stream(self.path, self.batch_size, self.overrides)
        return json_array_stream(self.path, self.batch_size)

    def widen_for(self, error: pa.ArrowInvalid) -> bool:
        """Read the columns late values did not fit as the wider types the error names
        (finer timestamps, or text); False for any other error."""
        if not isinstance(error, LateValue):
            return False
        wider = {name: typ for name, typ in error.widenings.items() if self.overrides.get(name) != typ}
        self.overrides.update(wider)
        return bool(wider)

    def column_names(self) -> list[str]:
        """JSON Lines: the names pyarrow infers from the first block (read no further)."""
        if self.layout == "jsonl":
            return jsonl_column_names(self.path)
        return super().column_names()


def open_jsonl(path: Path, explicit: pa.Schema | None = None) -> tuple[pajson.JSONStreamingReader, JsonLinesGuard]:
    """pyarrow's streaming reader over ``path`` behind a :class:`JsonLinesGuard` (keys in
    ``explicit`` read as its types, the others inferred from the first block); the file
    released and a DatasetError when it cannot be opened."""
    guard = JsonLinesGuard(open_binary(path), path)
    parse_options = pajson.ParseOptions(explicit_schema=explicit) if explicit is not None else None
    try:
        source = pajson.open_json(guard, read_options=pajson.ReadOptions(block_size=8 << 20),
                                  parse_options=parse_options)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        guard.release()
        raise jsonl_failure(path, guard, exc) from None
    except BaseException:
        guard.release()
        raise
    if guard.problem is not None:
        guard.release()
        raise DatasetError(guard.problem)
    return source, guard


def jsonl_failure(path: Path, guard: JsonLinesGuard, exc: Exception) -> DatasetError:
    if guard.problem is not None:
        return DatasetError(guard.problem)
    return DatasetError(f"{path.name} is not valid JSON Lines: {json_error(exc)}")


def jsonl_stream(path: Path, batch_size: int, overrides: dict[str, pa.DataType]) -> pa.RecordBatchReader:
    """The batches of a JSON Lines file; text columns of dates or timestamps typed on the
    first block (pyarrow reads whole-second ISO-8601 text as a naive ``timestamp[s]``,
    dropping zones, so those keys are read again as text and typed here)."""
    source, guard = open_jsonl(path)
    names = source.schema.names
    textual = [f.with_type(as_text(f.type)) for f in source.schema if holds_timestamp(f.type)]
    if textual:
        wind_down(source, guard, complete=False)
        source, guard = open_jsonl(path, pa.schema(textual))
    # explicit keys come first in pyarrow's schema: restore the file's order
    order = [source.schema.get_field_index(name) for name in names]
    try:
        first = _next_batch(path, source, guard)
        unique = unique_names(names)
        fields = [source.schema.field(i).with_name(n) for i, n in zip(order, unique, strict=True)]
        flat = null_as_string(flatten_schema(pa.schema(fields)))
        require_columns(path, flat)

        def shaped(batch: pa.RecordBatch | None) -> pa.RecordBatch | None:
            """A parsed batch in the file's column order, names made unique, nesting flattened."""
            return None if batch is None else flatten_nested(batch.select(order).rename_columns(unique), flat, path)

        first = shaped(first)
        types = chosen_types(first, overrides) if first is not None else {}
        target = typed_schema(flat, types)
    except BaseException:
        wind_down(source, guard, complete=False)
        raise

    def batches() -> Iterator[pa.RecordBatch]:
        complete = False
        try:
            batch = first
            while batch is not None:
                batch = with_types(batch, types, path)
                for piece in rebatch([batch], batch_size):
                    yield piece.cast(target) if piece.schema != target else piece
                batch = shaped(_next_batch(path, source, guard))
            complete = True
        finally:
            wind_down(source, guard, complete)

    return pa.RecordBatchReader.from_batches(target, batches())


def _next_batch(path: Path, source: pajson.JSONStreamingReader, guard: JsonLinesGuard) -> pa.RecordBatch | None:
    """The next batch pyarrow parsed, None at the end; the guard's problem or pyarrow's
    error as one DatasetError."""
    try:
        batch = source.read_next_batch()
    except StopIteration:
        batch = None
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise jsonl_failure(path, guard, exc) from None
    if guard.problem is not None:
        raise DatasetError(guard.problem)
    return batch


def jsonl_column_names(path: Path) -> list[str]:
    """The column names of a JSON Lines file (pyarrow infers them from the first block);
    the reader is wound down at once."""
    source, guard = open_jsonl(path)
    names = unique_names(source.schema.names)
    wind_down(source, guard, complete=False)
    if guard.problem is not None:
        raise DatasetError(guard.problem)
    return names


def json_error(exc: Exception) -> str:
    text = str(exc).strip()
    text = text.removeprefix("JSON parse error: ")
    if "Empty JSON stream" in text:
        return "the file holds no JSON objects."
    match = re.search(r"Column\((.*?)\) changed from (\w+) to (\w+)", text)
    if match:
        column = match.group(1).lstrip("/") or "(row)"
        return f"values of '{column}' change from {match.group(2)} to {match.group(3)}; every line must be an object and each key must keep one type."
    return cut(text)


def json_array_stream(path: Path, batch_size: int) -> pa.RecordBatchReader:
    """A top-level JSON array of objects (loaded whole: JSON arrays cannot be streamed;
    use JSON Lines for large files)."""
    try:
        with open_binary(path) as handle:
            records = json.load(io.TextIOWrapper(handle, encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path.name} is not valid JSON: {cut(str(exc))}") from None
    except RecursionError:
        raise DatasetError(f"{path.name} nests objects or arrays too deeply for MDM to read.") from None
    if not isinstance(records, list):
        raise DatasetError(f"{path.name}: expected a JSON array of objects (one object per row).")
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            found = json_found(json.dumps(record)[:8].encode())
            raise DatasetError(
                f"{path.name}: expected a JSON array of objects (one object per row), item {index + 1} is {found}."
            )
    if not records:
        raise DatasetError(f"{path.name} holds an empty JSON array; there is nothing to register.")
    try:
        # nested values are stored as JSON text: turn them into text now, so nested values
        # of different shapes under one key are fine
        records = [
            {k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v for k, v in r.items()}
            for r in records
        ]
        # pa.array merges the keys of every record (from_pylist would keep only the first's)
        table = pa.Table.from_struct_array(pa.array(records))
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DatasetError(f"{path.name}: {mixed_key(records) or 'values of one key have mixed types'} ({cut(str(exc), 80)}).") from None
    except RecursionError:
        raise DatasetError(f"{path.name} nests objects or arrays too deeply for MDM to read.") from None
    names = unique_names(table.column_names)
    table = table.rename_columns(names)
    # every value is at hand: a column is a date/timestamp only if all of them read as one
    types = chosen_types(table, {})
    table = table.cast(typed_schema(table.schema, types))
    target = null_as_string(flatten_schema(table.schema))
    require_columns(path, target)
    batches = [flatten_nested(b, target, path).cast(target) for b in table.to_batches(max_chunksize=batch_size)]
    return pa.RecordBatchReader.from_batches(target, iter(batches))


def mixed_key(records: list[dict]) -> str | None:
    """``key 'k' mixes <type> and <type>`` for the first key whose values Arrow cannot
    hold in one column."""
    keys = dict.fromkeys(k for r in records for k in r)
    for key in keys:
        values = [r.get(key) for r in records]
        try:
            pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            kinds = dict.fromkeys(json_type(v) for v in values if v is not None)
            return f"key '{key}' mixes {' and '.join(list(kinds)[:3])} values"
    return None


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else "array" if isinstance(value, list) else type(value).__name__
