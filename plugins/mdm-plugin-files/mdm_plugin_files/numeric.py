"""The ``--type col=numeric`` check: a column read as text but forced numeric must hold
only numbers, checked on every batch with vectorised casts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from mdm_core.errors import DatasetError
from mdm_plugin_files.messages import cut, shown


def with_numeric_check(stream: pa.RecordBatchReader, kinds: Mapping[str, str], path: Path) -> pa.RecordBatchReader:
    """``stream`` itself, or, when ``kinds`` forces text columns of it numeric, a stream
    of the same batches that checks those columns on the way."""
    numeric = [
        name for name, kind in kinds.items()
        if kind == "numeric" and name in stream.schema.names
        and (pa.types.is_string(stream.schema.field(name).type) or pa.types.is_large_string(stream.schema.field(name).type))
    ]
    if not numeric:
        return stream
    return pa.RecordBatchReader.from_batches(stream.schema, checked_numeric(stream, numeric, path))


def checked_numeric(stream: pa.RecordBatchReader, columns: list[str], path: Path) -> Iterator[pa.RecordBatch]:
    """``stream``'s batches, after checking that ``columns`` (forced numeric by ``--type``
    but read as text) hold only numbers."""
    seen = 0
    try:
        for batch in stream:
            for name in columns:
                column = batch.column(name)
                try:
                    pc.cast(column, pa.float64())
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                    raise not_numeric(path, name, column, seen, exc) from None
            seen += batch.num_rows
            yield batch
    finally:
        stream.close()  # winds the file reader down now, not at garbage collection


def not_numeric(path: Path, name: str, column: pa.Array, seen: int, exc: Exception) -> DatasetError:
    index = first_unparsable(column)
    if index is None:
        holds = f"holds values that are not numbers ({cut(str(exc), 80)})"
    else:
        holds = f"holds {shown(column[index].as_py())} (row {seen + index + 1}), which is not a number"
    return DatasetError(f"{path.name}: column '{name}' {holds}; drop the --type {name}=numeric override or fix the value.")


def first_unparsable(column: pa.Array) -> int | None:
    """Index of the first value of ``column`` that does not cast to float64 (a binary
    search of casts: pyarrow's error may name any failing value, not the first)."""

    def fails(start: int, stop: int) -> bool:
        try:
            pc.cast(column.slice(start, stop - start), pa.float64())
            return False
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return True

    low, high = 0, len(column)
    if high == 0 or not fails(low, high):
        return None
    while high - low > 1:
        middle = (low + high) // 2
        if fails(low, middle):
            high = middle
        else:
            low = middle
    return low
