"""What a store keeps beside its tables: each table's Arrow schema, and names users may
not take. Also :class:`BackendBase`, the backend's declared capabilities."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import attrs
import pyarrow as pa

from mdm_core.errors import StorageError
from mdm_core.storage import BackendCapabilities

#: The table keeping each table's serialized Arrow schema (one row per table).
SCHEMA_TABLE = "_mdm_schema"
#: Table names a store never lists nor lets users write: the host's own bookkeeping (a
#: backend adds its own through ``TableStore.reserved_names``). The bookkeeping tables of
#: MDM 1.x databases are the legacy plugin's business (``mdm_plugin_legacy.layout``).
RESERVED_TABLES = frozenset({SCHEMA_TABLE})


@attrs.frozen
class SchemaBook:
    """SQL for the ``_mdm_schema`` table: ``table_name`` (primary key), ``arrow_schema``
    (``schema.serialize()``) and any ``extra`` text columns a backend keeps per table.

    ``table`` is the table's SQL reference (schema-qualified where needed); ``param(i)``
    is the driver's placeholder for the i-th parameter (1-based): ``?``, ``%s``, ``$i``."""

    table: str = SCHEMA_TABLE
    text_type: str = "TEXT"
    blob_type: str = "BLOB"
    extra: tuple[str, ...] = ()
    param: Callable[[int], str] = lambda _: "?"

    def _params(self, count: int, start: int = 1) -> list[str]:
        return [self.param(i) for i in range(start, start + count)]

    def create_sql(self) -> str:
        extra = "".join(f", {c} {self.text_type} NOT NULL" for c in self.extra)
        return (
            f"CREATE TABLE IF NOT EXISTS {self.table} (table_name {self.text_type} PRIMARY KEY, "
            f"arrow_schema {self.blob_type} NOT NULL{extra})"
        )

    def select_sql(self) -> str:
        """Selects ``arrow_schema`` and the extra columns of table parameter 1."""
        return f"SELECT {', '.join(('arrow_schema', *self.extra))} FROM {self.table} WHERE table_name = {self.param(1)}"

    def put(self, name: str, schema: pa.Schema, *extra: str) -> tuple[str, list[Any]]:
        """Record (or replace) the schema of ``name``."""
        columns = ("table_name", "arrow_schema", *self.extra)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns[1:])
        sql = (
            f"INSERT INTO {self.table} ({', '.join(columns)}) VALUES ({', '.join(self._params(len(columns)))}) "
            f"ON CONFLICT (table_name) DO UPDATE SET {updates}"
        )
        return sql, [name, schema.serialize().to_pybytes(), *extra]

    def update(self, name: str, schema: pa.Schema, *extra: str) -> tuple[str, list[Any]]:
        """Replace the recorded schema of existing ``name`` (e.g. after dropping columns)."""
        sets = ", ".join(f"{c} = {p}" for c, p in zip(("arrow_schema", *self.extra), self._params(1 + len(extra)), strict=True))
        return f"UPDATE {self.table} SET {sets} WHERE table_name = {self.param(2 + len(extra))}", [
            schema.serialize().to_pybytes(), *extra, name
        ]

    def delete(self, name: str) -> tuple[str, list[Any]]:
        return f"DELETE FROM {self.table} WHERE table_name = {self.param(1)}", [name]

    def rename(self, old: str, new: str) -> tuple[str, list[Any]]:
        return f"UPDATE {self.table} SET table_name = {self.param(1)} WHERE table_name = {self.param(2)}", [new, old]

    @staticmethod
    def schema(blob: bytes | memoryview) -> pa.Schema:
        """The Arrow schema stored as ``blob``."""
        return pa.ipc.read_schema(pa.py_buffer(blob))


class TableStore(abc.ABC):
    """Checks shared by stores: reserved names, read-only stores, missing tables.

    A subclass sets ``label`` (how messages name the store, e.g. ``dataset.sqlite`` or
    ``schema mdm_x``), ``read_only``, and may widen :attr:`reserved_names` and
    :attr:`reserved_prefixes` with its own bookkeeping."""

    label: str
    read_only: bool
    reserved_names: ClassVar[frozenset[str]] = RESERVED_TABLES
    reserved_prefixes: ClassVar[tuple[str, ...]] = ()

    @abc.abstractmethod
    def list_tables(self) -> list[str]:
        """The store's user tables (the store implements it)."""

    def is_reserved(self, name: str) -> bool:
        return name in self.reserved_names or name.startswith(self.reserved_prefixes)

    def user_tables(self, names: Sequence[str]) -> list[str]:
        """``names`` without the reserved ones (what ``list_tables`` returns)."""
        return [n for n in names if not self.is_reserved(n)]

    def require(self, name: str) -> None:
        """StorageError unless table ``name`` exists."""
        if name not in self.list_tables():
            raise StorageError(f"Table '{name}' does not exist in {self.label}.")

    def check_writable(self, name: str | None = None) -> None:
        """StorageError when the store is read-only or ``name`` is reserved."""
        if self.read_only:
            raise StorageError(f"{self.label} is open read-only.")
        if name is not None and self.is_reserved(name):
            raise StorageError(f"Table name '{name}' is reserved.")


class BackendBase:
    """A backend's declared :class:`~mdm_core.storage.BackendCapabilities` (the defaults:
    the engine keeps everything Arrow can say)."""

    capabilities: ClassVar[BackendCapabilities] = BackendCapabilities()

    def as_stored(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The engine keeps every value: ``batch`` itself."""
        return batch
