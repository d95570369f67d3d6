"""``database.sqlite``: the settings of the SQLite backend (no driver imported here)."""

from __future__ import annotations

import attrs

from mdm_core.config.fields import setting


@attrs.frozen
class SQLiteSettings:
    """``database.sqlite``: PRAGMAs applied to every connection of a dataset store."""

    journal_mode: str = setting("WAL", "Journal mode (`WAL`, `DELETE`, `TRUNCATE`, ...); a dataset being "
                                "registered is built with an in-memory journal and gets this mode when done.")
    synchronous: str = setting("NORMAL", "PRAGMA synchronous (`OFF`, `NORMAL`, `FULL`): durability against "
                               "power loss versus write speed.")
    cache_size: int = setting(-64000, "Page cache per connection: pages, or KiB when negative.")
    temp_store: str = setting("MEMORY", "Where SQLite keeps temporary tables and indices (`MEMORY`, `FILE`, `DEFAULT`).")
    mmap_size: int = setting(268435456, "Bytes of the database file read through memory mapping (0: off).")
    busy_timeout: int = setting(10000, "Milliseconds a connection waits for a lock held by another before "
                                "failing with \"database is locked\".")
