"""Streaming readers: every supported file becomes a stream of Arrow record batches.

CSV/TSV (delimiter and encoding detected, gzip/zip), Parquet, JSON Lines and JSON arrays.
A :class:`SourceReader` can be reopened with some columns forced to wider types, which
the registration pipeline does when a value late in a CSV file does not fit the type
inferred from its first block.

Bad input becomes one :class:`DatasetError` naming the file, never a crash: a truncated
or corrupt gzip/zip/Parquet file, an unreadable file, JSON that is not objects (pyarrow's
JSON reader crashes the process on some such input, e.g. a line holding ``null``, so JSON
is checked before and while pyarrow reads it), a value that contradicts ``--type``.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import re
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from mdm_core.errors import DatasetError
from mdm_core.storage import rebatch

SAMPLE_BYTES = 256 * 1024
_CONVERSION_RE = re.compile(r"In CSV column #(\d+): .*CSV conversion error to (\w+)")
_CONVERSION_DETAIL_RE = re.compile(
    r"In CSV column #(\d+): (?:Row #(\d+): )?CSV conversion error to (\w+): invalid value '(.*)'", re.DOTALL
)
#: Deepest nesting of objects/arrays accepted in JSON (values deeper than this crash or
#: exhaust pyarrow's and Python's JSON code; MDM stores nested values as JSON text).
MAX_JSON_DEPTH = 64


@attrs.frozen
class CsvDialect:
    encoding: str
    delimiter: str
    column_names: tuple[str, ...]


@attrs.define
class SourceReader:
    """Opens one source file as batches of ``batch_size`` rows.

    ``overrides`` maps column names to Arrow types forced on CSV reads; ``open()`` may be
    called again after changing them. ``kinds`` maps column names to the kinds the user
    forced (``--type col=kind``): a ``numeric`` column must hold numbers, checked on every
    batch (DatasetError naming the file, column, value and row otherwise).
    """

    path: Path
    batch_size: int
    overrides: dict[str, pa.DataType] = attrs.Factory(dict)
    dialect: CsvDialect | None = None
    kind: str = ""
    kinds: dict[str, str] = attrs.Factory(dict)

    def __attrs_post_init__(self) -> None:
        self.kind = detect_format(self.path)
        if self.kind == "csv":
            self.dialect = sniff_csv(self.path)

    def open(self) -> pa.RecordBatchReader:
        """A fresh stream over the whole file with normalised, unique column names."""
        if self.kind == "parquet":
            stream = _parquet_reader(self.path, self.batch_size)
        elif self.kind == "jsonl":
            stream = _jsonl_reader(self.path, self.batch_size)
        elif self.kind == "json":
            stream = _json_array_reader(self.path, self.batch_size)
        else:
            stream = _csv_reader(self.path, self.dialect, self.overrides, self.batch_size)
        numeric = [
            name for name, kind in self.kinds.items()
            if kind == "numeric" and name in stream.schema.names
            and (pa.types.is_string(stream.schema.field(name).type) or pa.types.is_large_string(stream.schema.field(name).type))
        ]
        if not numeric:
            return stream
        return pa.RecordBatchReader.from_batches(stream.schema, _checked_numeric(stream, numeric, self.path))

    def error_for(self, error: pa.ArrowInvalid) -> DatasetError:
        """One sentence for a read error that widening could not fix: the file, and for a
        CSV conversion error the column, row and value (and the ``--type`` to drop)."""
        text = str(error).strip()
        match = _CONVERSION_DETAIL_RE.search(text)
        if match and self.dialect is not None and int(match.group(1)) < len(self.dialect.column_names):
            column = self.dialect.column_names[int(match.group(1))]
            row = f" (row {int(match.group(2))})" if match.group(2) else ""
            message = f"{self.path.name}: column '{column}' holds {_shown(match.group(4))}{row}, which cannot be read as {match.group(3)}"
            if column in self.kinds:
                return DatasetError(f"{message}; drop the --type {column}={self.kinds[column]} override or fix the value.")
            return DatasetError(f"{message}.")
        first = text.splitlines()[0] if text else type(error).__name__
        return DatasetError(f"{self.path.name}: {_cut(first)}")

    def column_names(self) -> list[str]:
        """The column names the stream will have (cheap for CSV and Parquet)."""
        if self.dialect is not None:
            return list(self.dialect.column_names)
        if self.kind == "jsonl":
            return _jsonl_column_names(self.path)
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


class _SourceStream(io.BufferedIOBase):
    """A read-only binary stream handed to pyarrow's CSV/JSON readers.

    pyarrow reads ahead on its own I/O threads, which call :meth:`read` from C++. When a
    read fails, a read-ahead may still be running; if the interpreter exits while it
    calls into Python, the process aborts ("terminate called without an active
    exception", pyarrow 26). :meth:`release` therefore makes further reads return EOF,
    waits until no read is in flight, then closes. Every failure path calls it.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw
        self._lock = threading.Lock()
        self._in_flight = 0
        self._last_read = time.monotonic()
        self._stopped = False

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        with self._lock:
            if self._stopped:
                return b""
            self._in_flight += 1
        try:
            return self._read(-1 if size is None else size)
        finally:
            with self._lock:
                self._in_flight -= 1
                self._last_read = time.monotonic()

    def _read(self, size: int) -> bytes:
        return self._raw.read(size)

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def stop(self) -> None:
        """Serve no more data: every further read returns EOF."""
        with self._lock:
            self._stopped = True

    def release(self, quiet: float = 0.02, timeout: float = 2.0) -> None:
        """Stop serving data, let pyarrow's read-ahead finish, close."""
        self.stop()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._in_flight == 0 and time.monotonic() - self._last_read >= quiet:
                    break
            time.sleep(0.002)
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        try:
            self._raw.close()
        finally:
            super().close()


class _CheckedStream(_SourceStream):
    """A binary stream whose read errors (truncated or corrupt compressed data, I/O
    errors) become one DatasetError naming the file."""

    def __init__(self, raw: IO[bytes], path: Path, container: str) -> None:
        super().__init__(raw)
        self._path = path
        self._container = container

    def _read(self, size: int) -> bytes:
        try:
            return self._raw.read(size)
        except DatasetError:
            raise
        except EOFError:
            raise DatasetError(
                f"{self._path.name} is truncated: its {self._container} data ends early; "
                "the file is incomplete or corrupt (copy or compress it again)."
            ) from None
        except (zlib.error, gzip.BadGzipFile, zipfile.BadZipFile) as exc:
            raise DatasetError(
                f"{self._path.name} is corrupt: its {self._container} data cannot be decompressed ({_cut(str(exc))})."
            ) from None
        except OSError as exc:
            raise DatasetError(f"{self._path.name} cannot be read: {_os_reason(exc)}.") from None


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied (check the file's permissions)"
    if isinstance(exc, IsADirectoryError):
        return "it is a folder, not a file"
    return (exc.strerror or str(exc)).rstrip(".").lower() if exc.strerror else _cut(str(exc))


def _open_file(path: Path) -> IO[bytes]:
    """``path`` opened for reading; OSError (permission, folder...) as a DatasetError."""
    try:
        return path.open("rb")
    except OSError as exc:
        raise DatasetError(f"{path.name} cannot be read: {_os_reason(exc)}.") from None


def _open_binary(path: Path) -> IO[bytes]:
    """Open a file for reading, transparently decompressing gzip and single-member zip."""
    with _open_file(path) as probe:
        magic = probe.read(4)
    if magic[:2] == b"\x1f\x8b":
        return _CheckedStream(gzip.open(path, "rb"), path, "gzip")
    if magic == b"PK\x03\x04":
        try:
            archive = zipfile.ZipFile(path)
            members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX")]
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise DatasetError(
                f"{path.name} is not a readable zip archive: it is truncated or corrupt ({_cut(str(exc))})."
            ) from None
        if len(members) != 1:
            raise DatasetError(f"{path.name}: a zip archive must hold exactly one data file, it holds {len(members)}.")
        try:
            member = archive.open(members[0])
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
            raise DatasetError(
                f"{path.name} is not a readable zip archive: it is truncated or corrupt ({_cut(str(exc))})."
            ) from None
        return _CheckedStream(member, path, "zip")
    return _CheckedStream(_open_file(path), path, "file")


def detect_format(path: Path) -> str:
    """``csv``, ``parquet``, ``json`` or ``jsonl`` from the name, then the content.

    JSON content is checked here: it must start with ``[`` (an array of objects) or ``{``
    (JSON Lines of objects); anything else is a DatasetError naming what was found.
    """
    name = path.name.lower()
    with _open_file(path) as probe:
        magic = probe.read(4)
    if magic == b"PAR1" or name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".xlsx", ".xlsm", ".xls", ".ods")):
        raise DatasetError(f"{path.name} is a spreadsheet; export it as CSV (or Parquet) and register that file.")
    for suffix in (".gz", ".zip"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    if name.endswith((".jsonl", ".ndjson", ".json")):
        lines = not name.endswith(".json")
        with _open_binary(path) as handle:
            head = handle.read(4096)
        start = _json_start(head)
        if start is None:
            raise DatasetError(f"{path.name} is empty.")
        if start == b"{":
            return "jsonl"
        if start == b"[" and not lines:
            return "json"
        expected = "JSON Lines of objects (one object per line)" if lines else "a JSON array of objects or JSON Lines of objects"
        found = _json_found(head.removeprefix(codecs.BOM_UTF8).lstrip(_JSON_SPACE))
        raise DatasetError(f"{path.name}: expected {expected}, found {found}.")
    return "csv"


_JSON_SPACE = b" \t\r\n"


def _json_start(head: bytes) -> bytes | None:
    """The first significant byte of JSON text (after a BOM and whitespace), None if none."""
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8):]
    head = head.lstrip(_JSON_SPACE)
    return head[:1] or None


def _json_found(text: bytes) -> str:
    """What a JSON value starting with ``text`` is, in words (for error messages)."""
    for literal, words in ((b"null", "null"), (b"true", "true"), (b"false", "false")):
        if text.startswith(literal):
            return words
    first = text[:1]
    if first == b'"':
        return "a string"
    if first == b"[":
        return "an array"
    if first == b"{":
        return "an object"
    if first and (first.isdigit() or first == b"-"):
        return "a number"
    return "text that is not JSON"


def _cut(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _first_sentence(exc: Exception) -> str:
    text = _cut(str(exc)) or type(exc).__name__
    end = text.find(". ")
    return (text[:end] if end > 0 else text).rstrip(".")


def _shown(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[: limit - 3] + "...")


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
        stream.release()
        raise DatasetError(f"{path.name}: {_csv_message(exc)}") from None
    except BaseException:
        stream.release()
        raise
    schema = _null_as_string(source.schema)

    def batches() -> Iterator[pa.RecordBatch]:
        complete = False
        try:
            for batch in rebatch(_checked(source, path), batch_size):
                yield batch.cast(schema) if batch.schema != schema else batch
            complete = True
        finally:
            _wind_down(source, stream, complete)

    return pa.RecordBatchReader.from_batches(schema, batches())


def _wind_down(source: Any, stream: _SourceStream, complete: bool) -> None:
    """After pyarrow's streaming reader stopped early (an error, or the consumer gave up):
    stop feeding it, let it finish the blocks it already read ahead (bounded: no new data
    arrives), then release the stream. A reader dropped with work still running on its
    threads can abort the process at exit."""
    if not complete:
        stream.stop()
        for _ in range(256):
            try:
                source.read_next_batch()
            except StopIteration:
                break
            except Exception:  # noqa: BLE001 - the first error was already reported
                break
    stream.release()


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
        schema = parquet.schema_arrow
    except PermissionError as exc:
        raise DatasetError(f"{path.name} cannot be read: {_os_reason(exc)}.") from None
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DatasetError(
            f"{path.name} is not a readable Parquet file: it is truncated, corrupt or not Parquet ({_first_sentence(exc)})."
        ) from None
    names = unique_names(schema.names)
    target = _flatten_schema(pa.schema([f.with_name(n) for f, n in zip(schema, names, strict=True)]))
    _require_columns(path, target)

    def batches() -> Iterator[pa.RecordBatch]:
        pieces = parquet.iter_batches(batch_size=batch_size)
        while True:
            try:
                batch = next(pieces)
            except StopIteration:
                return
            except (pa.ArrowException, OSError, ValueError) as exc:
                raise DatasetError(f"{path.name} is a corrupt Parquet file: {_first_sentence(exc)}.") from None
            yield _flatten_nested(batch.rename_columns(names), target, path)

    return pa.RecordBatchReader.from_batches(target, batches())


def _require_columns(path: Path, schema: pa.Schema) -> None:
    if len(schema) == 0:
        raise DatasetError(f"{path.name} has no columns; there is nothing to register.")


class _JsonLinesGuard(_SourceStream):
    """Feeds JSON Lines to pyarrow, checking each line on the way: a line that does not
    start with ``{`` (``null``, a number, a string, an array: pyarrow crashes the process
    on some of them) or that nests too deeply stops the stream, and :attr:`problem` says
    which line and what it holds. Costs one regex scan per block read."""

    _BAD_LINE = re.compile(rb"\n[ \t\r\n]*([^{ \t\r\n])")
    #: More than MAX_JSON_DEPTH openers in a row once everything but brackets is dropped.
    _DEEP = re.compile(rb"[\[{]{%d}" % (MAX_JSON_DEPTH + 1))
    _NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")

    def __init__(self, raw: IO[bytes], path: Path) -> None:
        super().__init__(raw)
        self._path = path
        self._line = 1  # line number at the start of the next chunk
        self._at_line_start = True  # only whitespace seen since the last newline
        self._start = True  # nothing read yet (a BOM may come first)
        self.problem: str | None = None

    def _read(self, size: int) -> bytes:
        if self.problem is not None:
            return b""
        chunk = self._raw.read(size)
        if not chunk:
            return chunk
        bad = self._first_bad(chunk)
        self._start = False
        deep = self._too_deep(chunk)
        if bad is not None or deep is not None:
            if bad is not None and (deep is None or bad[0] <= deep):
                offset, found = bad
                what = f"holds {found}; expected JSON Lines of objects (one object per line)"
            else:
                offset = deep
                what = f"nests objects or arrays more than {MAX_JSON_DEPTH} levels deep, which MDM does not read"
            line = self._line + chunk.count(b"\n", 0, offset)
            self.problem = f"{self._path.name}: line {line} {what}."
            return b""
        self._line += chunk.count(b"\n")
        tail = chunk[chunk.rfind(b"\n") + 1:] if b"\n" in chunk else (chunk if self._at_line_start else b"x")
        self._at_line_start = not tail.strip(_JSON_SPACE)
        return chunk

    def _too_deep(self, chunk: bytes) -> int | None:
        """Offset of the first line nesting too deeply (brackets inside strings count too:
        a string of 65 opening brackets is refused as well)."""
        if not self._DEEP.search(chunk.translate(None, self._NOT_BRACKETS)):
            return None
        offset = 0
        for line in chunk.split(b"\n"):
            if self._DEEP.search(line.translate(None, self._NOT_BRACKETS)):
                return offset
            offset += len(line) + 1
        return 0

    def _first_bad(self, chunk: bytes) -> tuple[int, str] | None:
        """Offset and description of the first line not starting with ``{``."""
        if self._at_line_start:
            body = chunk.removeprefix(codecs.BOM_UTF8) if self._start else chunk
            stripped = body.lstrip(_JSON_SPACE)
            if stripped and stripped[:1] != b"{":
                offset = len(chunk) - len(stripped)
                return offset, _json_found(stripped[:8])
        match = self._BAD_LINE.search(chunk)
        if match is None:
            return None
        return match.start(1), _json_found(chunk[match.start(1): match.start(1) + 8])


def _jsonl_reader(path: Path, batch_size: int) -> pa.RecordBatchReader:
    guard = _JsonLinesGuard(_open_binary(path), path)

    def failed(exc: Exception) -> DatasetError:
        if guard.problem is not None:
            return DatasetError(guard.problem)
        return DatasetError(f"{path.name} is not valid JSON Lines: {_json_error(exc)}")

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
    target = _null_as_string(_flatten_schema(pa.schema([f.with_name(n) for f, n in zip(raw_schema, names, strict=True)])))
    try:
        _require_columns(path, target)
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
                batch = _flatten_nested(batch.rename_columns(names), target, path)
                for piece in rebatch([batch], batch_size):
                    yield piece.cast(target) if piece.schema != target else piece
            if guard.problem is not None:
                raise DatasetError(guard.problem)
            complete = True
        finally:
            _wind_down(source, guard, complete)

    return pa.RecordBatchReader.from_batches(target, batches())


def _jsonl_column_names(path: Path) -> list[str]:
    """The column names of a JSON Lines file (pyarrow infers them from the first block);
    the reader is wound down at once."""
    guard = _JsonLinesGuard(_open_binary(path), path)
    try:
        source = pajson.open_json(guard, read_options=pajson.ReadOptions(block_size=8 << 20))
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        guard.release()
        if guard.problem is not None:
            raise DatasetError(guard.problem) from None
        raise DatasetError(f"{path.name} is not valid JSON Lines: {_json_error(exc)}") from None
    except BaseException:
        guard.release()
        raise
    names = unique_names(source.schema.names)
    _wind_down(source, guard, complete=False)
    if guard.problem is not None:
        raise DatasetError(guard.problem)
    return names


def _json_error(exc: Exception) -> str:
    text = str(exc).strip()
    text = text.removeprefix("JSON parse error: ")
    if "Empty JSON stream" in text:
        return "the file holds no JSON objects."
    match = re.search(r"Column\((.*?)\) changed from (\w+) to (\w+)", text)
    if match:
        column = match.group(1).lstrip("/") or "(row)"
        return f"values of '{column}' change from {match.group(2)} to {match.group(3)}; every line must be an object and each key must keep one type."
    return _cut(text)


def _json_array_reader(path: Path, batch_size: int) -> pa.RecordBatchReader:
    """A top-level JSON array of objects (loaded whole: JSON arrays cannot be streamed;
    use JSON Lines for large files)."""
    try:
        with _open_binary(path) as handle:
            records = json.load(io.TextIOWrapper(handle, encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path.name} is not valid JSON: {_cut(str(exc))}") from None
    except RecursionError:
        raise DatasetError(f"{path.name} nests objects or arrays too deeply for MDM to read.") from None
    if not isinstance(records, list):
        raise DatasetError(f"{path.name}: expected a JSON array of objects (one object per row).")
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            found = _json_found(json.dumps(record)[:8].encode())
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
        table = pa.Table.from_pylist(records)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DatasetError(f"{path.name}: {_mixed_key(records) or 'values of one key have mixed types'} ({_cut(str(exc), 80)}).") from None
    except RecursionError:
        raise DatasetError(f"{path.name} nests objects or arrays too deeply for MDM to read.") from None
    names = unique_names(table.column_names)
    table = table.rename_columns(names)
    target = _null_as_string(_flatten_schema(table.schema))
    _require_columns(path, target)
    batches = [_flatten_nested(b, target, path).cast(target) for b in table.to_batches(max_chunksize=batch_size)]
    return pa.RecordBatchReader.from_batches(target, iter(batches))


def _mixed_key(records: list[dict]) -> str | None:
    """``key 'k' mixes <type> and <type>`` for the first key whose values Arrow cannot
    hold in one column."""
    keys = dict.fromkeys(k for r in records for k in r)
    for key in keys:
        values = [r.get(key) for r in records]
        try:
            pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            kinds = dict.fromkeys(_json_type(v) for v in values if v is not None)
            return f"key '{key}' mixes {' and '.join(list(kinds)[:3])} values"
    return None


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else "array" if isinstance(value, list) else type(value).__name__


def _checked_numeric(stream: pa.RecordBatchReader, columns: list[str], path: Path) -> Iterator[pa.RecordBatch]:
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
                    raise _not_numeric(path, name, column, seen, exc) from None
            seen += batch.num_rows
            yield batch
    finally:
        stream.close()  # winds the file reader down now, not at garbage collection


def _not_numeric(path: Path, name: str, column: pa.Array, seen: int, exc: Exception) -> DatasetError:
    index = _first_unparsable(column)
    if index is None:
        holds = f"holds values that are not numbers ({_cut(str(exc), 80)})"
    else:
        holds = f"holds {_shown(column[index].as_py())} (row {seen + index + 1}), which is not a number"
    return DatasetError(f"{path.name}: column '{name}' {holds}; drop the --type {name}=numeric override or fix the value.")


def _first_unparsable(column: pa.Array) -> int | None:
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


def _flatten_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema(
        [pa.field(f.name, pa.string()) if pa.types.is_nested(f.type) else f for f in schema]
    )


def _flatten_nested(batch: pa.RecordBatch, target: pa.Schema, path: Path | None = None) -> pa.RecordBatch:
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
