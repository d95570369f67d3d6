"""What every store shares: context management, the generic checksum and extension
tables, and the schema checks behind ``drop_columns``, ``read_table(columns=...)`` and
``check_table``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import pyarrow as pa

from mdm_core.checksum import checksum_batches
from mdm_core.errors import StorageError
from mdm_core.storage import quote_identifier


class BaseStore:
    """Shared behaviour for stores: context management and the generic checksum."""

    def __enter__(self) -> BaseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def checksum(self, name: str) -> str:
        return checksum_batches(self.read_table(name))  # type: ignore[attr-defined]

    def write_extension(
        self, name: str, base: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch], *, replace: bool = False
    ) -> int:
        """Stores the whole table (see :meth:`Store.write_extension`)."""
        check_extension_schema(name, base, self.table_schema(base), schema)  # type: ignore[attr-defined]
        expected = self.row_count(base)  # type: ignore[attr-defined]

        def counted() -> Iterator[pa.RecordBatch]:
            rows = 0
            for batch in batches:
                rows += batch.num_rows
                yield batch
            if rows != expected:
                raise StorageError(f"Table '{name}' got {rows} rows; its base '{base}' has {expected}.")

        return self.write_table(name, schema, counted(), replace=replace)  # type: ignore[attr-defined]


def schema_without(name: str, schema: pa.Schema, columns: Sequence[str]) -> pa.Schema:
    """``schema`` of table ``name`` without ``columns``: StorageError naming unknown
    columns, or when none would be left (the shared checks of ``drop_columns``)."""
    present = set(schema.names)
    unknown = [c for c in columns if c not in present]
    if unknown:
        raise StorageError(f"Table '{name}' has no column(s) {', '.join(map(repr, unknown))}.")
    dropped = set(columns)
    kept = pa.schema([f for f in schema if f.name not in dropped])
    if not len(kept):
        raise StorageError(f"Cannot drop every column of table '{name}'.")
    return kept


def check_extension_schema(name: str, base: str, base_schema: pa.Schema, schema: pa.Schema) -> None:
    """StorageError unless ``schema`` starts with exactly the fields of ``base_schema``."""
    head = pa.schema(list(schema)[: len(base_schema)])
    if len(schema) < len(base_schema) or not head.equals(base_schema):
        raise StorageError(
            f"Table '{name}' must start with the columns of its base '{base}' ({', '.join(base_schema.names)})."
        )


def project_schema(table: str, full: pa.Schema, columns: Sequence[str] | None) -> pa.Schema:
    """``full`` restricted to ``columns`` in that order (all when None); StorageError
    naming the table and every unknown column."""
    if columns is None:
        return full
    missing = [c for c in columns if c not in full.names]
    if missing:
        raise StorageError(f"Table '{table}' has no column(s) {', '.join(map(repr, missing))}.")
    return pa.schema([full.field(c) for c in columns])


def check_column_names(
    table: str, columns: Sequence[str], *, engine: str, max_columns: int | None, case_insensitive: bool
) -> None:
    """The checks engines share: at most ``max_columns`` columns, no name twice (ignoring
    case where the engine folds it), no NUL characters."""
    if max_columns is not None and len(columns) > max_columns:
        raise StorageError(
            f"Table '{table}' has {len(columns):,} columns; {engine} stores at most {max_columns:,} per table "
            "(use a backend that holds more, or select fewer columns)."
        )
    seen: dict[str, int] = {}
    for index, column in enumerate(columns):
        quote_identifier(column)
        first = seen.setdefault(column.lower() if case_insensitive else column, index)
        if first != index:
            other = columns[first]
            clash = f"column {column!r} twice" if other == column else f"columns {other!r} and {column!r}"
            hint = f"; {engine} column names are case-insensitive" if other != column else ""
            raise StorageError(f"Table '{table}' has {clash}{hint}.")
