"""Parquet files as record batches, streamed by row group; nested columns as JSON text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import attrs
import pyarrow as pa
import pyarrow.parquet as pq

from mdm_core.errors import DatasetError
from mdm_plugin_files.columns import flatten_nested, flatten_schema, require_columns, unique_names
from mdm_plugin_files.detection import check_readable
from mdm_plugin_files.messages import first_sentence, os_reason
from mdm_plugin_files.reader import FileReader


@attrs.define
class ParquetReader(FileReader):
    """A Parquet file (its column names come from the file's schema)."""

    def __attrs_post_init__(self) -> None:
        check_readable(self.path)

    def _stream(self) -> pa.RecordBatchReader:
        return parquet_stream(self.path, self.batch_size)


def parquet_stream(path: Path, batch_size: int) -> pa.RecordBatchReader:
    try:
        parquet = pq.ParquetFile(path)
        schema = parquet.schema_arrow
    except PermissionError as exc:
        raise DatasetError(f"{path.name} cannot be read: {os_reason(exc)}.") from None
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DatasetError(
            f"{path.name} is not a readable Parquet file: it is truncated, corrupt or not Parquet ({first_sentence(exc)})."
        ) from None
    names = unique_names(schema.names)
    target = flatten_schema(pa.schema([f.with_name(n) for f, n in zip(schema, names, strict=True)]))
    require_columns(path, target)

    def batches() -> Iterator[pa.RecordBatch]:
        pieces = parquet.iter_batches(batch_size=batch_size)
        while True:
            try:
                batch = next(pieces)
            except StopIteration:
                return
            except (pa.ArrowException, OSError, ValueError) as exc:
                raise DatasetError(f"{path.name} is a corrupt Parquet file: {first_sentence(exc)}.") from None
            yield flatten_nested(batch.rename_columns(names), target, path)

    return pa.RecordBatchReader.from_batches(target, batches())
