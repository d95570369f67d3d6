"""Column names and shapes every format gives: names normalised and unique, nested
values as JSON text, no columns of Arrow's null type, at least one column."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from mdm_core.errors import DatasetError


def unique_names(header: list[str]) -> list[str]:
    """Keep names as written; empty cells become ``column_<n>`` (1-based position), and
    repeats get ``_2``, ``_3``... (compared case-insensitively, as SQL engines do)."""
    names: list[str] = []
    seen: set[str] = set()
    for index, raw in enumerate(header, start=1):
        name = raw if raw.strip() else f"column_{index}"
        candidate, n = name, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{name}_{n}"
        seen.add(candidate.lower())
        names.append(candidate)
    return names


def null_as_string(schema: pa.Schema) -> pa.Schema:
    """Columns with no values in the inference block are text, not Arrow's null type."""
    return pa.schema([pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in schema])


def require_columns(path: Path, schema: pa.Schema) -> None:
    if len(schema) == 0:
        raise DatasetError(f"{path.name} has no columns; there is nothing to register.")


def flatten_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` with nested columns (lists, objects) as text."""
    return pa.schema(
        [pa.field(f.name, pa.string()) if pa.types.is_nested(f.type) else f for f in schema]
    )


def flatten_nested(batch: pa.RecordBatch, target: pa.Schema, path: Path | None = None) -> pa.RecordBatch:
    """Nested values (lists, objects) become JSON text; other columns are untouched."""
    arrays = []
    for column, field in zip(batch.columns, batch.schema, strict=True):
        if pa.types.is_nested(field.type):
            try:
                column = pa.array(
                    [None if v is None else json.dumps(v, ensure_ascii=False, default=str) for v in column.to_pylist()],
                    pa.string(),
                )
            except RecursionError:
                where = f"{path.name}: " if path is not None else ""
                raise DatasetError(f"{where}column '{field.name}' nests values too deeply for MDM to read.") from None
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, names=target.names)
