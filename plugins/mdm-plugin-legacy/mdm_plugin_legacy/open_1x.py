"""Opening a 1.x dataset's database with the reader of its engine (see
:mod:`mdm_plugin_legacy.databases_1x` for the contract every reader keeps). Drivers are
imported only when a database of their engine is opened."""

from __future__ import annotations

from typing import Any

from mdm_core.errors import StorageError
from mdm_plugin_legacy.databases_1x import LegacyDatabase


def open_legacy_database(dataset: Any, *, connect_timeout: int = 10) -> LegacyDatabase:
    """Open the database of ``dataset`` (a LegacyDataset, or a FileLocation /
    PostgresLocation) read-only. StorageError when it has no database that can be
    opened (the sentence names the dataset and what was tried)."""
    from mdm_plugin_legacy.locations_1x import FileLocation, PostgresLocation

    location = getattr(dataset, "location", dataset)
    label = f"1.x dataset {dataset.name!r}" if hasattr(dataset, "name") else "1.x dataset"
    if isinstance(location, PostgresLocation):
        from mdm_plugin_legacy.postgres_1x import PostgresDatabase1x

        return PostgresDatabase1x(location, connect_timeout=connect_timeout)
    if isinstance(location, FileLocation):
        if location.path is None:
            tried = ", ".join(str(p) for p in location.tried) or "nothing"
            raise StorageError(f"The database of {label} is missing (tried {tried}).")
        if location.engine == "duckdb":
            from mdm_plugin_legacy.duckdb_1x import DuckDBDatabase1x

            return DuckDBDatabase1x(location.path)
        from mdm_plugin_legacy.sqlite_1x import SQLiteDatabase1x

        return SQLiteDatabase1x(location.path)
    problems = "; ".join(getattr(dataset, "problems", []) or []) or "it has no database location"
    raise StorageError(f"The {label} cannot be opened: {problems}")
