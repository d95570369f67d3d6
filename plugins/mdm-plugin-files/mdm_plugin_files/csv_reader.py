"""CSV/TSV files (gzip and zip too) as record batches, read by pyarrow's streaming CSV
reader with the sniffed dialect. Types are inferred from the first block; a value late in
the file that does not fit makes :meth:`CsvReader.widen_for` widen that column (integer
to float, anything to text) for the next read."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import attrs
import pyarrow as pa
import pyarrow.csv as pacsv

from mdm_core.errors import DatasetError
from mdm_core.storage import rebatch
from mdm_plugin_files.columns import null_as_string
from mdm_plugin_files.csv_dialect import SAMPLE_BYTES, CsvDialect, sniff_csv
from mdm_plugin_files.detection import check_readable, refuse_spreadsheet
from mdm_plugin_files.messages import shown
from mdm_plugin_files.reader import FileReader
from mdm_plugin_files.streams import open_binary, wind_down

_CONVERSION_RE = re.compile(r"In CSV column #(\d+): .*CSV conversion error to (\w+)")
_CONVERSION_DETAIL_RE = re.compile(
    r"In CSV column #(\d+): (?:Row #(\d+): )?CSV conversion error to (\w+): invalid value '(.*)'", re.DOTALL
)


@attrs.define
class CsvReader(FileReader):
    """A CSV/TSV file. ``overrides`` maps column names to Arrow types forced on the next
    :meth:`open` (filled by :meth:`widen_for`)."""

    overrides: dict[str, pa.DataType] = attrs.Factory(dict)
    dialect: CsvDialect = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        check_readable(self.path)
        refuse_spreadsheet(self.path)
        self.dialect = sniff_csv(self.path)

    def _stream(self) -> pa.RecordBatchReader:
        return csv_stream(self.path, self.dialect, self.overrides, self.batch_size)

    def error_for(self, error: pa.ArrowInvalid) -> DatasetError:
        """One sentence for a read error that widening could not fix: the file, and for a
        CSV conversion error the column, row and value (and the ``--type`` to drop)."""
        text = str(error).strip()
        match = _CONVERSION_DETAIL_RE.search(text)
        if match and int(match.group(1)) < len(self.dialect.column_names):
            column = self.dialect.column_names[int(match.group(1))]
            row = f" (row {int(match.group(2))})" if match.group(2) else ""
            message = f"{self.path.name}: column '{column}' holds {shown(match.group(4))}{row}, which cannot be read as {match.group(3)}"
            if column in self.kinds:
                return DatasetError(f"{message}; drop the --type {column}={self.kinds[column]} override or fix the value.")
            return DatasetError(f"{message}.")
        return super().error_for(error)

    def column_names(self) -> list[str]:
        """The header's names (no read needed)."""
        return list(self.dialect.column_names)

    def row_bytes(self) -> float | None:
        """From the sniffed sample, no read: a row's text plus 8 bytes per column (a number's
        width, or a string's offset and slack) bounds its Arrow size."""
        if not self.dialect.line_bytes:
            return None
        return self.dialect.line_bytes + 8 * len(self.dialect.column_names)

    def widen_for(self, error: pa.ArrowInvalid) -> bool:
        """Widen the column a CSV conversion error names; False if it names none."""
        match = _CONVERSION_RE.search(str(error))
        if not match:
            return False
        column = self.dialect.column_names[int(match.group(1))]
        current = self.overrides.get(column)
        wider = pa.float64() if match.group(2).startswith("int") and current is None else pa.string()
        if current == pa.string():
            return False
        self.overrides[column] = wider
        return True


def csv_stream(
    path: Path, dialect: CsvDialect, overrides: dict[str, pa.DataType], batch_size: int
) -> pa.RecordBatchReader:
    est_row = max(32, SAMPLE_BYTES // 2000)
    block = int(min(max(est_row * batch_size, 1 << 20), 64 << 20))
    read_options = pacsv.ReadOptions(
        encoding=dialect.encoding,
        column_names=list(dialect.column_names),
        skip_rows=1,
        block_size=block,
        use_threads=True,
    )
    parse_options = pacsv.ParseOptions(delimiter=dialect.delimiter, newlines_in_values=True)
    convert_options = pacsv.ConvertOptions(
        column_types=dict(overrides), strings_can_be_null=True, quoted_strings_can_be_null=True
    )
    stream = open_binary(path)
    try:
        source = pacsv.open_csv(stream, read_options, parse_options, convert_options)
    except pa.ArrowInvalid as exc:
        stream.release()
        raise DatasetError(f"{path.name}: {csv_message(exc)}") from None
    except BaseException:
        stream.release()
        raise
    schema = null_as_string(source.schema)

    def batches() -> Iterator[pa.RecordBatch]:
        complete = False
        try:
            for batch in rebatch(_checked(source, path), batch_size):
                yield batch.cast(schema) if batch.schema != schema else batch
            complete = True
        finally:
            wind_down(source, stream, complete)

    return pa.RecordBatchReader.from_batches(schema, batches())


def _checked(source: pacsv.CSVStreamingReader, path: Path) -> Iterator[pa.RecordBatch]:
    """``source``'s batches; a parse error as one DatasetError (conversion errors pass,
    for widening)."""
    while True:
        try:
            batch = source.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowInvalid as exc:
            if _CONVERSION_RE.search(str(exc)):
                raise
            raise DatasetError(f"{path.name}: {csv_message(exc)}") from None
        yield batch


def csv_message(exc: Exception) -> str:
    text = str(exc).strip()
    if "Expected" in text and "columns" in text:
        return f"ragged rows are not supported: {text}. Fix the file so every row has as many fields as the header."
    if "Empty CSV file" in text:
        return "the file is empty."
    return text
