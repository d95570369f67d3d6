"""Arrow types in and out of DuckDB.

DuckDB holds nearly every flat Arrow type natively, but reads some back differently
(dictionaries as VARCHAR, large strings as strings, time zones as ``Etc/UTC``, the null
type as INTEGER). The store keeps the written Arrow schema and :func:`conform_batch`
casts what DuckDB returns back to it, so round trips are exact.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from mdm_core.errors import StorageError


def check_supported(schema: pa.Schema) -> None:
    """Refuse types this backend does not round-trip (nested types)."""
    for field in schema:
        if pa.types.is_nested(field.type):
            raise StorageError(f"Column {field.name!r} has nested type {field.type}, which MDM does not store.")


def ingest_schema(schema: pa.Schema) -> pa.Schema:
    """The schema DuckDB scans: durations become int64 (DuckDB would turn them into
    INTERVAL, which does not map back to a duration), everything else is unchanged."""
    return pa.schema([
        pa.field(f.name, pa.int64()) if pa.types.is_duration(f.type) else f for f in schema
    ])


def encode_batch(batch: pa.RecordBatch, target: pa.Schema) -> pa.RecordBatch:
    """Cast ``batch`` to the ingest schema ``target``."""
    return batch if batch.schema == target else batch.cast(target)


def conform_column(column: pa.Array, typ: pa.DataType) -> pa.Array:
    """Cast ``column`` as returned by DuckDB to the written type ``typ``."""
    if column.type == typ:
        return column
    if pa.types.is_null(typ):
        return pa.nulls(len(column))
    if pa.types.is_duration(typ):
        return pc.cast(column, pa.int64()).cast(typ)
    if pa.types.is_dictionary(typ):
        values = conform_column(column, typ.value_type)
        encoded = pc.dictionary_encode(values)
        return encoded.cast(typ)
    return pc.cast(column, typ)


def conform_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Cast every column of ``batch`` positionally to ``schema``."""
    arrays = [conform_column(batch.column(i), field.type) for i, field in enumerate(schema)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
