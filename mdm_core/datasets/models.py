"""Dataset metadata as plain attrs data, (de)serialised by cattrs to ``dataset.yaml``."""

from __future__ import annotations

import re
from pathlib import Path

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn, override

from mdm_core.errors import DatasetError

#: Semantic column kinds detection assigns and ``--type COL=KIND`` accepts.
COLUMN_KINDS = ("numeric", "boolean", "datetime", "categorical", "text", "id")

PROBLEM_TYPES = (
    "binary_classification",
    "multiclass_classification",
    "regression",
    "time_series",
    "clustering",
)
PROBLEM_TYPE_ALIASES = {
    "binary": "binary_classification",
    "multiclass": "multiclass_classification",
    "classification": "multiclass_classification",
    "regression": "regression",
    "time_series": "time_series",
    "timeseries": "time_series",
    "clustering": "clustering",
}

_NAME_RE = re.compile(r"^[a-z0-9_]{1,100}$")


def recorded_source(path: Path, home: Path) -> str:
    """The ``source`` a registration records for the file or folder ``path``: relative to
    ``home`` (POSIX form) when it lies inside the home, so the home can be moved; its
    absolute path otherwise."""
    resolved = Path(path).expanduser().resolve()
    try:
        return resolved.relative_to(Path(home).resolve()).as_posix()
    except ValueError:
        return str(resolved)


def source_location(source: str | None, home: Path) -> Path | None:
    """The existing file or folder a recorded ``source`` names (a relative one inside
    ``home``), or None: no source, a description rather than a path (a split's), or a
    path that no longer exists."""
    if not source:
        return None
    path = Path(source)
    path = path if path.is_absolute() else Path(home) / path
    return path if path.exists() else None


def normalize_name(name: str) -> str:
    """Normalise a dataset name as MDM 1.x did: strip, lower case, ``-`` to ``_``.

    The result must be 1-100 characters of letters, digits and ``_``; anything else
    (spaces, dots, slashes, quotes) is refused with DatasetError.
    """
    normalized = name.strip().lower().replace("-", "_")
    if not _NAME_RE.match(normalized):
        raise DatasetError(
            f"Invalid dataset name {name!r}: use 1-100 letters, digits, '_' or '-'."
        )
    return normalized


def normalize_problem_type(value: str | None) -> str | None:
    """Map user spellings (``binary``, ``classification``, ...) to a canonical problem type."""
    if value is None:
        return None
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    if key in PROBLEM_TYPES:
        return key
    if key in PROBLEM_TYPE_ALIASES:
        return PROBLEM_TYPE_ALIASES[key]
    choices = ", ".join(PROBLEM_TYPES + ("binary", "multiclass", "classification"))
    raise DatasetError(f"Unknown problem type {value!r}; use one of: {choices}.")


@attrs.define
class ColumnInfo:
    """One column: its name as in the source, semantic kind and Arrow type string."""

    name: str
    type: str
    arrow_type: str = ""


@attrs.define
class TableInfo:
    """One stored table. ``kind`` is ``data`` for source tables, ``features`` for
    ``<table>_features``; ``source`` is the file it came from (relative to the dataset's
    source path), ``None`` for generated tables."""

    name: str
    kind: str
    row_count: int
    columns: list[ColumnInfo] = attrs.Factory(list)
    source: str | None = None

    def column_types(self) -> dict[str, str]:
        return {c.name: c.type for c in self.columns}


@attrs.define
class DatasetInfo:
    """Everything the catalog knows about one dataset; stored as ``dataset.yaml``.

    ``format_version`` is 2 for the new layout; a legacy catalog serves an earlier MDM's
    datasets read-only with their version (1 for MDM 1.x) and fills the last fields:
    ``status`` (``ok``, or ``broken`` when its data cannot be served), ``problems`` (one
    sentence each), ``incomplete_tables`` (tables listed but never served: a 1.x feature
    table short of rows) and ``datetime_columns`` (declared datetime columns 1.x kept as
    text). New-layout files never hold them.
    """

    name: str
    display_name: str
    backend: str
    tables: list[TableInfo]
    registered_at: str
    description: str = ""
    target_column: str | None = None
    problem_type: str | None = None
    id_columns: list[str] = attrs.Factory(list)
    time_column: str | None = None
    group_column: str | None = None
    tags: list[str] = attrs.Factory(list)
    source: str | None = None
    last_updated_at: str | None = None
    feature_engine: str | None = None
    store: dict = attrs.Factory(dict)
    format_version: int = 2
    status: str = "ok"
    problems: list[str] = attrs.Factory(list)
    incomplete_tables: list[str] = attrs.Factory(list)
    datetime_columns: list[str] = attrs.Factory(list)

    @property
    def legacy(self) -> bool:
        """True for an earlier MDM's dataset, served read-only until migrated."""
        return self.format_version < 2

    def table(self, name: str) -> TableInfo:
        for table in self.tables:
            if table.name == name:
                return table
        raise DatasetError(
            f"Dataset '{self.name}' has no table '{name}' "
            f"(tables: {', '.join(t.name for t in self.tables)})."
        )

    @property
    def data_tables(self) -> list[TableInfo]:
        return [t for t in self.tables if t.kind == "data"]

    @property
    def default_table(self) -> str:
        names = [t.name for t in self.data_tables]
        for candidate in ("train", "data"):
            if candidate in names:
                return candidate
        return names[0]


converter = cattrs.Converter(forbid_extra_keys=False)
#: Fields only an earlier MDM's datasets have: left out of ``dataset.yaml`` when unset.
_LEGACY_ONLY = ("status", "problems", "incomplete_tables", "datetime_columns")
converter.register_unstructure_hook(
    DatasetInfo,
    make_dict_unstructure_fn(DatasetInfo, converter, **{f: override(omit_if_default=True) for f in _LEGACY_ONLY}),
)


def dataset_to_dict(info: DatasetInfo) -> dict:
    return converter.unstructure(info)


def dataset_from_dict(data: dict) -> DatasetInfo:
    return converter.structure(data, DatasetInfo)
