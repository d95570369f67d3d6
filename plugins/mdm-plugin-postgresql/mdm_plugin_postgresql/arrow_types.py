"""Arrow types in and out of PostgreSQL.

Each Arrow type maps to a PostgreSQL column type and an *ingest* Arrow type that ADBC's
binary COPY writes into that column (int8 into smallint, uint64 into numeric(20), any
timestamp unit into microseconds, ...). The written Arrow schema is kept by the store, and
:func:`decode_batch` casts what comes back to it, so round trips are exact. Values
PostgreSQL cannot hold exactly (sub-microsecond timestamps, NUL in text) are refused with
a StorageError rather than changed.
"""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pyarrow.compute as pc

from mdm_core.errors import StorageError

#: PostgreSQL truncates identifiers to NAMEDATALEN-1 bytes.
MAX_IDENTIFIER_BYTES = 63
ROW_COLUMN = "_mdm_row"


def column_type(typ: pa.DataType) -> tuple[str, pa.DataType]:
    """(PostgreSQL column type, ingest Arrow type) for the Arrow type ``typ``."""
    if pa.types.is_dictionary(typ):
        return column_type(typ.value_type)
    if pa.types.is_boolean(typ):
        return "boolean", pa.bool_()
    if pa.types.is_int8(typ) or pa.types.is_uint8(typ) or pa.types.is_int16(typ):
        return "smallint", pa.int16()
    if pa.types.is_uint16(typ) or pa.types.is_int32(typ):
        return "integer", pa.int32()
    if pa.types.is_uint32(typ) or pa.types.is_int64(typ):
        return "bigint", pa.int64()
    if pa.types.is_uint64(typ):
        return "numeric(20, 0)", pa.decimal128(20, 0)
    if pa.types.is_float16(typ) or pa.types.is_float32(typ):
        return "real", pa.float32()
    if pa.types.is_float64(typ):
        return "double precision", pa.float64()
    if pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_string_view(typ):
        return "text", pa.string()
    if pa.types.is_null(typ):
        return "text", pa.string()
    if pa.types.is_binary(typ) or pa.types.is_large_binary(typ) or pa.types.is_fixed_size_binary(typ):
        return "bytea", pa.binary()
    if pa.types.is_date(typ):
        return "date", pa.date32()
    if pa.types.is_timestamp(typ):
        if typ.tz is not None:
            return "timestamptz", pa.timestamp("us", "UTC")
        return "timestamp", pa.timestamp("us")
    if pa.types.is_time(typ):
        return "time", pa.time64("us")
    if pa.types.is_duration(typ):
        return "bigint", pa.int64()
    if pa.types.is_decimal(typ):
        return f"numeric({typ.precision}, {typ.scale})", pa.decimal128(typ.precision, typ.scale)
    if pa.types.is_nested(typ):
        raise StorageError(f"Nested type {typ} is not stored by MDM.")
    raise StorageError(f"Arrow type {typ} is not supported by the PostgreSQL backend.")


def physical_names(names: list[str]) -> list[str]:
    """Column names as created in PostgreSQL: the name itself when it fits in 63 bytes and
    is not the row-order column, else a stable shortened form with a hash suffix."""
    out: list[str] = []
    for name in names:
        if len(name.encode()) <= MAX_IDENTIFIER_BYTES and name != ROW_COLUMN:
            out.append(name)
            continue
        digest = hashlib.sha1(name.encode()).hexdigest()[:10]
        head = name.encode()[:40].decode(errors="ignore")
        out.append(f"{head}~{digest}")
    if len(set(out)) != len(out):
        raise StorageError("Two column names are the same in PostgreSQL once shortened to 63 bytes.")
    return out


def encode_column(column: pa.Array, typ: pa.DataType, name: str) -> pa.Array:
    """Convert ``column`` of Arrow type ``typ`` to its ingest type."""
    if pa.types.is_dictionary(typ):
        column = column.dictionary_decode()
        typ = typ.value_type
    _, target = column_type(typ)
    if pa.types.is_null(typ):
        return pa.nulls(len(column), pa.string())
    if pa.types.is_duration(typ):
        return pc.cast(column, pa.int64())
    if pa.types.is_string(target) and pc.any(pc.match_substring(column, "\x00")).as_py():
        raise StorageError(f"Column {name!r} holds a NUL character, which PostgreSQL text cannot store.")
    try:
        return pc.cast(column, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise StorageError(f"Column {name!r} cannot be stored exactly in PostgreSQL: {exc}") from None


def decode_column(column: pa.Array, typ: pa.DataType) -> pa.Array:
    """Cast a column read from PostgreSQL back to the written Arrow type ``typ``."""
    if isinstance(column.type, pa.ExtensionType) or isinstance(column, pa.ExtensionArray):
        column = column.storage
    if column.type == typ:
        return column
    if pa.types.is_null(typ):
        return pa.nulls(len(column))
    if pa.types.is_dictionary(typ):
        return pc.dictionary_encode(decode_column(column, typ.value_type)).cast(typ)
    if pa.types.is_duration(typ):
        return pc.cast(column, typ)
    return pc.cast(column, typ)


def decode_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    arrays = [decode_column(batch.column(i), field.type) for i, field in enumerate(schema)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
