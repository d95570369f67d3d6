"""``mdm backup``: datasets of a home into one archive file (format:
:mod:`mdm_core.datasets.archive_manifest`).

Every table is read from its store batch by batch and written as it comes into a Parquet
member of the archive (memory holds one batch); the content checksum of the stream is
the store's checksum (:meth:`mdm_core.storage.Store.checksum` reads the same stream), so
a restore onto any engine can be compared with it.

Before anything is written, the output folder is checked: it must exist, accept a file,
and have room for the estimated size (row counts times the bytes per row of a sample,
uncompressed: an upper bound for compressed Parquet). The archive is written to
``<FILE>.partial`` and renamed to ``FILE`` only once complete and on disk (fsync): a
backup that fails, is interrupted or killed leaves no file that looks complete (a killed
one may leave ``FILE.partial``, which has no manifest and is refused by restore).
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from mdm_core import __version__
from mdm_core.datasets.archive_manifest import (
    CODECS,
    MANIFEST_MEMBER,
    ColumnEntry,
    DatasetEntry,
    Manifest,
    SkippedTable,
    TableEntry,
    manifest_bytes,
    metadata_member,
    schema_text,
    table_member,
)
from mdm_core.datasets.archive_tar import MemberSink, TarWriter
from mdm_core.datasets.models import DatasetInfo, dataset_to_dict, normalize_name
from mdm_core.durable import sync_folder
from mdm_core.errors import DatasetError, MDMError
from mdm_core.logging import get_logger
from mdm_core.performance.history import recorded
from mdm_core.progress import row_progress
from mdm_core.yamlio import dump_yaml

if TYPE_CHECKING:
    import pyarrow as pa

    from mdm_core.datasets.client import MDMClient

log = get_logger(__name__)

DEFAULT_CODEC = "zstd"
#: Rows read per table to estimate its bytes per row.
SAMPLE_ROWS = 1_000
#: Room kept per member (tar header, Parquet footer) and for the manifest.
_MEMBER_OVERHEAD = 64 << 10


@attrs.frozen
class PlannedDataset:
    """A dataset a backup would write: its tables and their estimated size; ``reason``
    says why it cannot be backed up (its data cannot be read), else None."""

    name: str
    backend: str
    tables: list[str]
    rows: int
    estimated_bytes: int
    skipped: list[SkippedTable] = attrs.Factory(list)
    reason: str | None = None


@attrs.frozen
class BackupPlan:
    """What ``mdm backup`` would do: the archive path, the datasets, the bytes it needs
    and the free bytes of the output folder (both checked)."""

    path: Path
    compression: str
    datasets: list[PlannedDataset]
    needed_bytes: int
    free_bytes: int

    @property
    def readable(self) -> list[PlannedDataset]:
        return [d for d in self.datasets if d.reason is None]

    @property
    def unreadable(self) -> list[PlannedDataset]:
        return [d for d in self.datasets if d.reason is not None]


@attrs.frozen
class BackupResult:
    """A written archive: its path and size, and the manifest's datasets; the datasets
    that could not be backed up are the plan's ``unreadable``."""

    path: Path
    bytes: int
    seconds: float
    manifest: Manifest
    plan: BackupPlan

    @property
    def rows(self) -> int:
        return sum(d.rows for d in self.manifest.datasets)


def default_archive_name(now: datetime | None = None) -> str:
    """``mdm-backup-<UTC timestamp>.tar``."""
    return f"mdm-backup-{(now or datetime.now(UTC)).strftime('%Y%m%dT%H%M%SZ')}.tar"


def plan_backup(client: MDMClient, names: Sequence[str] = (), output: str | Path | None = None,
                compression: str = DEFAULT_CODEC) -> BackupPlan:
    """Check everything a backup needs, writing nothing: the datasets (all of the home
    when ``names`` is empty; an unknown name is a DatasetError), the archive path (an
    existing file is refused), the output folder's permission and free space. Each
    dataset's store is opened and sampled for the size estimate; one whose data cannot
    be read is planned with its reason."""
    if compression not in CODECS:
        raise DatasetError(f"Unknown compression {compression!r}; use one of: {', '.join(CODECS)}.")
    path = archive_path(output)
    infos = [client.get_dataset_info(normalize_name(n)) for n in dict.fromkeys(names)] if names \
        else client.list_datasets()
    if not infos:
        raise DatasetError("There is no dataset to back up in this home.")
    planned = [_plan_dataset(client, info) for info in infos]
    needed = sum(d.estimated_bytes for d in planned) + _MEMBER_OVERHEAD
    free = check_output_folder(path.parent, needed)
    return BackupPlan(path, compression, planned, needed, free)


def archive_path(output: str | Path | None) -> Path:
    """Where the archive goes: ``output``, or a default name in it when it is a folder
    (default: the current folder); an existing file is refused."""
    path = Path(output).expanduser() if output else Path.cwd()
    if path.is_dir():
        path = path / default_archive_name()
    if path.exists():
        raise DatasetError(f"{path} already exists; choose another file name (-o) or remove it first.")
    return path.absolute()


def check_output_folder(folder: Path, needed: int) -> int:
    """The free bytes of ``folder``; DatasetError naming the folder when it is missing,
    not writable (a file is actually created and removed) or has less than ``needed``."""
    if not folder.is_dir():
        raise DatasetError(f"Cannot write the backup into {folder}: it is not an existing folder.")
    probe = folder / f".mdm-backup-check-{secrets.token_hex(4)}"
    try:
        probe.touch(exist_ok=False)
        probe.unlink()
    except OSError as exc:
        raise DatasetError(f"Cannot write the backup into {folder}: {exc.strerror or exc}.") from None
    free = shutil.disk_usage(folder).free
    if free < needed:
        from mdm_core.cli.output import human_size

        raise DatasetError(f"Not enough free space in {folder}: the backup needs about {human_size(needed)}, "
                           f"{human_size(free)} is free; free some space or write elsewhere (-o).")
    return free


def _history_target(client: MDMClient, names: Sequence[str] = (), *args, **kwargs) -> dict:
    """What the operations history records of a backup: the datasets named (``*``: all)."""
    return {"settings": client.settings, "dataset": ",".join(names) or "*"}


@recorded("backup", _history_target, lambda result: {"rows": result.rows})
def backup(client: MDMClient, names: Sequence[str] = (), output: str | Path | None = None,
           compression: str = DEFAULT_CODEC) -> BackupResult:
    """Write the archive of ``names`` (every dataset of the home when empty); see the
    module doc. DatasetError when nothing can be backed up or the archive cannot be
    written; datasets whose data cannot be read are left out (``result.plan.unreadable``)."""
    started = time.monotonic()
    plan = plan_backup(client, names, output, compression)
    if not plan.readable:
        first = plan.unreadable[0]
        raise DatasetError(f"Nothing to back up: dataset '{first.name}' cannot be read ({first.reason}).")
    path = plan.path
    partial = path.with_name(path.name + ".partial")
    batch_size = client.settings.performance.batch_size
    try:
        with open(partial, "wb") as file:
            writer = TarWriter(file)
            entries = [_backup_dataset(client, writer, planned, compression, batch_size) for planned in plan.readable]
            manifest = Manifest(mdm_version=__version__, created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                                compression=compression, datasets=entries)
            writer.add_bytes(MANIFEST_MEMBER, manifest_bytes(manifest))
            writer.finish()
        os.replace(partial, path)
        sync_folder(path.parent)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise DatasetError(f"Cannot write the backup {path}: {exc.strerror or exc}.") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    log.info("backup written", path=str(path), datasets=manifest.names())
    return BackupResult(path, path.stat().st_size, time.monotonic() - started, manifest, plan)


def _plan_dataset(client: MDMClient, info: DatasetInfo) -> PlannedDataset:
    incomplete = set(info.incomplete_tables)
    skipped = [SkippedTable(t, "incomplete feature table of MDM 1.x: not backed up") for t in info.incomplete_tables]
    tables = [t for t in info.tables if t.name not in incomplete]
    try:
        with client.open_store(info.name) as store:
            estimate = sum(_estimate(store, t.name, t.row_count) for t in tables)
    except MDMError as exc:
        return PlannedDataset(info.name, info.backend, [], 0, 0, skipped, reason=str(exc))
    return PlannedDataset(info.name, info.backend, [t.name for t in tables], sum(t.row_count for t in tables),
                          estimate, skipped)


def _estimate(store, table: str, rows: int) -> int:
    """Bytes of ``rows`` rows of ``table`` at the Arrow size per row of its first rows."""
    sample = store.read_table(table, limit=SAMPLE_ROWS).read_all()
    per_row = sample.nbytes / sample.num_rows if sample.num_rows else 0
    return int(per_row * rows) + _MEMBER_OVERHEAD


def _backup_dataset(client: MDMClient, writer: TarWriter, planned: PlannedDataset, codec: str,
                    batch_size: int) -> DatasetEntry:
    info = client.get_dataset_info(planned.name)
    metadata = writer.add_bytes(metadata_member(info.name), dump_yaml(dataset_to_dict(info)).encode("utf-8"))
    entries = []
    with client.open_store(info.name) as store:
        for name in planned.tables:
            reader = store.read_table(name, batch_size=batch_size)
            digest, checksum = writer.add_streamed(
                table_member(info.name, name),
                lambda sink, r=reader, n=name: _write_parquet(sink, r, codec, f"{info.name}/{n}", info.table(n).row_count),
            )
            entries.append(TableEntry(
                name=name, kind=info.table(name).kind, rows=checksum.rows, checksum=checksum.hexdigest(),
                columns=[ColumnEntry(f.name, str(f.type)) for f in reader.schema],
                arrow_schema=schema_text(reader.schema), member=digest.name,
                bytes=digest.bytes, sha256=digest.sha256,
            ))
    return DatasetEntry(name=info.name, backend=info.backend, layout="1.x" if info.legacy else "new",
                        metadata_member=metadata.name, metadata_sha256=metadata.sha256, tables=entries,
                        skipped=list(planned.skipped))


def _write_parquet(sink: MemberSink, reader: pa.RecordBatchReader, codec: str, label: str, rows: int):
    """Stream ``reader`` into ``sink`` as Parquet; returns the content checksum of the stream."""
    import pyarrow.parquet as pq

    from mdm_core.checksum import ContentChecksum

    checksum = ContentChecksum()
    with row_progress(f"Backing up {label}", rows) as progress, \
            pq.ParquetWriter(sink, reader.schema, compression=codec) as parquet:
        for batch in reader:
            checksum.add(batch)
            parquet.write_batch(batch)
            progress.advance(batch.num_rows)
    return checksum
