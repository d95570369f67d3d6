"""MDMClient: the Python API over one MDM home."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import structlog

from mdm_core.config import load_settings
from mdm_core.config.settings import Settings
from mdm_core.datasets.catalog import Catalog
from mdm_core.datasets.models import DatasetInfo, TableInfo
from mdm_core.datasets.registration import RegistrationRequest, register
from mdm_core.logging import configure_logging
from mdm_core.storage import StorageBackend, Store, get_backend


class MDMClient:
    """Register, list, read and remove datasets of one home (``$MDM_HOME_DIR`` or
    ``~/.mdm`` unless ``home`` is given). Dataset names are accepted in any spelling
    that normalises to the registered name (``Penguins-Raw`` == ``penguins_raw``)."""

    def __init__(self, home: str | Path | None = None, settings: Settings | None = None) -> None:
        if not structlog.is_configured():
            configure_logging("quiet")
        self.settings = settings or load_settings(Path(home).expanduser().resolve() if home else None).settings
        self.catalog = Catalog(self.settings)
        self._backends: dict[str, StorageBackend] = {}

    # -- registration ------------------------------------------------------------------
    def register_dataset(
        self,
        name: str,
        path: str | Path,
        target: str | None = None,
        problem_type: str | None = None,
        id_columns: Sequence[str] | None = None,
        description: str | None = None,
        tags: Sequence[str] | None = None,
        backend: str | None = None,
        generate_features: bool = True,
        force: bool = False,
        time_column: str | None = None,
        group_column: str | None = None,
        column_types: dict[str, str] | Sequence[str] | None = None,
    ) -> DatasetInfo:
        """Register ``path`` under ``name``; see the CLI's ``dataset register`` for rules.
        ``column_types`` maps column names to kinds (or is a list of ``COL=KIND``)."""
        if isinstance(column_types, dict):
            overrides = tuple(f"{c}={k}" for c, k in column_types.items())
        else:
            overrides = tuple(column_types or ())
        request = RegistrationRequest(
            name=name,
            path=str(path),
            target=target,
            problem_type=problem_type,
            id_columns=tuple(id_columns or ()),
            time_column=time_column,
            group_column=group_column,
            description=description or "",
            tags=tuple(tags or ()),
            type_overrides=overrides,
            backend=backend,
            generate_features=generate_features,
            force=force,
        )
        return register(self.settings, request)

    # -- catalog -----------------------------------------------------------------------
    def list_datasets(self) -> list[DatasetInfo]:
        return self.catalog.list()

    def get_dataset_info(self, name: str) -> DatasetInfo:
        return self.catalog.load(name)

    def dataset_exists(self, name: str) -> bool:
        return self.catalog.exists(name)

    def remove_dataset(self, name: str) -> DatasetInfo:
        """Drop the dataset's store and folder; returns what was removed."""
        info = self.catalog.load(name)
        self._backend(info.backend).drop_store(self.catalog.store_ref(info))
        self.catalog.remove_folder(info.name)
        return info

    # -- reading -----------------------------------------------------------------------
    def open_store(self, name: str, *, read_only: bool = True) -> Store:
        """The dataset's store, open (close it, or use ``with``)."""
        info = self.catalog.load(name)
        return self._backend(info.backend).open_store(self.catalog.store_ref(info), read_only=read_only)

    def iter_batches(
        self,
        name: str,
        table: str | None = None,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
        batch_size: int | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """Stream a table as Arrow record batches (default table: ``train`` or ``data``)."""
        info = self.catalog.load(name)
        table_name = table or info.default_table
        info.table(table_name)
        with self.open_store(name) as store:
            reader = store.read_table(
                table_name, columns=columns, limit=limit,
                batch_size=batch_size or self.settings.performance.batch_size,
            )
            yield from reader

    def load_arrow(self, name: str, table: str | None = None, columns: Sequence[str] | None = None, limit: int | None = None) -> pa.Table:
        info = self.catalog.load(name)
        table_name = table or info.default_table
        info.table(table_name)
        with self.open_store(name) as store:
            return store.read_table(table_name, columns=columns, limit=limit).read_all()

    def load_dataset(
        self, name: str, table: str | None = None, columns: Sequence[str] | None = None, limit: int | None = None
    ) -> pd.DataFrame:
        """A table as a pandas DataFrame (default table: ``train`` or ``data``)."""
        return self.load_arrow(name, table, columns, limit).to_pandas()

    def query(self, name: str, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        """Run SQL against the dataset's store (engine dialect; quote identifiers)."""
        with self.open_store(name) as store:
            return store.execute_sql(sql, params)

    def regenerate_features(self, name: str, engine: str | None = None) -> DatasetInfo:
        """Rebuild every ``<table>_features`` table with the winning (or named) engine."""
        from mdm_core.features.runner import generate_features

        info = self.catalog.load(name)
        with self.open_store(name, read_only=False) as store:
            tables = generate_features(store, info, self.settings, engine_name=engine)
        info.tables = [t for t in info.tables if t.kind != "features"] + list(tables)
        self.catalog.save(info)
        return info

    def table_info(self, name: str, table: str) -> TableInfo:
        return self.catalog.load(name).table(table)

    def _backend(self, name: str) -> StorageBackend:
        if name not in self._backends:
            self._backends[name] = get_backend(name, self.settings)
        return self._backends[name]

