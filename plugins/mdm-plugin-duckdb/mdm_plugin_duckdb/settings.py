"""``database.duckdb``: the settings of the DuckDB backend (duckdb is not imported here)."""

from __future__ import annotations

import attrs

from mdm_core.config.fields import setting


@attrs.frozen
class DuckDBSettings:
    """``database.duckdb``: options of every DuckDB connection."""

    memory_limit: str = setting("2GB", "Most memory DuckDB may use (`2GB`, `512MB`); above it, it spills "
                                "to `temp_directory` or fails naming this setting.")
    threads: int | None = setting(None, "Worker threads of each DuckDB database; none: `performance.max_workers`.")
    temp_directory: str | None = setting(None, "Where DuckDB spills when `memory_limit` is reached; none: "
                                         "next to the database file.")
    access_mode: str = setting("READ_WRITE", "`READ_WRITE`, or `READ_ONLY` to open every DuckDB store read-only.")
