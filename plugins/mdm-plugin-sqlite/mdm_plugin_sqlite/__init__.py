"""MDM storage backend on SQLite."""
