"""Metadata-only operations on datasets: update, search, sort, sizes.

Pure functions over :class:`DatasetInfo` (and a dataset's folder for its size): no store
is opened and no data stack (pyarrow, pandas, drivers) is imported. The client and the
CLI wrap them; the update's lock and atomic save live in :func:`update_dataset`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from mdm_core.datasets.models import DatasetInfo, normalize_problem_type
from mdm_core.errors import DatasetError

if TYPE_CHECKING:
    from mdm_core.datasets.catalog import Catalog

#: What ``update`` may change, as keyword arguments of :func:`apply_update`.
UPDATE_FIELDS = ("description", "target", "problem_type", "id_columns", "time_column", "group_column",
                 "add_tags", "remove_tags", "tags")
SORT_KEYS = ("name", "rows", "size", "registered")


@attrs.frozen
class UpdateResult:
    """The updated metadata, which fields changed, and whether its feature tables are
    now stale (the target or ID columns changed and feature tables exist)."""

    info: DatasetInfo
    changed: tuple[str, ...]
    features_stale: bool


def _clean_tags(tags: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if tag and tag not in seen:
            seen.append(tag)
    return seen


def apply_update(info: DatasetInfo, now: str | None = None, **changes) -> UpdateResult:
    """``info`` with ``changes`` applied (a new object; ``info`` is untouched).

    ``target``/``time_column``/``group_column``: a column of the main table, or ``""`` to
    clear it; ``id_columns``: columns of the main table (empty clears); ``problem_type``:
    any spelling :func:`normalize_problem_type` accepts (``""`` clears); ``tags`` replaces
    the tags, then ``add_tags`` are added and ``remove_tags`` removed. Changes given as
    ``None`` are not changes. Raises DatasetError (one sentence) for a column the main
    table lacks, an unknown problem type, or no change given at all.
    """
    unknown = sorted(set(changes) - set(UPDATE_FIELDS))
    if unknown:
        raise DatasetError(f"Cannot update {', '.join(unknown)} of dataset '{info.name}'; "
                           f"updatable: {', '.join(UPDATE_FIELDS)}.")
    given = {k: v for k, v in changes.items() if v is not None}
    if not given:
        raise DatasetError(f"Nothing to update for dataset '{info.name}': give at least one of "
                           "--description, --target, --problem-type, --id-columns, --time-column, "
                           "--group-column, --tags, --add-tags, --remove-tags.")
    main = info.table(info.default_table)
    columns = [c.name for c in main.columns]

    def column(option: str, value: str) -> str | None:
        value = value.strip()
        if value and value not in columns:
            raise DatasetError(f"Column '{value}' (--{option}) is not a column of table '{main.name}' of dataset "
                               f"'{info.name}' (columns: {', '.join(columns)}).")
        return value or None

    new: dict = {}
    if "description" in given:
        new["description"] = given["description"]
    if "target" in given:
        new["target_column"] = column("target", given["target"])
    if "time_column" in given:
        new["time_column"] = column("time-column", given["time_column"])
    if "group_column" in given:
        new["group_column"] = column("group-column", given["group_column"])
    if "id_columns" in given:
        ids = [c.strip() for c in given["id_columns"] if c.strip()]
        missing = [c for c in ids if c not in columns]
        if missing:
            raise DatasetError(f"ID column(s) {', '.join(repr(c) for c in missing)} (--id-columns) not in table "
                               f"'{main.name}' of dataset '{info.name}' (columns: {', '.join(columns)}).")
        new["id_columns"] = list(dict.fromkeys(ids))
    if "problem_type" in given:
        new["problem_type"] = normalize_problem_type(given["problem_type"]) if given["problem_type"].strip() else None
    if {"tags", "add_tags", "remove_tags"} & set(given):
        tags = _clean_tags(given["tags"]) if "tags" in given else list(info.tags)
        tags = _clean_tags([*tags, *given.get("add_tags", ())])
        removed = {t.strip() for t in given.get("remove_tags", ())}
        new["tags"] = [t for t in tags if t not in removed]

    changed = tuple(k for k, v in new.items() if getattr(info, k) != v)
    updated = attrs.evolve(info, **new, last_updated_at=now or datetime.now(UTC).isoformat(timespec="seconds"))
    has_features = any(t.kind == "features" for t in info.tables)
    stale = has_features and bool({"target_column", "id_columns"} & set(changed))
    return UpdateResult(updated, changed, stale)


def writable_info(catalog: Catalog, name: str) -> DatasetInfo:
    """The metadata of ``name`` when MDM may change the dataset; DatasetError for an
    earlier MDM's dataset (read-only until migrated)."""
    info = catalog.load(name)
    if info.legacy:
        raise DatasetError(f"Dataset '{info.name}' is an MDM 1.x dataset, read-only until migrated "
                           "(mdm-migrate plan shows how); the migration regenerates its features.")
    return info


def update_dataset(catalog: Catalog, name: str, writable: Callable[[str], DatasetInfo] | None = None,
                   **changes) -> UpdateResult:
    """Apply ``changes`` to dataset ``name`` under its lock and save ``dataset.yaml``
    atomically; ``writable(name)`` (default :func:`writable_info`) loads the metadata,
    refusing a read-only dataset. A refused change leaves the file untouched."""
    from mdm_core.datasets.locks import dataset_lock

    load = writable or (lambda n: writable_info(catalog, n))
    normalized = load(name).name
    with dataset_lock(catalog.root, normalized, "update"):
        recover_pending(catalog, held=normalized)
        result = apply_update(load(normalized), **changes)
        catalog.save(result.info)
    return result


# -- search, sort, sizes ------------------------------------------------------------------
def data_rows(info: DatasetInfo) -> int:
    """Rows of the dataset's data tables (feature tables not counted)."""
    return sum(t.row_count for t in info.data_tables)


def folder_size(folder: Path) -> int:
    """Bytes of every file under ``folder`` (0 when it does not exist)."""
    if not folder.is_dir():
        return 0
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
        except OSError:
            continue
    return total


def _matches(info: DatasetInfo, pattern: str) -> bool:
    fields = [info.name, info.display_name or "", info.description or ""]
    needle = pattern.lower()
    if any(ch in pattern for ch in "*?["):
        return any(fnmatch.fnmatchcase(f.lower(), needle) for f in fields)
    return any(needle in f.lower() for f in fields)


def search(
    infos: Iterable[DatasetInfo],
    pattern: str | None = None,
    tags: Sequence[str] = (),
    problem_type: str | None = None,
    backend: str | None = None,
    min_rows: int | None = None,
    max_rows: int | None = None,
) -> list[DatasetInfo]:
    """The datasets matching every filter given. ``pattern``: case-insensitive substring of
    the name, display name or description, or a glob (``*?[``) over any of them; ``tags``:
    each one present (case-insensitive); ``problem_type``: any accepted spelling;
    ``min_rows``/``max_rows``: data-table rows at least/at most this many."""
    wanted_type = normalize_problem_type(problem_type) if problem_type else None
    wanted_tags = {t.strip().lower() for t in tags if t.strip()}
    found = []
    for info in infos:
        if pattern and not _matches(info, pattern):
            continue
        if wanted_tags and not wanted_tags <= {t.lower() for t in info.tags}:
            continue
        if wanted_type and info.problem_type != wanted_type:
            continue
        if backend and info.backend != backend.strip().lower():
            continue
        if min_rows is not None and data_rows(info) < min_rows:
            continue
        if max_rows is not None and data_rows(info) > max_rows:
            continue
        found.append(info)
    return found


def sort_datasets(
    infos: Sequence[DatasetInfo],
    sort_by: str = "name",
    reverse: bool = False,
    size_of: Callable[[DatasetInfo], int] | None = None,
) -> list[DatasetInfo]:
    """``infos`` ordered by ``sort_by`` (``name``, ``rows``, ``size``: ``size_of(info)``
    bytes, ``registered``); ties by name."""
    if sort_by not in SORT_KEYS:
        raise DatasetError(f"Cannot sort by {sort_by!r}; use one of: {', '.join(SORT_KEYS)}.")
    if sort_by == "size" and size_of is None:
        raise DatasetError("Sorting by size needs the dataset folders' sizes.")
    keys: dict[str, Callable[[DatasetInfo], object]] = {
        "name": lambda i: i.name,
        "rows": data_rows,
        "size": lambda i: size_of(i),  # type: ignore[misc]
        "registered": lambda i: i.registered_at or "",
    }
    ordered = sorted(infos, key=lambda i: i.name)
    return sorted(ordered, key=keys[sort_by], reverse=reverse)


# -- a catalog for metadata-only commands ----------------------------------------------------
#: ``mdm_core.datasets.journal.STAGING_DIR``, not imported: the journal imports the data stack.
_STAGING_DIR = ".staging"


def metadata_catalog(settings=None) -> Catalog:
    """The home's catalog for commands that read metadata only (``list``, ``search``,
    ``info``): no store opened, no pyarrow/pandas imported. Interrupted work is finished or
    undone first, as the client does, importing the machinery for it only when there is any."""
    from mdm_core.config import load_settings
    from mdm_core.datasets.catalog import open_catalog

    catalog = open_catalog(settings or load_settings().settings)
    recover_pending(catalog)
    return catalog


def recover_pending(catalog: Catalog, *, held: str | None = None) -> None:
    """:func:`mdm_core.datasets.handover.recover_interrupted`, imported (with the data
    stack) only when the staging folder holds interrupted work."""
    staging = catalog.root / _STAGING_DIR
    if staging.is_dir() and any(staging.iterdir()):
        from mdm_core.datasets.handover import recover_interrupted

        recover_interrupted(catalog, held=held)
