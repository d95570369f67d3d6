"""Column kinds, ID columns and problem types, detected from a sample of the data."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from mdm_core.datasets.models import COLUMN_KINDS
from mdm_core.errors import DatasetError
from mdm_core.storage import head_rows

#: Rows from the start of each table that kinds are detected on.
SAMPLE_ROWS = 20_000

ID_TOKENS = {"id", "uuid", "guid"}
_TOKEN_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def name_tokens(name: str) -> list[str]:
    """Split ``PassengerId``, ``passenger_id``, ``Individual ID`` into lower-case words."""
    return [t.lower() for t in _TOKEN_RE.findall(name)]


def is_id_name(name: str) -> bool:
    """True for names whose last word is an ID word (``id``, ``user_id``, ``PassengerId``);
    never for words merely ending in "id" (``humid``, ``paid``, ``valid``)."""
    tokens = name_tokens(name)
    return bool(tokens) and tokens[-1] in ID_TOKENS


def detect_kind(name: str, column: pa.Array | pa.ChunkedArray) -> str:
    """The semantic kind of a column from its Arrow type, name and sample values."""
    typ = column.type
    if pa.types.is_dictionary(typ):
        typ = typ.value_type
        column = column.cast(typ)
    non_null = len(column) - column.null_count
    if pa.types.is_boolean(typ):
        return "boolean"
    if pa.types.is_temporal(typ):
        return "datetime"
    unique = len(pc.unique(column.drop_null())) if non_null else 0
    unique_ratio = unique / non_null if non_null else 0.0
    id_capable = pa.types.is_integer(typ) or pa.types.is_string(typ) or pa.types.is_large_string(typ)
    if is_id_name(name) and id_capable and non_null and unique_ratio > 0.95:
        return "id"
    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        return "numeric"
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        values = column.drop_null()
        if non_null and _mostly_datetime(values):
            return "datetime"
        lowered = set(pc.utf8_lower(pc.unique(values)).to_pylist()) if non_null else set()
        if lowered and lowered <= {"true", "false", "yes", "no", "t", "f", "y", "n"} and len(lowered) == 2:
            return "boolean"
        mean_length = pc.mean(pc.utf8_length(values)).as_py() if non_null else 0
        if mean_length and (mean_length > 50 or (unique_ratio > 0.5 and mean_length > 20)):
            return "text"
        return "categorical"
    return "categorical"


def _mostly_datetime(values: pa.Array) -> bool:
    sample = values.slice(0, 1000)
    if len(sample) == 0 or not pc.all(pc.match_substring_regex(sample, r"^\d{4}-\d{2}-\d{2}")).as_py():
        return False
    try:
        pc.cast(sample, pa.timestamp("us"))
        return True
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False


def parse_type_overrides(items: list[str] | tuple[str, ...] | dict[str, str] | None) -> dict[str, str]:
    """``["col=kind", ...]`` (or a dict) to ``{col: kind}``; the last ``=`` splits, so
    column names may contain ``=``."""
    if not items:
        return {}
    pairs = items.items() if isinstance(items, dict) else (_split_override(i) for i in items)
    result = {}
    for column, kind in pairs:
        kind = kind.strip().lower()
        if kind not in COLUMN_KINDS:
            raise DatasetError(f"Unknown column type {kind!r} for {column!r}; use one of: {', '.join(COLUMN_KINDS)}.")
        result[column] = kind
    return result


def _split_override(item: str) -> tuple[str, str]:
    if "=" not in item:
        raise DatasetError(f"--type expects COLUMN=KIND, got {item!r}.")
    column, kind = item.rsplit("=", 1)
    return column, kind


class TargetStats:
    """Streams over the target column, keeping at most ``limit`` distinct values."""

    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self.values: set = set()
        self.overflow = False
        self.type: pa.DataType | None = None
        self.non_null = 0

    def update(self, column: pa.Array) -> None:
        self.type = column.type
        self.non_null += len(column) - column.null_count
        if self.overflow:
            return
        self.values.update(pc.unique(column.drop_null()).to_pylist())
        if len(self.values) > self.limit:
            self.overflow = True
            self.values.clear()

    def problem_type(self) -> str | None:
        """binary (2 values), multiclass (categorical, or few integer classes), regression."""
        if self.type is None or self.non_null == 0:
            return None
        n = self.limit + 1 if self.overflow else len(self.values)
        if n == 2:
            return "binary_classification"
        typ = self.type
        if pa.types.is_floating(typ):
            integral = not self.overflow and all(float(v).is_integer() for v in self.values)
            return "multiclass_classification" if integral and 2 < n <= 20 else "regression"
        if pa.types.is_integer(typ):
            return "multiclass_classification" if 2 < n <= 20 else "regression"
        if pa.types.is_boolean(typ):
            return "binary_classification"
        return "multiclass_classification"


def id_columns_of(requested: Sequence[str], main_sample: pa.Table, target: str | None, overrides: dict[str, str]) -> list[str]:
    """The ID columns asked for, else those detected in the main table's sample."""
    if requested:
        return list(requested)
    return [
        c for c in main_sample.column_names
        if c != target and overrides.get(c, "id") == "id" and detect_kind(c, main_sample.column(c)) == "id"
    ]


def column_kinds(sample: pa.Table, id_columns: Sequence[str], overrides: dict[str, str]) -> dict[str, str]:
    """The kind of every column of a table, from ``--type``, the ID columns, or its sample."""
    return {
        c: overrides.get(c) or ("id" if c in id_columns else detect_kind(c, sample.column(c)))
        for c in sample.column_names
    }


def file_sample(path: Path, rows: int) -> tuple[pa.Table, dict[str, str]]:
    """The first ``rows`` rows of a file, read as registration reads it (any installed
    source format), with detected column kinds."""
    from mdm_core.sources import reader_for

    reader = reader_for(path, rows)
    while True:
        stream = reader.open()
        try:
            table = head_rows(stream, rows, stream.schema)
            break
        except pa.ArrowInvalid as exc:
            if not reader.widen_for(exc):
                raise reader.error_for(exc) from None
        finally:
            stream.close()
    return table, {name: detect_kind(name, table.column(name)) for name in table.column_names}
