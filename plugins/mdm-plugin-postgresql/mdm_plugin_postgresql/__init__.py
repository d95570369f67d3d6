"""MDM storage backend on PostgreSQL."""
