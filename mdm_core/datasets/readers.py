"""Streaming readers: every supported file becomes a stream of Arrow record batches.

CSV/TSV (delimiter and encoding detected, gzip/zip), Parquet, JSON Lines and JSON arrays.
A :class:`SourceReader` can be reopened with some columns forced to wider types, which
the registration pipeline does when a value late in a CSV file does not fit the type
inferred from its first block.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import attrs
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from mdm_core.errors import DatasetError
from mdm_core.storage import rebatch

SAMPLE_BYTES = 256 * 1024
_CONVERSION_RE = re.compile(r"In CSV column #(\d+): .*CSV conversion error to (\w+)")


@attrs.frozen
class CsvDialect:
    encoding: str
    delimiter: str
    column_names: tuple[str, ...]


@attrs.define
class SourceReader:
    """Opens one source file as batches of ``batch_size`` rows.

    ``overrides`` maps column names to Arrow types forced on CSV reads; ``open()`` may be
    called again after changing them.
    """

    path: Path
    batch_size: int
    overrides: dict[str, pa.DataType] = attrs.Factory(dict)
    dialect: CsvDialect | None = None
    kind: str = ""

    def __attrs_post_init__(self) -> None:
        self.kind = detect_format(self.path)
        if self.kind == "csv":
            self.dialect = sniff_csv(self.path)

    def open(self) -> pa.RecordBatchReader:
        """A fresh stream over the whole file with normalised, unique column names."""
        if self.kind == "parquet":
            return _parquet_reader(self.path, self.batch_size)
        if self.kind == "jsonl":
            return _jsonl_reader(self.path, self.batch_size)
        if self.kind == "json":
            return _json_array_reader(self.path, self.batch_size)
        return _csv_reader(self.path, self.dialect, self.overrides, self.batch_size)

    def column_names(self) -> list[str]:
        """The column names the stream will have (cheap for CSV and Parquet)."""
        if self.dialect is not None:
            return list(self.dialect.column_names)
        stream = self.open()
        try:
            return stream.schema.names
        finally:
            stream.close()

    def widen_for(self, error: pa.ArrowInvalid) -> bool:
        """Widen the column a CSV conversion error names; False if it names none."""
        match = _CONVERSION_RE.search(str(error))
        if self.kind != "csv" or not match or self.dialect is None:
            return False
        column = self.dialect.column_names[int(match.group(1))]
        current = self.overrides.get(column)
        wider = pa.float64() if match.group(2).startswith("int") and current is None else pa.string()
        if current == pa.string():
            return False
        self.overrides[column] = wider
        return True


def _open_binary(path: Path) -> IO[bytes]:
    """Open a file for reading, transparently decompressing gzip and single-member zip."""
    with path.open("rb") as probe:
        magic = probe.read(4)
    if magic[:2] == b"\x1f\x8b":
        return gzip.open(path, "rb")
    if magic == b"PK\x03\x04":
        archive = zipfile.ZipFile(path)
        members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX")]
        if len(members) != 1:
            raise DatasetError(f"{path.name}: a zip archive must hold exactly one data file, it holds {len(members)}.")
        return archive.open(members[0])
    return path.open("rb")


def detect_format(path: Path) -> str:
    """``csv``, ``parquet``, ``json`` or ``jsonl`` from the name, then the content."""
    name = path.name.lower()
    with path.open("rb") as probe:
        magic = probe.read(4)
    if magic == b"PAR1" or name.endswith((".parquet", ".pq")):
        return "parquet"
    for suffix in (".gz", ".zip"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith(".json"):
        with _open_binary(path) as handle:
            head = handle.read(SAMPLE_BYTES).lstrip()
        return "json" if head.startswith(b"[") else "jsonl"
    return "csv"


def _decode_sample(raw: bytes, complete: bool) -> tuple[str, str]:
    """Pick the encoding: UTF-8 (with or without BOM), else cp1252, else latin-1."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8", raw[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace")
    try:
        decoder = codecs.getincrementaldecoder("utf-8")()
        return "utf-8", decoder.decode(raw, final=complete)
    except UnicodeDecodeError:
        pass
    try:
        return "cp1252", raw.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1", raw.decode("latin-1")


def sniff_csv(path: Path) -> CsvDialect:
    """Detect encoding, delimiter and header names from the first bytes of the file."""
    with _open_binary(path) as handle:
        raw = handle.read(SAMPLE_BYTES)
        complete = len(handle.read(1)) == 0
    if not raw.strip():
        raise DatasetError(f"{path.name} is empty.")
    if b"\x00" in raw[:8192]:
        raise DatasetError(f"{path.name} is not a text file (it contains binary data); expected CSV, Parquet or JSON.")
    encoding, text = _decode_sample(raw, complete)
    if _looks_binary(text):
        raise DatasetError(f"{path.name} is not a text file (it contains binary data); expected CSV, Parquet or JSON.")
    lines = text.splitlines()
    if not complete and len(lines) > 1:
        text = "\n".join(lines[:-1])  # drop the possibly cut last line
    delimiter = _sniff_delimiter(path, text)
    header = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    if not header:
        raise DatasetError(f"{path.name} has no header row.")
    return CsvDialect(encoding, delimiter, tuple(unique_names(header)))


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t\f")
    return controls > max(4, len(sample) // 100)


def _sniff_delimiter(path: Path, text: str) -> str:
    name = path.name.lower()
    if ".tsv" in name:
        return "\t"
    try:
        return csv.Sniffer().sniff(text[:65536], delimiters=",;\t|").delimiter
    except csv.Error:
        first = text.splitlines()[0] if text else ""
        counts = {d: first.count(d) for d in ",;\t|"}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


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


def _csv_reader(
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
    stream = _open_binary(path)
    try:
        source = pacsv.open_csv(stream, read_options, parse_options, convert_options)
    except pa.ArrowInvalid as exc:
        stream.close()
        raise DatasetError(f"{path.name}: {_csv_message(exc)}") from None
    except StopIteration:
        stream.close()
        raise
    schema = _null_as_string(source.schema)

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for batch in rebatch(_checked(source, path), batch_size):
                yield batch.cast(schema) if batch.schema != schema else batch
        finally:
            stream.close()

    return pa.RecordBatchReader.from_batches(schema, batches())


def _null_as_string(schema: pa.Schema) -> pa.Schema:
    """Columns with no values in the inference block are text, not Arrow's null type."""
    return pa.schema([pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in schema])


def _checked(source: pacsv.CSVStreamingReader, path: Path) -> Iterator[pa.RecordBatch]:
    while True:
        try:
            batch = source.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowInvalid as exc:
            if _CONVERSION_RE.search(str(exc)):
                raise
            raise DatasetError(f"{path.name}: {_csv_message(exc)}") from None
        yield batch


def _csv_message(exc: Exception) -> str:
    text = str(exc).strip()
    if "Expected" in text and "columns" in text:
        return f"ragged rows are not supported: {text}. Fix the file so every row has as many fields as the header."
    if "Empty CSV file" in text:
        return "the file is empty."
    return text


def _parquet_reader(path: Path, batch_size: int) -> pa.RecordBatchReader:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DatasetError(f"{path.name} is not a readable Parquet file: {exc}") from None
    schema = parquet.schema_arrow
    names = unique_names(schema.names)
    target = _flatten_schema(pa.schema([f.with_name(n) for f, n in zip(schema, names, strict=True)]))

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in parquet.iter_batches(batch_size=batch_size):
            yield _flatten_nested(batch.rename_columns(names), target)

    return pa.RecordBatchReader.from_batches(target, batches())


def _jsonl_reader(path: Path, batch_size: int) -> pa.RecordBatchReader:
    try:
        stream = _open_binary(path)
        source = pajson.open_json(stream, read_options=pajson.ReadOptions(block_size=8 << 20))
    except pa.ArrowInvalid as exc:
        raise DatasetError(f"{path.name} is not valid JSON Lines: {exc}") from None
    raw_schema = source.schema
    names = unique_names(raw_schema.names)
    target = _null_as_string(_flatten_schema(pa.schema([f.with_name(n) for f, n in zip(raw_schema, names, strict=True)])))

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            while True:
                try:
                    batch = source.read_next_batch()
                except StopIteration:
                    return
                except pa.ArrowInvalid as exc:
                    raise DatasetError(f"{path.name}: {exc}") from None
                batch = _flatten_nested(batch.rename_columns(names), target)
                for piece in rebatch([batch], batch_size):
                    yield piece.cast(target) if piece.schema != target else piece
        finally:
            stream.close()

    return pa.RecordBatchReader.from_batches(target, batches())


def _json_array_reader(path: Path, batch_size: int) -> pa.RecordBatchReader:
    """A top-level JSON array of objects (loaded whole: JSON arrays cannot be streamed;
    use JSON Lines for large files)."""
    try:
        with _open_binary(path) as handle:
            records = json.load(io.TextIOWrapper(handle, encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path.name} is not valid JSON: {exc}") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise DatasetError(f"{path.name}: expected a JSON array of objects (one object per row).")
    try:
        table = pa.Table.from_pylist(records)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DatasetError(f"{path.name}: values of one key have mixed types ({exc}).") from None
    names = unique_names(table.column_names)
    table = table.rename_columns(names)
    target = _null_as_string(_flatten_schema(table.schema))
    batches = [_flatten_nested(b, target).cast(target) for b in table.to_batches(max_chunksize=batch_size)]
    return pa.RecordBatchReader.from_batches(target, iter(batches))


def _flatten_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema(
        [pa.field(f.name, pa.string()) if pa.types.is_nested(f.type) else f for f in schema]
    )


def _flatten_nested(batch: pa.RecordBatch, target: pa.Schema) -> pa.RecordBatch:
    """Nested values (lists, objects) become JSON text; other columns are untouched."""
    arrays = []
    for column, field in zip(batch.columns, batch.schema, strict=True):
        if pa.types.is_nested(field.type):
            column = pa.array(
                [None if v is None else json.dumps(v, ensure_ascii=False, default=str) for v in column.to_pylist()],
                pa.string(),
            )
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, names=target.names)
