"""``database.sqlite``: the settings of the SQLite backend (no driver imported here)."""

from __future__ import annotations

import attrs


@attrs.frozen
class SQLiteSettings:
    """``database.sqlite``: PRAGMAs applied to every connection of a dataset store.

    ``journal_mode`` (``WAL``, ``DELETE``, ``TRUNCATE``, ...) and ``synchronous`` set the
    durability; ``cache_size`` is in pages (negative: KiB); ``temp_store`` is where SQLite
    keeps temporary tables; ``mmap_size`` is in bytes; ``busy_timeout`` in milliseconds.
    """

    journal_mode: str = "WAL"
    synchronous: str = "NORMAL"
    cache_size: int = -64000
    temp_store: str = "MEMORY"
    mmap_size: int = 268435456
    busy_timeout: int = 10000
