"""The manifest of a backup archive (``manifest.json``, the archive's last member) and
the names of the other members.

An archive written by ``mdm backup`` holds, in this order::

    datasets/<name>/dataset.yaml              the dataset's metadata, as the catalog serves it
    datasets/<name>/tables/<table>.parquet    each table, as Parquet (engine-independent)
    ...                                       (the next dataset)
    manifest.json                             written last: an archive without it is incomplete

The manifest records, per dataset, the backend it came from and, per table, its kind, row
count, column schema (Arrow types), content checksum (:mod:`mdm_core.checksum`, equal on
every engine) and the size and SHA-256 of its member, so a restore can refuse a damaged
member before reading it and verify the restored table against the original.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import cattrs

from mdm_core.errors import DatasetError

if TYPE_CHECKING:
    import pyarrow as pa

FORMAT = "mdm-backup"
#: Parquet codecs of the table members (``mdm backup --compress``).
CODECS = ("zstd", "gzip", "none")
FORMAT_VERSION = 1
MANIFEST_MEMBER = "manifest.json"
METADATA_MEMBER = "dataset.yaml"

_converter = cattrs.Converter(forbid_extra_keys=False)


@attrs.frozen
class ColumnEntry:
    """One column: its name and Arrow type (``str(pa.DataType)``)."""

    name: str
    type: str


@attrs.frozen
class TableEntry:
    """One backed-up table and its member."""

    name: str
    kind: str
    rows: int
    checksum: str
    columns: list[ColumnEntry]
    #: The exact Arrow schema (IPC-serialised, base64): Parquet has no place for some
    #: types (``timestamp[s]`` comes back as ``timestamp[ms]``), so a restore casts back.
    arrow_schema: str
    member: str
    bytes: int
    sha256: str


@attrs.frozen
class SkippedTable:
    """A table of the dataset that is not in the archive, and why."""

    table: str
    reason: str


@attrs.frozen
class DatasetEntry:
    """One backed-up dataset: where it came from, its metadata member and its tables."""

    name: str
    backend: str
    layout: str
    metadata_member: str
    metadata_sha256: str
    tables: list[TableEntry]
    skipped: list[SkippedTable] = attrs.Factory(list)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


@attrs.frozen
class Manifest:
    """The whole manifest; ``compression`` is the Parquet codec of every table member."""

    mdm_version: str
    created_at: str
    compression: str
    datasets: list[DatasetEntry]
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def names(self) -> list[str]:
        return [d.name for d in self.datasets]


def dataset_folder(name: str) -> str:
    return f"datasets/{name}"


def metadata_member(dataset: str) -> str:
    return f"{dataset_folder(dataset)}/{METADATA_MEMBER}"


def table_member(dataset: str, table: str) -> str:
    return f"{dataset_folder(dataset)}/tables/{table}.parquet"


def schema_text(schema: pa.Schema) -> str:
    """``schema`` as the manifest keeps it (IPC bytes, base64)."""
    return base64.b64encode(schema.serialize().to_pybytes()).decode("ascii")


def schema_of(text: str) -> pa.Schema:
    """The schema :func:`schema_text` wrote (ValueError or ArrowInvalid when damaged)."""
    import pyarrow as pa

    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(text, validate=True)))


def manifest_dict(manifest: Manifest) -> dict:
    """The manifest as plain data (what ``manifest.json`` holds)."""
    return _converter.unstructure(manifest)


def manifest_bytes(manifest: Manifest) -> bytes:
    return json.dumps(manifest_dict(manifest), indent=2, ensure_ascii=False).encode("utf-8")


def parse_manifest(data: bytes, archive: Path) -> Manifest:
    """The manifest in ``data``; DatasetError (one sentence naming ``archive``) when it is
    not JSON, not an MDM backup manifest, of a newer format, or missing fields."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DatasetError(f"The manifest of backup {archive} is damaged ({exc}); the archive cannot be trusted.") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise DatasetError(f"{archive} is not an MDM backup (its {MANIFEST_MEMBER} is not an MDM backup manifest).")
    version = raw.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise DatasetError(f"Backup {archive} has format version {version!r}, newer than this MDM reads "
                           f"({FORMAT_VERSION}); upgrade MDM to restore it.")
    try:
        return _converter.structure(raw, Manifest)
    except (cattrs.BaseValidationError, TypeError, ValueError, KeyError) as exc:
        detail = " ".join(str(e) for e in cattrs.transform_error(exc)) if isinstance(exc, cattrs.BaseValidationError) \
            else str(exc)
        raise DatasetError(f"The manifest of backup {archive} is damaged ({detail}); the archive cannot be trusted.") \
            from None
