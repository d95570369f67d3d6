"""How a CSV/TSV file is written: encoding, delimiter and header, sniffed from its first
bytes (after gzip/zip decompression)."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import attrs

from mdm_core.errors import DatasetError
from mdm_plugin_files.columns import unique_names
from mdm_plugin_files.streams import open_binary

SAMPLE_BYTES = 256 * 1024


@attrs.frozen
class CsvDialect:
    encoding: str
    delimiter: str
    column_names: tuple[str, ...]
    #: Mean UTF-8 bytes of a data line in the sniffed sample (0.0: the sample has none).
    line_bytes: float = 0.0


def sniff_csv(path: Path) -> CsvDialect:
    """Detect encoding, delimiter and header names from the first bytes of the file."""
    with open_binary(path) as handle:
        raw = handle.read(SAMPLE_BYTES)
        complete = len(handle.read(1)) == 0
    if not raw.strip():
        raise DatasetError(f"{path.name} is empty.")
    if b"\x00" in raw[:8192]:
        raise DatasetError(f"{path.name} is not a text file (it contains binary data); expected CSV, Parquet or JSON.")
    encoding, text = decode_sample(raw, complete)
    if looks_binary(text):
        raise DatasetError(f"{path.name} is not a text file (it contains binary data); expected CSV, Parquet or JSON.")
    lines = text.splitlines()
    if not complete and len(lines) > 1:
        text = "\n".join(lines[:-1])  # drop the possibly cut last line
    delimiter = sniff_delimiter(path, text)
    header = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    if not header:
        raise DatasetError(f"{path.name} has no header row.")
    data_lines = text.splitlines()[1:]
    line_bytes = sum(len(line.encode("utf-8")) + 1 for line in data_lines) / len(data_lines) if data_lines else 0.0
    return CsvDialect(encoding, delimiter, tuple(unique_names(header)), line_bytes)


def decode_sample(raw: bytes, complete: bool) -> tuple[str, str]:
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


def looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t\f")
    return controls > max(4, len(sample) // 100)


def sniff_delimiter(path: Path, text: str) -> str:
    """Tab for ``.tsv`` files, else the delimiter among ``, ; TAB |`` the sample uses."""
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
