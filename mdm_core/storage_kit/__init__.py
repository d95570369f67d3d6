"""The backend author's toolkit: one implementation of what every SQL storage backend needs.

The bundled backends (SQLite, DuckDB, PostgreSQL) build on it, and a third-party backend
should too, so that each ``backend.py`` holds only what is particular to its engine:

:mod:`~mdm_core.storage_kit.filters`
    ``where`` filters to SQL with bound parameters (:func:`where_sql`, :func:`limit_sql`).
:mod:`~mdm_core.storage_kit.streams`
    :class:`IngestStream`: the batches handed to a driver's bulk ingest, checked, counted
    and encoded, keeping the original exception the driver would wrap.
:mod:`~mdm_core.storage_kit.bookkeeping`
    :class:`SchemaBook`: the ``_mdm_schema`` table keeping each table's Arrow schema;
    :class:`TableStore`: reserved names, read-only stores and missing tables.
:mod:`~mdm_core.storage_kit.files`
    :class:`FileStoreBackend`: the lifecycle of a one-file store in the dataset folder
    (create, open, exists, drop, move, describe).
"""

from mdm_core.storage_kit.bookkeeping import (
    RESERVED_TABLES,
    SCHEMA_TABLE,
    BackendBase,
    SchemaBook,
    TableStore,
)
from mdm_core.storage_kit.files import FileStoreBackend
from mdm_core.storage_kit.filters import PositionalParams, limit_sql, where_sql
from mdm_core.storage_kit.streams import IngestStream

__all__ = [
    "RESERVED_TABLES",
    "SCHEMA_TABLE",
    "BackendBase",
    "FileStoreBackend",
    "IngestStream",
    "PositionalParams",
    "SchemaBook",
    "TableStore",
    "limit_sql",
    "where_sql",
]
