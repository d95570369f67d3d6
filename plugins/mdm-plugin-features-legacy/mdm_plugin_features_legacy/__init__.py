"""The ``legacy`` feature engine: MDM 1.x feature columns, computed on the whole table."""
