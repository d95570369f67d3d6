"""MDM storage backend on DuckDB."""
