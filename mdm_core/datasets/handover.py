"""Putting a registered dataset in place, removing one, and finishing or undoing either
after the process doing it died.

Every step runs under the dataset's lock (:mod:`mdm_core.datasets.locks`) with its
journal folder (:mod:`mdm_core.datasets.journal`) written first, so each state a kill can
leave is recognisable:

registration (``kind='register'``), in its folder ``F``:
  1. the store is built at ``F`` under ``stage_key``;
  2. ``F/pending.yaml`` gets the new metadata;
  3. an existing dataset folder (``--force``) is renamed to ``F/replaced`` (its store,
     file or schema, goes with it or is untouched);
  4. the store is moved to the dataset folder under ``final_key``;
  5. ``dataset.yaml`` is written: **the commit point**;
  6. the replaced dataset's store is dropped and ``F`` removed.
  Interrupted before 4 completed: undone (staged store dropped, replaced dataset put
  back). After 4: finished (metadata written from ``F/pending.yaml``, replaced store
  dropped).

removal (``kind='remove'``):
  1. the dataset folder is renamed to ``F/removed`` (the dataset is gone from listings
     at once, atomically);
  2. its store is dropped; 3. ``F`` removed. Interrupted after 1: finished.

A dataset folder is therefore listed only when its store is in place and complete.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from mdm_core.backends import backend_at
from mdm_core.config.settings import Settings
from mdm_core.datasets import journal
from mdm_core.datasets.catalog import METADATA_FILE, Catalog, MetadataUnreadable
from mdm_core.datasets.journal import Operation
from mdm_core.datasets.locks import try_dataset_lock
from mdm_core.datasets.models import DatasetInfo
from mdm_core.errors import MDMError
from mdm_core.logging import get_logger
from mdm_core.storage import StorageBackend, StoreRef

log = get_logger(__name__)

PENDING_FILE = "pending.yaml"
REPLACED_DIR = "replaced"
REMOVED_DIR = "removed"


# -- registration ------------------------------------------------------------------------
def commit_registration(catalog: Catalog, backend: StorageBackend, operation: Operation, info: DatasetInfo) -> None:
    """Steps 2-6 of a registration whose store is complete at ``operation.stage_ref``.
    On any failure before the commit point everything is undone and the error raised."""
    final_ref = StoreRef(operation.final_key or "", catalog.folder(info.name))
    info.store = {"key": final_ref.key, **operation.location}
    catalog.save(info, operation.folder, file_name=PENDING_FILE)
    try:
        if catalog.folder(info.name).exists():
            os.replace(catalog.folder(info.name), operation.file(REPLACED_DIR))
        final_ref.folder.mkdir(parents=True)
        backend.move_store(operation.stage_ref, final_ref)
        info.store = {"key": final_ref.key, **backend.describe(final_ref)}
        catalog.save(info)
    except BaseException:
        _undo_registration(catalog, operation, backend)
        raise
    _finish_registration(catalog, operation)


def abandon_registration(catalog: Catalog, backend: StorageBackend, operation: Operation, *, store_created: bool) -> None:
    """Undo a registration that failed before its commit, never masking the failure:
    a cleanup that itself fails is logged and left for the next run to retry."""
    try:
        _undo_registration(catalog, operation, backend if store_created else None)
    except Exception as exc:  # the original error is what the user must see
        log.warning("could not clean up the failed registration; the next command retries",
                    dataset=operation.name, error=str(exc))


def _committed(catalog: Catalog, operation: Operation) -> bool:
    if not (catalog.folder(operation.name) / METADATA_FILE).is_file():
        return False
    return catalog.load(operation.name).store.get("key") == operation.final_key


def _finish_registration(catalog: Catalog, operation: Operation) -> None:
    """After the commit point: drop the replaced dataset's store, remove the journal."""
    replaced = operation.file(REPLACED_DIR)
    if (replaced / METADATA_FILE).is_file():
        try:
            old = catalog.load(operation.name, replaced)
        except MetadataUnreadable:  # a broken dataset was replaced: its store, where it can be found, goes too
            _drop_broken_store(catalog, replaced, operation.name)
        else:
            _backend_of(catalog.settings, old).drop_store(catalog.store_ref(old, replaced))
    journal.discard(operation.folder)


def _undo_registration(catalog: Catalog, operation: Operation, backend: StorageBackend | None) -> None:
    """Before the commit point: drop the staged (or already moved) store, put a replaced
    dataset back, remove the journal. ``backend`` None: no store was ever created."""
    folder = catalog.folder(operation.name)
    # Uncommitted, so a dataset.yaml in the folder is the old dataset's, not yet set
    # aside: its store is not ours to drop (file engines share one file name).
    old_in_place = (folder / METADATA_FILE).is_file()
    if backend is not None:
        backend.drop_store(operation.stage_ref)
        if operation.final_key and not old_in_place:
            backend.drop_store(StoreRef(operation.final_key, folder))
    replaced = operation.file(REPLACED_DIR)
    if replaced.exists():
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(replaced, folder)
        log.warning("put back the dataset a failed --force had set aside", dataset=operation.name)
    elif folder.exists() and not old_in_place:
        shutil.rmtree(folder)
    journal.discard(operation.folder)


def _recover_registration(catalog: Catalog, operation: Operation) -> None:
    backend = backend_at(operation.backend, operation.location, catalog.settings)
    if _committed(catalog, operation):
        _finish_registration(catalog, operation)
        return
    final_ref = StoreRef(operation.final_key or "", catalog.folder(operation.name))
    pending = operation.file(PENDING_FILE)
    if operation.final_key and pending.is_file() and backend.store_exists(final_ref):
        info = catalog.load(operation.name, operation.folder, file_name=PENDING_FILE)
        info.store = {"key": final_ref.key, **backend.describe(final_ref)}
        catalog.save(info)
        log.warning("finished a registration that was interrupted after its store was in place", dataset=info.name)
        _finish_registration(catalog, operation)
        return
    _undo_registration(catalog, operation, backend)
    log.warning("undid a registration that was interrupted", dataset=operation.name)


# -- removal -----------------------------------------------------------------------------
def remove_dataset(catalog: Catalog, info: DatasetInfo) -> None:
    """Remove ``info``'s dataset (lock held by the caller). The store's engine is
    reached first, so an unreachable server changes nothing; a store already gone
    (a broken dataset) still has its metadata removed. A dataset whose metadata is
    unreadable (``info.status == "broken"``, from :meth:`Catalog.load_or_broken`) loses
    the store :func:`~mdm_core.datasets.repair.find_broken_store` finds for it, and its
    folder."""
    if info.status == "broken" and not info.tables:
        _remove_broken(catalog, info.name)
        return
    backend = _backend_of(catalog.settings, info)
    backend.store_exists(catalog.store_ref(info))  # fails here, before any change
    operation = journal.begin(catalog.root, info.name, "remove", info.backend, location=dict(info.store))
    removed = operation.file(REMOVED_DIR)
    os.replace(catalog.folder(info.name), removed)
    try:
        backend.drop_store(catalog.store_ref(info, removed))
    except BaseException:
        os.replace(removed, catalog.folder(info.name))
        journal.discard(operation.folder)
        raise
    journal.discard(operation.folder)


def _remove_broken(catalog: Catalog, name: str) -> None:
    from mdm_core.datasets.repair import find_broken_store

    found = find_broken_store(catalog.settings, catalog.folder(name), name)  # a server down fails here
    operation = journal.begin(catalog.root, name, "remove", found[0].name if found else "unknown")
    removed = operation.file(REMOVED_DIR)
    os.replace(catalog.folder(name), removed)
    _drop_found(found, removed, name)
    journal.discard(operation.folder)


def _drop_broken_store(catalog: Catalog, folder: Path, name: str) -> None:
    """Drop the store of the unreadable dataset set aside in ``folder`` (its files go with
    the folder; a server store is dropped where the damaged file names it)."""
    from mdm_core.datasets.repair import find_broken_store

    _drop_found(find_broken_store(catalog.settings, folder, name), folder, name)


def _drop_found(found: tuple[StorageBackend, StoreRef] | None, folder: Path, name: str) -> None:
    """Drop the store ``found`` for dataset ``name``, now in ``folder``; a warning when none was."""
    if found is None:
        log.warning("the removed dataset's metadata was unreadable and no store was found for it; "
                    "only its folder is removed", dataset=name)
        return
    backend, ref = found
    backend.drop_store(StoreRef(ref.key, folder))


def _recover_removal(catalog: Catalog, operation: Operation) -> None:
    removed = operation.file(REMOVED_DIR)
    if (removed / METADATA_FILE).is_file():
        try:
            info = catalog.load(operation.name, removed)
        except MetadataUnreadable:
            _drop_broken_store(catalog, removed, operation.name)
        else:
            _backend_of(catalog.settings, info).drop_store(catalog.store_ref(info, removed))
        log.warning("finished a removal that was interrupted", dataset=operation.name)
    journal.discard(operation.folder)


# -- recovery ----------------------------------------------------------------------------
_RECOVER: dict[str, Callable[[Catalog, Operation], None]] = {
    "register": _recover_registration,
    "remove": _recover_removal,
}


def recover_interrupted(catalog: Catalog, *, held: str | None = None) -> None:
    """Finish or undo every operation whose process died. Datasets another live process
    is working on are left alone; ``held`` names a dataset whose lock the caller holds
    (its folders are all abandoned: the caller has not started its own yet). A recovery
    that fails (a server down) is logged and retried by the next command."""
    for name, folders in journal.pending(catalog.root).items():
        if name == held:
            _recover_folders(catalog, folders)
            continue
        try:
            with try_dataset_lock(catalog.root, name, "recover") as locked:
                if locked:
                    _recover_folders(catalog, folders)
        except OSError as exc:  # a home this user may read but not write
            log.warning("cannot recover interrupted work here", dataset=name, error=str(exc))


def _recover_folders(catalog: Catalog, folders: list[Path]) -> None:
    for folder in folders:
        operation = journal.read(folder)
        if operation is None:  # died before writing its record: it did nothing else
            journal.discard(folder)
            continue
        recover = _RECOVER.get(operation.kind)
        if recover is None:
            log.warning("ignoring an operation of an unknown kind", folder=str(folder), kind=operation.kind)
            continue
        try:
            recover(catalog, operation)
        except (MDMError, OSError) as exc:
            log.warning("could not finish or undo an interrupted operation; will retry",
                        dataset=operation.name, operation=operation.kind, error=str(exc))


def _backend_of(settings: Settings, info: DatasetInfo) -> StorageBackend:
    return backend_at(info.backend, info.store, settings)
