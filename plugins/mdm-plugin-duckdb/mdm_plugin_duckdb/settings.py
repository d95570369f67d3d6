"""``database.duckdb``: the settings of the DuckDB backend (duckdb is not imported here)."""

from __future__ import annotations

import attrs


@attrs.frozen
class DuckDBSettings:
    """``database.duckdb``: options of every DuckDB connection.

    ``memory_limit`` (``2GB``, ``512MB``) bounds DuckDB's memory, ``threads`` its worker
    threads; ``temp_directory`` is where it spills when the limit is reached (default:
    next to the database file); ``access_mode`` is ``READ_WRITE`` or ``READ_ONLY``.
    """

    memory_limit: str = "2GB"
    threads: int = 2
    temp_directory: str | None = None
    access_mode: str = "READ_WRITE"
