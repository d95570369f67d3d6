"""Feature tables of an in-memory table, made by the same runner as registration.

:func:`frame_features` hands :func:`mdm_core.features.runner.generate_features` a
:class:`FrameStore`: a store whose tables live in memory (the table to featurise) or are
read from a dataset's real store, opened read-only. So the engine, the skip list and name
rules, custom features, constant-feature dropping and the column limit are exactly those
of registration; nothing is computed here. Only the feature table asked for is kept; the
runner's other writes are consumed and only their schema is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa

from mdm_core.errors import StorageError
from mdm_core.features.runner import TMP_SUFFIX, FeatureJob, generate_features


class FrameStore:
    """The part of :class:`mdm_core.storage.Store` the feature runner uses, over
    ``tables`` held in memory and, for other names, ``base`` (a store read, never written).
    Tables written are kept when named in ``keep`` (after renames), else only their schema."""

    def __init__(self, tables: dict[str, pa.Table], base: Any = None, keep: Sequence[str] = ()) -> None:
        self.tables = dict(tables)
        self.base = base
        self.keep = set(keep)

    def table_schema(self, name: str) -> pa.Schema:
        return self.tables[name].schema if name in self.tables else self._base(name).table_schema(name)

    def read_table(self, name: str, *, columns: Sequence[str] | None = None, where: Sequence[Any] = (),
                   limit: int | None = None, batch_size: int = 50_000) -> pa.RecordBatchReader:
        if name not in self.tables:
            return self._base(name).read_table(name, columns=columns, where=where, limit=limit, batch_size=batch_size)
        if where:
            raise StorageError("An in-memory feature store does not filter.")
        table = self.tables[name].select(list(columns)) if columns is not None else self.tables[name]
        table = table.slice(0, limit) if limit is not None else table
        return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=batch_size))

    def write_extension(self, name: str, base: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch], *,
                        replace: bool = False) -> int:
        wanted = name.removesuffix(TMP_SUFFIX) in self.keep
        held: list[pa.RecordBatch] = []
        rows = 0
        for batch in batches:
            rows += batch.num_rows
            if wanted:
                held.append(batch)
        self.tables[name] = pa.Table.from_batches(held, schema=schema)
        return rows

    def drop_columns(self, name: str, columns: Sequence[str]) -> None:
        self.tables[name] = self.tables[name].drop_columns(list(columns))

    def rename_table(self, old: str, new: str) -> None:
        self.tables[new] = self.tables.pop(old)

    def drop_table(self, name: str) -> None:
        self.tables.pop(name, None)

    def _base(self, name: str) -> Any:
        if self.base is None:
            raise StorageError(f"No table '{name}' in the in-memory feature store.")
        return self.base


def frame_features(tables: dict[str, pa.Table], name: str, job: FeatureJob, settings: Any, *, base: Any = None,
                   engine_name: str | None = None, max_columns: int | None = None) -> pa.Table:
    """``<name>_features`` for ``tables[name]``: the runner runs ``job`` (which lists
    ``name``) on ``tables`` held in memory and, for the other tables, ``base``; the engine
    is fitted on ``job``'s training table (``name`` itself, or a table of ``base``)."""
    store = FrameStore(tables, base=base, keep=(f"{name}_features",))
    generate_features(store, job, settings, engine_name=engine_name, max_columns=max_columns)
    return store.tables[f"{name}_features"]
