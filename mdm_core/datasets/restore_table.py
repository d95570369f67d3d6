"""One table of a backup archive into a staging store, verified (see
:mod:`mdm_core.datasets.restore` for the whole restore).

The table's Parquet member streams batch by batch (cast back to the exact Arrow schema
the manifest keeps) through the target backend's ``as_stored`` into the store; a feature
table whose columns start with its base table's is written as an extension of it, as
registration writes it. Verified after writing: the rows and content checksum of what was
read from the archive against the manifest, and the store's own row count and checksum
against the stream as that engine keeps it (the check of
:func:`mdm_core.migration.copy.copy_table`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import attrs

from mdm_core.datasets.archive_manifest import DatasetEntry, TableEntry, schema_of
from mdm_core.datasets.archive_tar import ArchiveDamaged, TarReader
from mdm_core.errors import DatasetError
from mdm_core.progress import row_progress
from mdm_core.storage import StorageBackend, Store

if TYPE_CHECKING:
    import pyarrow as pa

FEATURES_SUFFIX = "_features"


@attrs.frozen
class RestoredTable:
    """A restored, verified table: its rows and checksum in the new store."""

    name: str
    rows: int
    checksum: str


def restore_table(reader: TarReader, entry: DatasetEntry, table: TableEntry, store: Store,
                  backend: StorageBackend, batch_size: int) -> RestoredTable:
    """Stream ``table``'s member into ``store`` and verify it (see the module doc);
    DatasetError naming the table and dataset when the member cannot be read or a check
    fails (the caller drops the staging store)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mdm_core.checksum import ContentChecksum

    what = f"table '{table.name}' of dataset '{entry.name}'"
    try:
        parquet = pq.ParquetFile(pa.BufferReader(reader.read(table.member)))
    except (pa.ArrowException, ArchiveDamaged) as exc:
        raise DatasetError(f"Backup {reader.path} is damaged: {what} cannot be read ({exc}).") from None
    schema = _archived_schema(reader, what, table)
    if parquet.schema_arrow.names != schema.names:
        raise DatasetError(f"Backup {reader.path} is damaged: {what} does not have the columns its manifest lists.")
    cast = not parquet.schema_arrow.equals(schema)
    archived, stored = ContentChecksum(), ContentChecksum()
    as_stored = getattr(backend, "as_stored", None)

    def batches(progress) -> Iterator[pa.RecordBatch]:
        for batch in parquet.iter_batches(batch_size=batch_size):
            if cast:  # safe: a value the original type cannot hold is an error, never rounded
                batch = batch.cast(schema)
            archived.add(batch)
            kept = as_stored(batch) if as_stored is not None else batch
            stored.add(kept)
            progress.advance(batch.num_rows)
            yield kept

    base = _extension_base(store, table, schema)
    try:
        with row_progress(f"Restoring {entry.name}/{table.name}", table.rows) as progress:
            if base is not None:
                store.write_extension(table.name, base, schema, batches(progress))
            else:
                store.write_table(table.name, schema, batches(progress))
    except pa.ArrowException as exc:
        raise DatasetError(f"Backup {reader.path} is damaged: {what} cannot be read ({exc}).") from None
    problems = []
    if (archived.rows, archived.hexdigest()) != (table.rows, table.checksum):
        problems.append(f"the archive holds {archived.rows:,} rows with checksum {archived.hexdigest()}, "
                        f"the manifest says {table.rows:,} rows with checksum {table.checksum}")
    restored_rows, restored_checksum = store.row_count(table.name), store.checksum(table.name)
    if (restored_rows, restored_checksum) != (stored.rows, stored.hexdigest()):
        problems.append(f"the {backend.name} store kept {restored_rows:,} rows with checksum {restored_checksum}, "
                        f"expected {stored.rows:,} rows with checksum {stored.hexdigest()}")
    if problems:
        raise DatasetError(f"Restoring {what} from {reader.path} failed verification: {'; '.join(problems)}; "
                           f"dataset '{entry.name}' was not restored.")
    return RestoredTable(table.name, restored_rows, restored_checksum)


def _archived_schema(reader: TarReader, what: str, table: TableEntry) -> pa.Schema:
    """The table's original Arrow schema from the manifest; DatasetError when it is
    damaged or does not match the columns the manifest lists."""
    try:
        schema = schema_of(table.arrow_schema)
    except Exception as exc:
        raise DatasetError(f"Backup {reader.path} is damaged: the schema of {what} is unreadable ({exc}).") from None
    if [(f.name, str(f.type)) for f in schema] != [(c.name, c.type) for c in table.columns]:
        raise DatasetError(f"Backup {reader.path} is damaged: {what} does not have the columns its manifest lists.")
    return schema


def _extension_base(store: Store, table: TableEntry, schema: pa.Schema) -> str | None:
    """The base table of a feature table whose columns start with the base's (it is then
    written as an extension, as registration writes it), else None."""
    if table.kind != "features" or not table.name.endswith(FEATURES_SUFFIX):
        return None
    base = table.name[: -len(FEATURES_SUFFIX)]
    if base not in store.list_tables():
        return None
    base_schema = store.table_schema(base)
    head = list(schema)[: len(base_schema)]
    return base if len(schema) > len(base_schema) and [f.name for f in head] == base_schema.names \
        and all(a.type == b.type for a, b in zip(head, base_schema, strict=True)) else None
