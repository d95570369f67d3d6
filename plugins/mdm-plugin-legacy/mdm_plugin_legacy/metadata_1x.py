"""Reading the fields of one 1.x dataset description leniently.

A 1.x dataset is described by ``config/datasets/<name>.yaml`` and, as a copy that may be
stale, by ``datasets/<name>/dataset_info.json``; both hold the same mapping (1.0.6's
``DatasetInfo.model_dump()``). :func:`dataset_fields` turns such a mapping into the plain
fields of :class:`~mdm_plugin_legacy.catalog_1x.LegacyDataset`:

- what is needed to reach the data (``database`` with a ``backend``, ``tables`` as a
  mapping) must be well formed, otherwise :class:`BrokenMetadata` says why;
- everything else is read leniently: a wrong type falls back to the empty value (a
  single string where a list belongs becomes a one-item list, a number where a column
  name belongs becomes its text) and adds a problem sentence; unknown keys are ignored.

Timestamps (:func:`parse_timestamp`) become timezone-aware datetimes. A *naive* 1.x
timestamp is read as **UTC**: 1.0.6 writes ``registered_at`` aware
(``datetime.now(timezone.utc)``) and ``last_updated_at`` naive from
``datetime.utcnow().isoformat()`` (``dataset/operations.py``, ``UpdateOperation``), so a
naive value is a UTC wall-clock time, not local time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

#: The problem types MDM 1.x accepted (``mdm dataset update --problem-type``).
KNOWN_PROBLEM_TYPES = (
    "binary_classification",
    "multiclass_classification",
    "regression",
    "time_series",
    "clustering",
)

FEATURE_SUFFIX = "_features"


class BrokenMetadata(Exception):
    """The description cannot be used to reach the data; ``str()`` says why."""


def normalise_name(name: str) -> str:
    """A dataset name as 1.x stored it: lower case, ``-`` replaced by ``_``."""
    return name.strip().lower().replace("-", "_")


def parse_timestamp(value: Any) -> datetime:
    """``value`` (ISO text, a YAML datetime or date) as an aware datetime; naive values are
    UTC (see the module doc). ValueError when it is not a timestamp."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        parsed = datetime.fromisoformat(value.strip())
    else:
        raise ValueError(f"{value!r} is not a timestamp")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def dataset_fields(data: Mapping[str, Any], name: str) -> tuple[dict[str, Any], list[str]]:
    """The LegacyDataset fields described by ``data`` (a parsed YAML/JSON mapping) for the
    dataset ``name``, and the problems found; BrokenMetadata when the data is unreachable."""
    problems: list[str] = []
    database = data.get("database")
    if not isinstance(database, Mapping):
        if set(data) == {"path"}:
            raise BrokenMetadata("it is a pointer file of an early 1.x layout (only 'path'), "
                                 "which MDM does not read")
        raise BrokenMetadata("'database' is missing or not a mapping")
    backend = database.get("backend")
    if not isinstance(backend, str) or not backend.strip():
        raise BrokenMetadata("'database.backend' is missing or not a name")
    raw_tables = data.get("tables")
    if raw_tables is None:
        raw_tables = {}
    if not isinstance(raw_tables, Mapping):
        raise BrokenMetadata(f"'tables' is a {type(raw_tables).__name__}, not a mapping of table names")
    tables = {str(k): str(v) for k, v in raw_tables.items() if v is not None}
    declared_features = _mapping(data, "feature_tables", problems)

    feature_keys = set(declared_features) | {
        k for k in tables if k.endswith(FEATURE_SUFFIX) and k[: -len(FEATURE_SUFFIX)] in tables
    }
    feature_tables = {k: tables.get(k, v) for k, v in declared_features.items()}
    feature_tables.update({k: tables[k] for k in sorted(feature_keys) if k in tables and k not in feature_tables})
    data_tables = {k: v for k, v in tables.items() if k not in feature_keys}

    written_name = data.get("name")
    if written_name is not None and normalise_name(str(written_name)) != normalise_name(name):
        problems.append(f"its 'name' is {written_name!r} but its file names it {name!r}; {name!r} is used.")

    metadata = data.get("metadata")
    if metadata is not None and not isinstance(metadata, Mapping):
        problems.append(f"'metadata' is a {type(metadata).__name__}, not a mapping; ignored.")
        metadata = None
    metadata = metadata or {}
    statistics = metadata.get("statistics")

    problem_type = _text(data, "problem_type", problems)
    if problem_type is not None and problem_type not in KNOWN_PROBLEM_TYPES:
        problems.append(f"problem_type {problem_type!r} is not one MDM knows "
                        f"({', '.join(KNOWN_PROBLEM_TYPES)}); kept as given.")

    fields = {
        "display_name": _text(data, "display_name", problems) or name,
        "description": _text(data, "description", problems) or "",
        "backend": backend.strip().lower(),
        "tables": data_tables,
        "feature_tables": feature_tables,
        "problem_type": problem_type,
        "target_column": _text(data, "target_column", problems),
        "id_columns": _names(data, "id_columns", problems),
        "time_column": _text(data, "time_column", problems),
        "group_column": _text(data, "group_column", problems),
        "tags": _names(data, "tags", problems),
        "source": _text(data, "source", problems),
        "registered_at": _timestamp(data, "registered_at", problems),
        "last_updated_at": _timestamp(data, "last_updated_at", problems),
        "datetime_columns": _names(metadata, "datetime_columns", problems, where="metadata."),
        "version": _text(data, "version", problems),
        "statistics": dict(statistics) if isinstance(statistics, Mapping) else {},
    }
    return fields, problems


def database_options(data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``database`` settings of a description, without ``backend``, ``path`` and any
    secret (a password is never copied anywhere)."""
    from mdm_core.secrets import is_secret_key

    database = data.get("database")
    if not isinstance(database, Mapping):
        return {}
    return {str(k): v for k, v in database.items()
            if str(k) not in ("backend", "path") and not is_secret_key(str(k))}


def _text(data: Mapping[str, Any], key: str, problems: list[str]) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float | bool | date):
        return str(value)
    problems.append(f"'{key}' is a {type(value).__name__}, not text; ignored.")
    return None


def _names(data: Mapping[str, Any], key: str, problems: list[str], where: str = "") -> list[str]:
    value = data.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        problems.append(f"'{where}{key}' is a single text, read as a list of one.")
        return [value]
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v is not None]
    problems.append(f"'{where}{key}' is a {type(value).__name__}, not a list; ignored.")
    return []


def _mapping(data: Mapping[str, Any], key: str, problems: list[str]) -> dict[str, str]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(f"'{key}' is a {type(value).__name__}, not a mapping; ignored.")
        return {}
    return {str(k): str(v) for k, v in value.items() if v is not None}


def _timestamp(data: Mapping[str, Any], key: str, problems: list[str]) -> datetime | None:
    value = data.get(key)
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except (ValueError, TypeError):
        problems.append(f"'{key}' {value!r} is not a timestamp; ignored.")
        return None
