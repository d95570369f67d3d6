"""JSON files as record batches: JSON Lines of objects (streamed by pyarrow behind
:class:`JsonLinesGuard`) and JSON arrays of objects (loaded whole: an array cannot be
streamed). Nested values become JSON text."""

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
from mdm_plugin_files.json_text import json_found
from mdm_plugin_files.messages import cut
from mdm_plugin_files.reader import FileReader
from mdm_plugin_files.streams import open_binary, wind_down


@attrs.define
class JsonReader(FileReader):
    """A ``.json``/``.jsonl``/``.ndjson`` file; ``layout`` (``json`` for an array of
    objects, ``jsonl`` for JSON Lines) comes from its first significant byte."""

    layout: str = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        check_readable(self.path)
        self.layout = json_layout(self.path)

    def _stream(self) -> pa.RecordBatchReader:
        if self.layout == "jsonl":
            return jsonl_stream(self.path, self.batch_size)
        return json_array_stream(self.path, self.batch_size)

    def column_names(self) -> list[str]:
        """JSON Lines: the names pyarrow infers from the first block (read no further)."""
        if self.layout == "jsonl":
            return jsonl_column_names(self.path)
        return super().column_names()


def jsonl_stream(path: Path, batch_size: int) -> pa.RecordBatchReader:
    guard = JsonLinesGuard(open_binary(path), path)

    def failed(exc: Exception) -> DatasetError:
        if guard.problem is not None:
            return DatasetError(guard.problem)
        return DatasetError(f"{path.name} is not valid JSON Lines: {json_error(exc)}")

    try:
        source = pajson.open_json(guard, read_options=pajson.ReadOptions(block_size=8 << 20))
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        guard.release()
        raise failed(exc) from None
    except BaseException:
        guard.release()
        raise
    if guard.problem is not None:
        guard.release()
        raise DatasetError(guard.problem)
    raw_schema = source.schema
    names = unique_names(raw_schema.names)
    target = null_as_string(flatten_schema(pa.schema([f.with_name(n) for f, n in zip(raw_schema, names, strict=True)])))
    try:
        require_columns(path, target)
    except DatasetError:
        guard.release()
        raise

    def batches() -> Iterator[pa.RecordBatch]:
        complete = False
        try:
            while True:
                try:
                    batch = source.read_next_batch()
                except StopIteration:
                    break
                except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                    raise failed(exc) from None
                if guard.problem is not None:
                    break
                batch = flatten_nested(batch.rename_columns(names), target, path)
                for piece in rebatch([batch], batch_size):
                    yield piece.cast(target) if piece.schema != target else piece
            if guard.problem is not None:
                raise DatasetError(guard.problem)
            complete = True
        finally:
            wind_down(source, guard, complete)

    return pa.RecordBatchReader.from_batches(target, batches())


def jsonl_column_names(path: Path) -> list[str]:
    """The column names of a JSON Lines file (pyarrow infers them from the first block);
    the reader is wound down at once."""
    guard = JsonLinesGuard(open_binary(path), path)
    try:
        source = pajson.open_json(guard, read_options=pajson.ReadOptions(block_size=8 << 20))
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        guard.release()
        if guard.problem is not None:
            raise DatasetError(guard.problem) from None
        raise DatasetError(f"{path.name} is not valid JSON Lines: {json_error(exc)}") from None
    except BaseException:
        guard.release()
        raise
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
