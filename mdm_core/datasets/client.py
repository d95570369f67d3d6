"""MDMClient: the Python API over one MDM home."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mdm_core.backends import backend_at, get_backend
from mdm_core.config import load_settings
from mdm_core.config.settings import Settings
from mdm_core.datasets.catalog import open_catalog
from mdm_core.datasets.handover import recover_interrupted, remove_dataset
from mdm_core.datasets.locks import dataset_lock
from mdm_core.datasets.models import DatasetInfo, TableInfo, normalize_name
from mdm_core.errors import DatasetError
from mdm_core.logging import configure_logging, is_configured
from mdm_core.performance.history import (
    client_target,
    dataset_outcome,
    export_outcome,
    export_target,
    recorded,
)
from mdm_core.storage import StorageBackend, Store

if TYPE_CHECKING:  # the data stack loads when data moves: metadata calls stay light
    import pandas as pd
    import pyarrow as pa


class MDMClient:
    """Register, list, read and remove datasets of one home (``$MDM_HOME_DIR`` or
    ``~/.mdm`` unless ``home`` is given). Dataset names are accepted in any spelling
    that normalises to the registered name (``Penguins-Raw`` == ``penguins_raw``)."""

    def __init__(self, home: str | Path | None = None, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings(Path(home).expanduser().resolve() if home else None).settings
        if not is_configured():
            configure_logging("quiet", settings=self.settings)
        self.catalog = open_catalog(self.settings)
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
        from mdm_core.datasets.detection import parse_type_overrides
        from mdm_core.datasets.registration import RegistrationRequest, register

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
            column_types=parse_type_overrides(column_types),
            backend=backend,
            generate_features=generate_features,
            force=force,
        )
        return register(self.settings, request)

    # -- catalog -----------------------------------------------------------------------
    # Every entry point first finishes or undoes operations whose process died (cheap
    # when there are none), so no command sees a half-registered or half-removed dataset.
    def list_datasets(self) -> list[DatasetInfo]:
        recover_interrupted(self.catalog)
        return self.catalog.list()

    def get_dataset_info(self, name: str) -> DatasetInfo:
        recover_interrupted(self.catalog)
        return self.catalog.load(name)

    def dataset_exists(self, name: str) -> bool:
        recover_interrupted(self.catalog)
        return self.catalog.exists(name)

    @recorded("remove", client_target, dataset_outcome)
    def remove_dataset(self, name: str) -> DatasetInfo:
        """Drop the dataset's store and folder, on the server it was registered on;
        returns what was removed. Refused while another process works on the dataset."""
        normalized = normalize_name(name)
        with dataset_lock(self.catalog.root, normalized, "remove"):
            recover_interrupted(self.catalog, held=normalized)
            info = self.catalog.load_or_broken(normalized)
            if info.legacy:
                self.catalog.discard(info)
            else:
                remove_dataset(self.catalog, info)
        return info

    def update_dataset(self, name: str, **changes: Any) -> DatasetInfo:
        """Change metadata only (``description``, ``target``, ``problem_type``, ``id_columns``,
        ``time_column``, ``group_column``, ``tags``, ``add_tags``, ``remove_tags``), atomically
        under the dataset's lock; see :func:`mdm_core.datasets.metadata_ops.apply_update`.
        Whether the feature tables went stale: :meth:`update_dataset_result`."""
        return self.update_dataset_result(name, **changes).info

    def update_dataset_result(self, name: str, **changes: Any):
        """:meth:`update_dataset`, returning the UpdateResult (info, changed, features_stale)."""
        from mdm_core.datasets.metadata_ops import update_dataset

        return update_dataset(self.catalog, name, self.writable_info, **changes)

    def search_datasets(self, pattern: str | None = None, tags: Sequence[str] = (), problem_type: str | None = None,
                        backend: str | None = None, min_rows: int | None = None,
                        max_rows: int | None = None) -> list[DatasetInfo]:
        """Datasets matching every filter given (see :func:`mdm_core.datasets.metadata_ops.search`)."""
        from mdm_core.datasets.metadata_ops import search

        return search(self.list_datasets(), pattern, tags, problem_type, backend, min_rows, max_rows)

    # -- reading -----------------------------------------------------------------------
    def open_store(self, name: str, *, read_only: bool = True) -> Store:
        """The dataset's store, open (close it, or use ``with``)."""
        return self._open(self.get_dataset_info(name), read_only=read_only)

    def iter_batches(
        self,
        name: str,
        table: str | None = None,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
        batch_size: int | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """Stream a table as Arrow record batches (default table: ``train`` or ``data``)."""
        info = self._readable(self.get_dataset_info(name))
        table_name = table or info.default_table
        info.table(table_name)
        with self._open(info) as store:
            reader = store.read_table(
                table_name, columns=columns, limit=limit,
                batch_size=batch_size or self.settings.performance.batch_size,
            )
            yield from reader

    def load_arrow(self, name: str, table: str | None = None, columns: Sequence[str] | None = None, limit: int | None = None) -> pa.Table:
        info = self._readable(self.get_dataset_info(name))
        table_name = table or info.default_table
        info.table(table_name)
        with self._open(info) as store:
            return store.read_table(table_name, columns=columns, limit=limit).read_all()

    def load_dataset(
        self, name: str, table: str | None = None, columns: Sequence[str] | None = None, limit: int | None = None
    ) -> pd.DataFrame:
        """A table as a pandas DataFrame (default table: ``train`` or ``data``)."""
        return self.load_arrow(name, table, columns, limit).to_pandas()

    def query(self, name: str, sql: str, params: Sequence[Any] = (), as_arrow: bool = False) -> pd.DataFrame | pa.Table:
        """Run one SQL statement against the dataset's store (the engine's dialect and
        placeholders; quote identifiers) and return its rows as a pandas DataFrame, or as an
        Arrow table with ``as_arrow=True``. Values go in ``params``, never into ``sql``.
        An MDM 1.x dataset is refused until migrated."""
        with self.open_store(name) as store:
            table = store.execute_sql(sql, params)
        return table if as_arrow else table.to_pandas()

    def get_engine(self, name: str, read_only: bool = True) -> Any:
        """A new SQLAlchemy ``Engine`` on the dataset's store, for ``pandas.read_sql`` and
        SQLAlchemy Core; tables are named as ``mdm dataset info`` lists them (``SELECT *
        FROM train``). With ``read_only`` (the default) the engine refuses writes. The
        caller disposes of it (``engine.dispose()``). Credentials come from the
        configuration or the environment, never from dataset metadata; PostgreSQL pools
        as ``database.postgresql.pool_size``/``max_overflow``/``pool_timeout``/
        ``pool_recycle`` say. An MDM 1.x dataset is refused until migrated."""
        info = self.get_dataset_info(name)
        return self._backend(info).sqlalchemy_engine(self.catalog.store_ref(info), read_only=read_only)

    def export_dataset(
        self, name: str, output_dir: str | Path, table: str | None = None, all_tables: bool = False,
        format: str = "csv", compression: str | None = None, columns: Sequence[str] | None = None,
        include_features: bool = True,
    ) -> list[Path]:
        """Write the dataset's tables to ``output_dir`` as ``<dataset>_<table>.<ext>[.gz|.zst]``
        (default: every data table and complete feature table); see
        :mod:`mdm_core.datasets.export`. Returns the files written."""
        result = self.export_dataset_result(name, output_dir, table=table, all_tables=all_tables, format=format,
                                            compression=compression, columns=columns, include_features=include_features)
        return [f.path for f in result.files]

    @recorded("export", export_target, export_outcome)
    def export_dataset_result(self, name: str, output_dir: str | Path, *, format: str = "csv", **options: Any):
        """:meth:`export_dataset`, returning the ExportResult (files with rows and sizes, and
        the tables skipped with why)."""
        from mdm_core.datasets.export import check_options, export_tables

        check_options(format, options.get("compression"))
        info = self._readable(self.get_dataset_info(name))
        with self._open(info) as store:
            return export_tables(store, info, Path(output_dir).expanduser(), fmt=format,
                                 batch_size=self.settings.performance.batch_size,
                                 memory_budget_mb=self.settings.performance.memory_budget_mb, **options)

    # -- backups -----------------------------------------------------------------------
    def backup(self, names: Sequence[str] = (), output: str | Path | None = None, compression: str = "zstd"):
        """Write one archive file of ``names`` (every dataset when empty): each table as
        Parquet, the metadata, and a manifest of row counts and content checksums
        (:mod:`mdm_core.datasets.backup`). Returns the BackupResult."""
        from mdm_core.datasets.backup import backup

        return backup(self, names, output, compression)

    def restore(self, archive: str | Path, names: Sequence[str] = (), backend: str | None = None,
                as_name: str | None = None, force: bool = False):
        """Restore ``names`` (every dataset when empty) from a backup archive onto ``backend``
        (default: each one's original backend if installed); each is verified before it
        appears (:mod:`mdm_core.datasets.restore`). Returns the RestoreResult."""
        from mdm_core.datasets.restore import restore

        return restore(self.settings, archive, names, backend=backend, as_name=as_name, force=force)

    def get_statistics(
        self, name: str, table: str | None = None, columns: Sequence[str] | None = None,
        extended: bool = False, batch_size: int | None = None,
    ) -> dict[str, Any]:
        """Per-column statistics of a table in one streamed pass (see
        :mod:`mdm_core.datasets.statistics`): ``{"dataset", "table", "rows", "columns"}``."""
        from mdm_core.datasets.statistics import dataset_statistics

        return dataset_statistics(self, name, table=table, columns=columns, extended=extended, batch_size=batch_size)

    def split_dataset(self, name: str, **options: Any):
        """Split a table into a new dataset holding ``train`` and ``test`` (random, stratified
        or by time); options and rules: :func:`mdm_core.datasets.split.split_dataset`.
        Returns the SplitResult."""
        from mdm_core.datasets.split import split_dataset

        return split_dataset(self, name, **options)

    def validate_time_series(self, name: str, **options: Any) -> dict[str, Any]:
        """Nulls, duplicates, gaps and order of a time column (per group when given); options
        and result keys: :func:`mdm_core.datasets.timeseries.validate`."""
        from mdm_core.datasets.timeseries import validate

        return validate(self, name, **options)

    def resample_time_series(self, name: str, freq: str, **options: Any) -> pa.Table:
        """Numeric columns aggregated per time bucket of ``freq`` (streamed); options and
        rules: :func:`mdm_core.datasets.timeseries.resample`."""
        from mdm_core.datasets.timeseries import resample

        return resample(self, name, freq, **options)

    def regenerate_features(self, name: str, engine: str | None = None) -> DatasetInfo:
        """Rebuild every ``<table>_features`` table with the winning (or named) engine."""
        from mdm_core.datasets.feature_stage import feature_job, record_features
        from mdm_core.features.runner import generate_features

        normalized = self.writable_info(name).name
        with dataset_lock(self.catalog.root, normalized, "regenerate features"):
            info = self.writable_info(normalized)
            max_columns = self._backend(info).capabilities.max_columns
            with self._open(info, read_only=False) as store:
                result = generate_features(store, feature_job(info), self.settings, engine_name=engine, max_columns=max_columns)
            record_features(info, result)
            self.catalog.save(info)
        return info

    def writable_info(self, name: str) -> DatasetInfo:
        """The metadata of ``name`` when MDM may change the dataset; DatasetError for an
        earlier MDM's dataset (read-only until migrated)."""
        from mdm_core.datasets.metadata_ops import writable_info

        recover_interrupted(self.catalog)
        return writable_info(self.catalog, name)

    def table_info(self, name: str, table: str) -> TableInfo:
        return self.catalog.load(name).table(table)

    def _open(self, info: DatasetInfo, *, read_only: bool = True) -> Store:
        return self._backend(info).open_store(self.catalog.store_ref(info), read_only=read_only)

    @staticmethod
    def _readable(info: DatasetInfo) -> DatasetInfo:
        """``info``, or the one sentence why its data cannot be read (a broken dataset of an
        earlier MDM, whose tables may be unknown)."""
        if info.status != "ok":
            raise DatasetError(f"Dataset '{info.name}' cannot be read: {info.problems[-1] if info.problems else info.status}")
        return info

    def _backend(self, info: DatasetInfo) -> StorageBackend:
        """The backend reaching ``info``'s store where it was registered."""
        self._readable(info)
        if info.backend not in self._backends:
            self._backends[info.backend] = get_backend(info.backend, self.settings)
        return backend_at(info.backend, info.store, self.settings, base=self._backends[info.backend])

