"""The legacy-generation dataset catalog: the new layout's datasets plus the home's MDM 1.x
datasets, served read-only where they are.

A 1.x dataset becomes a :class:`~mdm_core.datasets.models.DatasetInfo` with
``format_version=1``: its tables with their stored row counts and columns (kinds from the
stored types, the YAML's ID and datetime columns), ``status``/``problems`` from the
reader, and its incomplete feature tables in ``incomplete_tables`` (listed, never
served). Its ``store`` names the dataset and where it is (``layout: 1.x``), never a
password: the legacy storage finds the database again from the name.

Once ``use_new_storage`` is on, a 1.x dataset whose every table the ``legacy-storage``
migration step copied and verified (the migration journal says so) is served from its
new store: still ``format_version=1`` (read-only), with the target ``backend`` and the
new ``store``, since the new backend does not read 1.x databases.

A name held by both layouts is the new one's (a ``--force`` registration replaced the 1.x
dataset). Writes (registration, feature regeneration) go to the new layout through the
inherited methods; :meth:`LegacyCatalog.discard` removes a 1.x dataset's YAML and folder.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa

from mdm_core.config.settings import Settings
from mdm_core.datasets.catalog import METADATA_FILE, Catalog
from mdm_core.datasets.models import ColumnInfo, DatasetInfo, TableInfo, normalize_name
from mdm_core.errors import DatasetError, DatasetNotFound, StorageError
from mdm_core.migration.journal import Journal, load_journal
from mdm_plugin_legacy.catalog_1x import find_dataset, scan_home
from mdm_plugin_legacy.config_1x import LegacySettings, load_settings_1x
from mdm_plugin_legacy.dataset_1x import LegacyDataset
from mdm_plugin_legacy.migration_1x import migrated_store
from mdm_plugin_legacy.open_1x import open_legacy_database

LAYOUT = "1.x"


class LegacyCatalog(Catalog):
    """:class:`~mdm_core.datasets.catalog.Catalog` that also lists and loads 1.x datasets."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._settings_1x: LegacySettings | None = None
        self._journal: Journal | None = None

    @property
    def settings_1x(self) -> LegacySettings:
        if self._settings_1x is None:
            self._settings_1x = load_settings_1x(self.settings.home)
        return self._settings_1x

    def names(self) -> list[str]:
        new = super().names()
        legacy = [r.name for r in scan_home(self.settings.home, self.settings_1x, inspect=False)]
        return sorted(set(new) | set(legacy))

    def exists(self, name: str) -> bool:
        return super().exists(name) or self._find(name, inspect=False) is not None

    def load(self, name: str, folder: Any = None, *, file_name: str | None = None) -> DatasetInfo:
        if folder is not None or file_name is not None or super().exists(name):
            return super().load(name, folder, **({"file_name": file_name} if file_name else {}))
        record = self._find(name, inspect=True)
        if record is None:
            return super().load(name)  # DatasetNotFound listing every known name
        return self._info(record, columns=True)

    def list(self) -> list[DatasetInfo]:
        new = {info.name: info for info in super().list()}
        legacy = [self._info(r, columns=False) for r in scan_home(self.settings.home, self.settings_1x)
                  if r.name not in new]
        return sorted([*new.values(), *legacy], key=lambda info: info.name)

    def discard(self, info: DatasetInfo) -> None:
        """Remove a 1.x dataset's YAML and folder (its database file with it; a PostgreSQL
        database ``mdm_<name>`` is left on the server). The folder is first renamed aside
        so the dataset leaves listings at once; a folder that now holds a new-layout
        dataset of that name (a ``--force`` registration replaced the 1.x one) is kept."""
        if not info.legacy:
            super().discard(info)
        record = self._find(info.name, inspect=False)
        if record is None:
            raise DatasetNotFound(f"MDM 1.x dataset '{info.name}' not found.")
        folder = record.folder
        if folder is not None and folder.is_dir() and not (folder / METADATA_FILE).exists():
            aside = folder.with_name(f".{folder.name}.removed-{secrets.token_hex(4)}")
            os.replace(folder, aside)
            shutil.rmtree(aside)
        if record.yaml_path is not None and record.yaml_path.is_file():
            record.yaml_path.unlink()

    def _info(self, record: LegacyDataset, *, columns: bool) -> DatasetInfo:
        """``record`` as metadata, pointing to its new store once it is migrated (see the module doc)."""
        info = as_dataset_info(record, self.settings.home, columns=columns)
        if not self.settings.flags.use_new_storage:
            return info
        if self._journal is None:
            try:
                self._journal = load_journal(self.settings.home)
            except ValueError:  # an unreadable journal: mdm-migrate names it; the 1.x data is served as is
                self._journal = Journal()
        moved = migrated_store(self._journal, record)
        if moved is None:
            return info
        backend, store = moved
        return attrs.evolve(info, backend=backend, store=store)

    def _find(self, name: str, *, inspect: bool) -> LegacyDataset | None:
        """The 1.x dataset ``name``, also when spelled as typed at registration
        (``Penguins-Raw`` finds ``penguins_raw``, as for new-layout datasets)."""
        record = find_dataset(self.settings.home, name, self.settings_1x, inspect=inspect)
        if record is not None:
            return record
        try:
            normalized = normalize_name(name)
        except DatasetError:
            return None
        if normalized == name:
            return None
        return find_dataset(self.settings.home, normalized, self.settings_1x, inspect=inspect)


def as_dataset_info(record: LegacyDataset, home: Path, *, columns: bool) -> DatasetInfo:
    """``record`` of ``home`` as the host's metadata (``columns``: also each table's
    columns, read from the database's schema)."""
    schemas = _schemas(record) if columns else {}
    data = [_table(record, table, "data", schemas) for table in record.tables.values()]
    features = [_table(record, table, "features", schemas) for table in record.feature_tables.values()]
    return DatasetInfo(
        name=record.name,
        display_name=record.display_name or record.name,
        backend=record.backend or (record.location.engine if record.location is not None else ""),
        tables=data + features,
        registered_at=record.registered_at.isoformat() if record.registered_at else "",
        description=record.description or "",
        target_column=record.target_column,
        problem_type=record.problem_type,
        id_columns=list(record.id_columns),
        time_column=record.time_column,
        group_column=record.group_column,
        tags=list(record.tags),
        source=record.source,
        last_updated_at=record.last_updated_at.isoformat() if record.last_updated_at else None,
        store={"layout": LAYOUT, "dataset": record.name, "origin": record.origin,
               **(record.location.describe(home) if record.location is not None else {})},
        format_version=1,
        status=record.status,
        problems=list(record.problems),
        incomplete_tables=list(record.incomplete_features),
        datetime_columns=list(record.datetime_columns),
    )


def _table(record: LegacyDataset, table: str, kind: str, schemas: dict[str, pa.Schema]) -> TableInfo:
    schema = schemas.get(table)
    columns = [column_info(record, f) for f in schema] if schema is not None else []
    return TableInfo(name=table, kind=kind, row_count=record.row_counts.get(table, 0), columns=columns)


def column_info(record: LegacyDataset, field: pa.Field) -> ColumnInfo:
    """``field`` of a table of ``record`` with the kind the 1.x catalog gives it."""
    return ColumnInfo(field.name, _kind(record, field), str(field.type))


def _kind(record: LegacyDataset, field: pa.Field) -> str:
    if field.name in record.id_columns:
        return "id"
    if field.name in record.datetime_columns or pa.types.is_timestamp(field.type) or pa.types.is_date(field.type):
        return "datetime"
    if pa.types.is_boolean(field.type):
        return "boolean"
    if pa.types.is_integer(field.type) or pa.types.is_floating(field.type):
        return "numeric"
    return "categorical"


def _schemas(record: LegacyDataset) -> dict[str, pa.Schema]:
    """The stored schema of every table of ``record`` (none for a broken dataset)."""
    if not record.ok or record.location is None:
        return {}
    try:
        with open_legacy_database(record) as db:
            return {table: db.table_schema(table) for table in db.list_tables()}
    except StorageError as exc:
        raise DatasetError(f"MDM 1.x dataset '{record.name}': {exc}") from None
