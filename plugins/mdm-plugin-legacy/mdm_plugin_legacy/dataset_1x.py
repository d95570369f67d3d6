"""The record of one MDM 1.x dataset (plain data, built by :mod:`mdm_plugin_legacy.catalog_1x`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from mdm_plugin_legacy.locations_1x import FileLocation, PostgresLocation
from mdm_plugin_legacy.metadata_1x import KNOWN_PROBLEM_TYPES


@attrs.frozen
class LegacyDataset:
    """One 1.x dataset, as plain data.

    - ``origin``: ``"yaml"`` (from ``config/datasets/<name>.yaml``) or ``"discovered"``
      (the YAML is gone or unusable: from the folder's ``dataset_info.json`` and database);
    - ``status``: ``"ok"``, or ``"broken"`` when its data cannot be served; ``problems``
      holds one sentence per finding, for ok datasets too;
    - ``tables``: table key (``train``, ``data``...) -> data table, ``feature_tables``:
      key (``train_features``) -> feature table, both as named in the database;
    - ``registered_at``/``last_updated_at``: aware datetimes (a naive 1.x value is UTC,
      see :mod:`mdm_plugin_legacy.metadata_1x`); ``datetime_columns`` from ``metadata``;
    - ``location``: a FileLocation (SQLite, DuckDB) or a PostgresLocation (whose password
      never shows), None when unknown; ``database_options`` the YAML's other ``database``
      settings, never a secret;
    - ``row_counts`` (table -> rows) and ``incomplete_features`` (feature tables not to
      serve) are filled by inspection (``inspected``).
    """

    name: str
    display_name: str = ""
    description: str = ""
    backend: str = ""
    tables: dict[str, str] = attrs.field(factory=dict)
    feature_tables: dict[str, str] = attrs.field(factory=dict)
    problem_type: str | None = None
    target_column: str | None = None
    id_columns: list[str] = attrs.field(factory=list)
    time_column: str | None = None
    group_column: str | None = None
    tags: list[str] = attrs.field(factory=list)
    source: str | None = None
    registered_at: datetime | None = None
    last_updated_at: datetime | None = None
    datetime_columns: list[str] = attrs.field(factory=list)
    version: str | None = None
    statistics: dict[str, Any] = attrs.field(factory=dict)
    origin: str = "yaml"
    status: str = "ok"
    problems: list[str] = attrs.field(factory=list)
    location: FileLocation | PostgresLocation | None = None
    folder: Path | None = None
    yaml_path: Path | None = None
    info_path: Path | None = None
    database_options: dict[str, Any] = attrs.field(factory=dict)
    row_counts: dict[str, int] = attrs.field(factory=dict)
    incomplete_features: list[str] = attrs.field(factory=list)
    inspected: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def problem_type_known(self) -> bool:
        """False for a problem type 1.x did not define (kept as given, flagged)."""
        return self.problem_type is None or self.problem_type in KNOWN_PROBLEM_TYPES

    @property
    def complete_feature_tables(self) -> dict[str, str]:
        """Feature tables that may be served (declared, and not short of rows)."""
        return {k: v for k, v in self.feature_tables.items() if v not in self.incomplete_features}


def broken(record: LegacyDataset, reason: str) -> LegacyDataset:
    """``record`` marked broken, ``reason`` (one sentence) added to its problems."""
    return attrs.evolve(record, status="broken", problems=[*record.problems, reason])


def with_problem(record: LegacyDataset, problem: str) -> LegacyDataset:
    """``record`` with one more problem sentence (its status unchanged)."""
    return attrs.evolve(record, problems=[*record.problems, problem])
