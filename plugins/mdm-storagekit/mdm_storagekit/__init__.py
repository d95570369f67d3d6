"""The backend author's toolkit: one implementation of what every SQL storage backend needs.

The storage contract itself is the host's (:mod:`mdm_core.storage`); this distribution
implements what engines share. The bundled backends (SQLite, DuckDB, PostgreSQL) build on
it, and a third-party backend should too, so that each ``backend.py`` holds only what is
particular to its engine:

:mod:`~mdm_storagekit.stores`
    :class:`BaseStore` (context manager, generic checksum and extension tables) and the
    schema checks (:func:`project_schema`, :func:`schema_without`,
    :func:`check_extension_schema`, :func:`check_column_names`).
:mod:`~mdm_storagekit.filters`
    ``where`` filters to SQL with bound parameters (:func:`where_sql`, :func:`limit_sql`,
    :func:`check_filter`).
:mod:`~mdm_storagekit.streams`
    :class:`IngestStream`: the batches handed to a driver's bulk ingest, checked, counted
    and encoded, keeping the original exception the driver would wrap.
:mod:`~mdm_storagekit.bookkeeping`
    :class:`SchemaBook`: the ``_mdm_schema`` table keeping each table's Arrow schema;
    :class:`TableStore`: reserved names, read-only stores and missing tables.
:mod:`~mdm_storagekit.files`
    :class:`FileStoreBackend`: the lifecycle of a one-file store in the dataset folder
    (create, open, exists, drop, move, describe).
"""

from mdm_storagekit.bookkeeping import (
    RESERVED_TABLES,
    SCHEMA_TABLE,
    BackendBase,
    SchemaBook,
    TableStore,
)
from mdm_storagekit.files import FileStoreBackend
from mdm_storagekit.filters import PositionalParams, check_filter, limit_sql, where_sql
from mdm_storagekit.stores import (
    BaseStore,
    check_column_names,
    check_extension_schema,
    project_schema,
    schema_without,
)
from mdm_storagekit.streams import IngestStream

__all__ = [
    "RESERVED_TABLES",
    "SCHEMA_TABLE",
    "BackendBase",
    "BaseStore",
    "FileStoreBackend",
    "IngestStream",
    "PositionalParams",
    "SchemaBook",
    "TableStore",
    "check_column_names",
    "check_extension_schema",
    "check_filter",
    "limit_sql",
    "project_schema",
    "schema_without",
    "where_sql",
]
