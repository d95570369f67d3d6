"""Which bundled format a file is: the claims the formats make, and the checks that
settle what a claimed file holds.

The claims reproduce MDM's detection order: a file starting with Parquet's magic bytes
(or named ``.parquet``/``.pq``) is Parquet; one named ``.json``, ``.jsonl`` or
``.ndjson`` (optionally ``.gz``/``.zip``) is JSON; anything else is tried as CSV, which
refuses spreadsheets with a sentence saying to export them. Claims never raise; a file
that cannot be opened is judged by its name and its reader reports why.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from mdm_core.errors import DatasetError
from mdm_plugin_files.json_text import JSON_SPACE, json_found, json_start
from mdm_plugin_files.streams import open_binary, open_file

#: How sure a claim is (see ``mdm_core.sources.SourceFormat``).
BY_CONTENT, BY_NAME, FALLBACK = 1.0, 0.5, 0.1

PARQUET_SUFFIXES = (".parquet", ".pq")
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")


def data_name(path: Path) -> str:
    """The lower-case file name without a ``.gz`` and then a ``.zip`` suffix."""
    name = path.name.lower()
    for suffix in (".gz", ".zip"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def _magic(path: Path) -> bytes:
    try:
        with path.open("rb") as probe:
            return probe.read(4)
    except OSError:
        return b""


def claim_parquet(path: Path) -> float:
    if _magic(path) == b"PAR1":
        return BY_CONTENT
    return BY_NAME if path.name.lower().endswith(PARQUET_SUFFIXES) else 0.0


def claim_json(path: Path) -> float:
    return BY_NAME if data_name(path).endswith(JSON_SUFFIXES) else 0.0


def claim_csv(path: Path) -> float:
    return BY_NAME if data_name(path).endswith(TEXT_SUFFIXES) else FALLBACK


def check_readable(path: Path) -> None:
    """DatasetError naming the file when it cannot be opened (permissions, ...)."""
    open_file(path).close()


def refuse_spreadsheet(path: Path) -> None:
    if path.name.lower().endswith(SPREADSHEET_SUFFIXES):
        raise DatasetError(f"{path.name} is a spreadsheet; export it as CSV (or Parquet) and register that file.")


def json_layout(path: Path) -> str:
    """``json`` (an array of objects) or ``jsonl`` (JSON Lines of objects), from the
    first significant byte: ``[`` or ``{`` (``.jsonl``/``.ndjson`` only ``{``); anything
    else is a DatasetError naming what was found."""
    lines = not data_name(path).endswith(".json")
    with open_binary(path) as handle:
        head = handle.read(4096)
    start = json_start(head)
    if start is None:
        raise DatasetError(f"{path.name} is empty.")
    if start == b"{":
        return "jsonl"
    if start == b"[" and not lines:
        return "json"
    expected = "JSON Lines of objects (one object per line)" if lines else "a JSON array of objects or JSON Lines of objects"
    found = json_found(head.removeprefix(codecs.BOM_UTF8).lstrip(JSON_SPACE))
    raise DatasetError(f"{path.name}: expected {expected}, found {found}.")
