"""SQLite's column codec: Arrow types stored as SQLite's INTEGER/REAL/TEXT/BLOB.

A type SQLite cannot hold natively is stored in a *storage* representation (timestamps,
dates and decimals as ISO-8601/decimal text, times and durations as integers) while the
table's original Arrow schema is kept in ``_mdm_schema``; on read, :func:`decode_column`
casts the stored column back, so round trips are exact.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from mdm_core.errors import StorageError


def text_storage_type(typ: pa.DataType) -> pa.DataType:
    """The Arrow type SQLite stores a column of ``typ`` as (int64/float64/string/binary)."""
    if pa.types.is_dictionary(typ):
        return text_storage_type(typ.value_type)
    if pa.types.is_boolean(typ) or pa.types.is_integer(typ) or pa.types.is_time(typ):
        return pa.int64()
    if pa.types.is_duration(typ):
        return pa.int64()
    if pa.types.is_floating(typ):
        return pa.float64()
    if pa.types.is_binary(typ) or pa.types.is_large_binary(typ) or pa.types.is_fixed_size_binary(typ):
        return pa.binary()
    if (
        pa.types.is_string(typ)
        or pa.types.is_large_string(typ)
        or pa.types.is_string_view(typ)
        or pa.types.is_date(typ)
        or pa.types.is_timestamp(typ)
        or pa.types.is_decimal(typ)
        or pa.types.is_null(typ)
    ):
        return pa.string()
    raise StorageError(f"Arrow type {typ} is not supported by this backend.")


#: Types whose storage type is themselves: encoding is the identity.
_NATIVE = frozenset({pa.int64(), pa.float64(), pa.string(), pa.binary()})


def encode_column(column: pa.Array, typ: pa.DataType) -> pa.Array:
    """Convert ``column`` (of Arrow type ``typ``) to its text storage type."""
    if typ in _NATIVE:
        return column
    if pa.types.is_dictionary(typ):
        column = column.dictionary_decode()
        typ = typ.value_type
    target = text_storage_type(typ)
    if pa.types.is_timestamp(typ) and typ.tz is not None:
        # Zoned timestamps hold UTC instants: format them as naive UTC (Arrow's zoned
        # formatting is an order of magnitude slower) and mark them with 'Z'.
        naive = pc.cast(column.view(pa.timestamp(typ.unit)), pa.string())
        return pc.binary_join_element_wise(naive, pa.scalar("Z"), "")
    if pa.types.is_time(typ) or pa.types.is_duration(typ):
        column = column.view(pa.int64()) if typ.bit_width == 64 else pc.cast(column.view(pa.int32()), pa.int64())
        return column
    if pa.types.is_null(typ):
        return pa.nulls(len(column), pa.string())
    if pa.types.is_uint64(typ):
        try:
            return pc.cast(column, pa.int64())
        except pa.ArrowInvalid:
            raise StorageError("An unsigned 64-bit column holds values above 2**63-1, which this backend cannot store.") from None
    return pc.cast(column, target)


def decode_column(column: pa.Array | pa.ChunkedArray, typ: pa.DataType) -> pa.Array:
    """Inverse of :func:`encode_column`."""
    if column.type == typ:
        return column
    if pa.types.is_null(typ):
        return pa.nulls(len(column))
    if pa.types.is_time(typ) or pa.types.is_duration(typ):
        ints = pc.cast(column, pa.int64() if typ.bit_width == 64 else pa.int32())
        if isinstance(ints, pa.ChunkedArray):
            ints = ints.combine_chunks()
        return ints.view(typ)
    if pa.types.is_timestamp(typ) and typ.tz is not None:
        utc = pc.cast(column, pa.timestamp(typ.unit, "UTC"))
        return pc.cast(utc, typ)
    return pc.cast(column, typ)


def decode_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Cast a storage batch whose columns match ``schema`` positionally back to ``schema``."""
    arrays = [decode_column(batch.column(i), field.type) for i, field in enumerate(schema)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def as_stored(batch: pa.RecordBatch) -> pa.RecordBatch:
    """``batch`` as SQLite gives it back: a floating-point NaN reads back as NULL, -0.0
    as 0.0."""
    return pa.RecordBatch.from_arrays([_stored_float(c) for c in batch.columns], schema=batch.schema)


def _stored_float(column: pa.Array) -> pa.Array:
    if not pa.types.is_floating(column.type):
        return column
    column = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
    return pc.if_else(pc.equal(column, 0), pa.scalar(0.0, column.type), column)
