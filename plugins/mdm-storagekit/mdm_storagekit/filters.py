"""``read_table(where=...)`` filters to SQL: identifiers quoted, values always bound."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from mdm_core.errors import StorageError
from mdm_core.storage import FILTER_OPS, quote_identifier

#: ``bind(value, column)`` records ``value`` (compared with ``column``; None for LIMIT)
#: as a parameter and returns the SQL text that refers to it.
Binder = Callable[[Any, "str | None"], str]


class PositionalParams:
    """A :data:`Binder` for ``?`` placeholders: ``values`` in order, each passed through
    ``convert`` (what the driver binds for a Python value)."""

    def __init__(self, convert: Callable[[Any], Any] | None = None) -> None:
        self.values: list[Any] = []
        self._convert = convert

    def __call__(self, value: Any, column: str | None = None) -> str:
        self.values.append(self._convert(value) if self._convert else value)
        return "?"


def where_sql(
    table: str,
    where: Sequence[tuple[str, str, Any]],
    columns: Collection[str],
    bind: Binder,
    *,
    ref: Callable[[str], str] = quote_identifier,
) -> str:
    """`` WHERE ...`` for ``where`` (``(column, op, value)`` triples checked by
    :func:`check_filter`, combined with AND), or ``""`` when empty.
    Every column must be in ``columns`` (StorageError naming ``table`` otherwise);
    ``ref(column)`` is its SQL text. A comparison with None matches nothing, as in SQL."""
    clauses = []
    for column, op, value in where:
        if column not in columns:
            raise StorageError(f"Table '{table}' has no column {column!r}.")
        if op in ("is null", "is not null"):
            clauses.append(f"{ref(column)} {op.upper()}")
        elif value is None:
            clauses.append("FALSE")
        else:
            clauses.append(f"{ref(column)} {op} {bind(value, column)}")
    return " WHERE " + " AND ".join(clauses) if clauses else ""


def limit_sql(limit: int | None, bind: Binder) -> str:
    """`` LIMIT <bound>`` or ``""``."""
    return "" if limit is None else f" LIMIT {bind(int(limit), None)}"


def check_filter(where: Sequence[tuple[str, str, Any]]) -> None:
    """StorageError unless every item is a ``(column, op, value)`` triple with ``op`` in
    :data:`mdm_core.storage.FILTER_OPS`."""
    for item in where:
        if len(item) != 3 or item[1] not in FILTER_OPS:
            raise StorageError(f"Invalid filter {item!r}: use (column, op, value), op in {FILTER_OPS}.")
