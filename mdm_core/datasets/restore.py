"""``mdm restore``: datasets from a backup archive (:mod:`mdm_core.datasets.backup`) onto
any backend, verified before they appear.

First the archive is checked as a whole, before anything is written: the manifest must
be there (an interrupted backup has none) and readable, every member of the chosen
datasets present, of its recorded size and SHA-256. Then each dataset is restored the
way a registration is built (:mod:`mdm_core.datasets.handover`: a journal, a staging
store, the commit): every table streams from its Parquet member into the staging store
and is verified there (:mod:`mdm_core.datasets.restore_table`). Only then is the store moved in
place and ``dataset.yaml`` written; any failure or interruption removes the staging work,
and a dataset replaced with ``force`` is put back.
"""

from __future__ import annotations

import secrets
import tarfile
from collections.abc import Sequence
from pathlib import Path

import attrs

from mdm_core.backends import get_backend
from mdm_core.config.settings import Settings
from mdm_core.datasets import journal
from mdm_core.datasets.archive_manifest import (
    MANIFEST_MEMBER,
    DatasetEntry,
    Manifest,
    TableEntry,
    parse_manifest,
)
from mdm_core.datasets.archive_tar import ArchiveDamaged, TarReader
from mdm_core.datasets.catalog import Catalog, open_catalog
from mdm_core.datasets.handover import (
    abandon_registration,
    commit_registration,
    recover_interrupted,
)
from mdm_core.datasets.locks import dataset_lock
from mdm_core.datasets.models import DatasetInfo, dataset_from_dict, normalize_name
from mdm_core.datasets.restore_table import RestoredTable, restore_table
from mdm_core.errors import DatasetError
from mdm_core.logging import get_logger
from mdm_core.performance.history import recorded
from mdm_core.yamlio import load_yaml

log = get_logger(__name__)


@attrs.frozen
class RestoredDataset:
    """One restored dataset: its name now, its name in the archive, the backend it went
    to, its verified tables, and whether it replaced a dataset (``force``)."""

    name: str
    archived_as: str
    backend: str
    tables: list[RestoredTable]
    replaced: bool


@attrs.frozen
class RestoreResult:
    archive: Path
    datasets: list[RestoredDataset]


def read_manifest(reader: TarReader) -> Manifest:
    """The archive's manifest; DatasetError when it has none (an interrupted backup)."""
    if not reader.has(MANIFEST_MEMBER):
        raise DatasetError(f"{reader.path} is not a complete MDM backup: it has no {MANIFEST_MEMBER} "
                           "(the backup was interrupted or the file is cut short); use another backup.")
    try:
        data = reader.read(MANIFEST_MEMBER).to_pybytes()
    except ArchiveDamaged as exc:
        raise DatasetError(f"Backup {reader.path} is damaged: {exc}.") from None
    return parse_manifest(data, reader.path)


def open_archive(path: str | Path) -> TarReader:
    """The archive at ``path`` open for reading; DatasetError (one sentence) if it is not one."""
    archive = Path(path).expanduser()
    if not archive.is_file():
        raise DatasetError(f"Backup {archive} does not exist or is not a file.")
    try:
        return TarReader(archive)
    except (tarfile.TarError, OSError) as exc:
        raise DatasetError(f"{archive} is not an MDM backup archive ({exc}).") from None


def _history_target(settings: Settings, archive: str | Path, names: Sequence[str] = (), *, backend: str | None = None,
                    as_name: str | None = None, **kwargs) -> dict:
    """What the operations history records of a restore: the datasets (``*``: all), the backend asked for."""
    return {"settings": settings, "dataset": as_name or ",".join(names) or "*", "backend": backend}


def _history_outcome(result: RestoreResult) -> dict:
    return {"rows": sum(t.rows for d in result.datasets for t in d.tables),
            "backend": ",".join(sorted({d.backend for d in result.datasets}))}


@recorded("restore", _history_target, _history_outcome)
def restore(settings: Settings, archive: str | Path, names: Sequence[str] = (), *, backend: str | None = None,
            as_name: str | None = None, force: bool = False) -> RestoreResult:
    """Restore ``names`` (all when empty) from ``archive``; ``backend`` for all of them
    (default: each one's original backend if installed, else the home's default);
    ``as_name`` renames the one dataset restored; ``force`` replaces existing datasets
    (only after the restored one is verified). DatasetError, with nothing restored, on a
    damaged archive or a refused name; see the module doc for the rest."""
    catalog = open_catalog(settings)
    with open_archive(archive) as reader:
        manifest = read_manifest(reader)
        chosen = _choose(manifest, names, reader.path)
        if as_name is not None and len(chosen) != 1:
            raise DatasetError(f"--as renames one dataset, but {len(chosen)} are chosen; name the one to restore.")
        targets = [normalize_name(as_name) if as_name is not None else entry.name for entry in chosen]
        recover_interrupted(catalog)
        for target in targets:
            if not force and catalog.exists(target):
                raise DatasetError(f"Dataset '{target}' already exists; use --force to replace it or --as NEW_NAME.")
        backends = [_backend_for(settings, entry, backend) for entry in chosen]
        for entry in chosen:
            check_members(reader, entry)
        restored = [
            _restore_dataset(settings, catalog, reader, entry, target, target_backend, force)
            for entry, target, target_backend in zip(chosen, targets, backends, strict=True)
        ]
    return RestoreResult(Path(archive), restored)


def check_members(reader: TarReader, entry: DatasetEntry) -> None:
    """DatasetError naming the dataset and member when one of ``entry``'s members is
    missing, cut short or not the bytes the manifest records."""
    members = [(entry.metadata_member, None, entry.metadata_sha256)] + [(t.member, t.bytes, t.sha256) for t in entry.tables]
    for member, size, digest in members:
        what = _member_label(entry, member)
        try:
            if size is not None and reader.size(member) != size:
                raise ArchiveDamaged(f"it has {reader.size(member):,} bytes, the manifest says {size:,}")
            if reader.sha256(member) != digest:
                raise ArchiveDamaged("its bytes differ from those the backup wrote (SHA-256 mismatch)")
        except ArchiveDamaged as exc:
            raise DatasetError(f"Backup {reader.path} is damaged: {what}: {exc}; nothing was restored.") from None


def _member_label(entry: DatasetEntry, member: str) -> str:
    for table in entry.tables:
        if table.member == member:
            return f"table '{table.name}' of dataset '{entry.name}'"
    return f"the metadata of dataset '{entry.name}'"


def _choose(manifest: Manifest, names: Sequence[str], archive: Path) -> list[DatasetEntry]:
    by_name = {d.name: d for d in manifest.datasets}
    if not names:
        return list(manifest.datasets)
    chosen = []
    for raw in dict.fromkeys(names):
        name = normalize_name(raw)
        if name not in by_name:
            raise DatasetError(f"Backup {archive} has no dataset '{raw}' (it holds: {', '.join(by_name) or 'none'}).")
        chosen.append(by_name[name])
    return chosen


def _backend_for(settings: Settings, entry: DatasetEntry, requested: str | None) -> str:
    from mdm_core.plugins import get_plugin_manager

    installed = sorted({impl.name for _, impl in get_plugin_manager().implementations("storage")})
    if requested is not None:
        if requested not in installed:
            raise DatasetError(f"Unknown backend '{requested}' for --backend (installed: {', '.join(installed)}).")
        return requested
    return entry.backend if entry.backend in installed else settings.database.default_backend


def _restore_dataset(settings: Settings, catalog: Catalog, reader: TarReader, entry: DatasetEntry, name: str,
                     backend_name: str, force: bool) -> RestoredDataset:
    """One dataset, staged and verified, then committed (see the module doc)."""
    info = _restored_info(reader, entry, name, backend_name)
    backend = get_backend(backend_name, settings)
    for table in entry.tables:
        backend.check_table(table.name, [c.name for c in table.columns])
    batch_size = settings.performance.batch_size
    with dataset_lock(catalog.root, name, "restore"):
        recover_interrupted(catalog, held=name)
        if not force and catalog.exists(name):
            raise DatasetError(f"Dataset '{name}' already exists; use --force to replace it or --as NEW_NAME.")
        replacing = catalog.exists(name)
        replaced = _readable_metadata(catalog, name) if replacing else None
        operation = journal.begin(catalog.root, name, "register", backend_name,
                                  stage_key=f"stage_{secrets.token_hex(4)}", final_key=journal.store_key(name))
        operation.location = backend.describe(operation.stage_ref)
        operation.save()
        store_created = False
        try:
            with backend.create_store(operation.stage_ref) as store:
                store_created = True
                tables = [restore_table(reader, entry, table, store, backend, batch_size)
                          for table in _base_tables_first(entry.tables)]
        except BaseException:
            abandon_registration(catalog, backend, operation, store_created=store_created)
            raise
        rows = {t.name: t.rows for t in tables}
        for table_info in info.tables:
            table_info.row_count = rows[table_info.name]
        commit_registration(catalog, backend, operation, info)
        if replaced is not None and replaced.legacy:
            catalog.discard(replaced)
    log.info("restored dataset", dataset=name, archived_as=entry.name, backend=backend_name)
    return RestoredDataset(name, entry.name, backend_name, tables, replacing)


def _readable_metadata(catalog: Catalog, name: str) -> DatasetInfo | None:
    """The metadata of the dataset a forced restore replaces; None when it is unreadable
    (a broken dataset is replaced whole: ``mdm doctor`` suggests exactly that)."""
    try:
        return catalog.load(name)
    except DatasetError:
        return None


def _restored_info(reader: TarReader, entry: DatasetEntry, name: str, backend_name: str) -> DatasetInfo:
    """The archived metadata as a new-layout dataset called ``name`` on ``backend_name``,
    listing the archived tables (an MDM 1.x dataset's incomplete tables were left out)."""
    try:
        info = dataset_from_dict(load_yaml(reader.read(entry.metadata_member).to_pybytes().decode("utf-8")))
    except Exception as exc:
        raise DatasetError(f"Backup {reader.path} is damaged: the metadata of dataset '{entry.name}' is "
                           f"unreadable ({exc}).") from None
    archived = {t.name for t in entry.tables}
    if name != entry.name:
        info.display_name = name
    return attrs.evolve(
        info, name=name, backend=backend_name, tables=[t for t in info.tables if t.name in archived], store={},
        format_version=2, status="ok", problems=[], incomplete_tables=[], datetime_columns=[],
    )


def _base_tables_first(tables: list[TableEntry]) -> list[TableEntry]:
    return sorted(tables, key=lambda t: t.kind == "features")
