"""Doctor checks of the datasets: each one's metadata parses, its store exists, the row
counts stored agree with the metadata's, and with ``deep`` every table reads in full.

Nothing is repaired or recovered here (the dataset client finishes interrupted work on
first use; the doctor only looks)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import attrs

from mdm_core.datasets.catalog import METADATA_FILE
from mdm_core.health.model import Check, fail, ok, warn
from mdm_core.secrets import mask

DATASETS = "datasets"


@attrs.define
class DatasetsFound:
    """The rows of the dataset checks and the backends the readable datasets use."""

    checks: list[Check] = attrs.Factory(list)
    backends: set[str] = attrs.Factory(set)


def check_datasets(settings: Any, *, deep: bool = False) -> DatasetsFound:
    """One row per dataset (and per dataset folder holding a store but no metadata)."""
    from mdm_core.datasets.catalog import open_catalog
    from mdm_core.errors import MDMError

    found = DatasetsFound()
    catalog = open_catalog(settings)
    backends: dict[str, Any] = {}
    names = catalog.names()
    for name in names:
        try:
            info = catalog.load(name)
        except MDMError as exc:
            found.checks.append(fail(DATASETS, f"dataset {name}", mask(exc), f"mdm dataset repair {name}"))
            continue
        found.backends.add(info.backend)
        found.checks.append(_check_dataset(catalog, info, backends, deep))
    found.checks += [fail(DATASETS, f"dataset {folder.name}", f"{folder} holds a store but no {METADATA_FILE}.",
                          f"mdm dataset repair {folder.name}") for folder in orphan_folders(settings, set(names))]
    if not found.checks:
        found.checks.append(ok(DATASETS, "datasets", "No dataset registered."))
    for backend in backends.values():
        close = getattr(backend, "close", None)
        if callable(close):
            close()
    return found


def orphan_folders(settings: Any, names: set[str]) -> list[Path]:
    """Dataset folders without metadata that hold a file store of an installed backend
    (work in progress under ``.staging`` excluded: recovery owns those)."""
    from mdm_core.datasets.journal import pending

    root = settings.datasets_dir
    if not root.is_dir():
        return []
    stores = store_file_names(settings)
    busy = set(pending(root))
    return [p for p in sorted(root.iterdir())
            if p.is_dir() and not p.name.startswith(".") and p.name not in names and p.name not in busy
            and not (p / METADATA_FILE).exists() and any((p / f).is_file() for f in stores)]


def store_file_names(settings: Any) -> set[str]:
    """The file names the installed file engines keep a store in (``dataset.sqlite``, ...)."""
    from mdm_core.migration.readiness import SERVER_BACKENDS
    from mdm_core.plugins import get_plugin_manager

    names = set()
    for _, impl in get_plugin_manager().implementations("storage"):
        if impl.generation == "new" and impl.name not in SERVER_BACKENDS:
            file_name = getattr(impl.factory(settings), "file_name", None)
            if isinstance(file_name, str):
                names.add(file_name)
    return names


def _check_dataset(catalog: Any, info: Any, backends: dict[str, Any], deep: bool) -> Check:
    """The row of one dataset whose metadata parses (its store opened read-only; a
    server gets :data:`~mdm_core.health.checks_storage.DOCTOR_CONNECT_TIMEOUT` seconds
    to answer whether the store exists, reading then takes what it takes)."""
    from mdm_core.backends import backend_at, get_backend
    from mdm_core.errors import MDMError
    from mdm_core.health.checks_storage import DOCTOR_CONNECT_TIMEOUT, with_connect_timeout
    from mdm_core.migration.readiness import probe_within

    name = f"dataset {info.name}"
    check_backend = f"Check the {info.backend} backend (mdm storage test --backend {info.backend})."
    if info.status != "ok":
        problem = info.problems[-1] if info.problems else info.status
        return fail(DATASETS, name, mask(problem), f"mdm-migrate check (or mdm dataset remove {info.name})")
    try:
        if info.backend not in backends:
            backends[info.backend] = get_backend(info.backend, with_connect_timeout(catalog.settings))
        backend = backend_at(info.backend, info.store, catalog.settings, base=backends[info.backend])
        ref = catalog.store_ref(info)
        exists: list[bool] = []
        error = probe_within(DOCTOR_CONNECT_TIMEOUT + 2, lambda: exists.append(backend.store_exists(ref)))
        if error is not None:
            return fail(DATASETS, name, f"its store cannot be reached: {mask(error)}", check_backend)
        if not exists[0]:
            return fail(DATASETS, name, f"its {info.backend} store is missing.",
                        f"mdm dataset remove {info.name}, then register it again "
                        f"(or `mdm restore ARCHIVE {info.name} --force` from a backup of it).")
        with backend.open_store(ref, read_only=True) as store:
            problems = _compare(info, store, deep)
    except MDMError as exc:
        return fail(DATASETS, name, mask(exc), check_backend)
    if problems:
        return fail(DATASETS, name, "; ".join(problems) + ".", _register_again(info, catalog.settings.home))
    if info.incomplete_tables:
        return warn(DATASETS, name, f"MDM 1.x feature table(s) {', '.join(info.incomplete_tables)} are short of "
                    "rows and not served.", "mdm-migrate run (its features phase regenerates them)")
    rows = sum(t.row_count for t in info.data_tables)
    what = "read in full" if deep else "row counts agree"
    tables = f"{len(info.tables)} table{'s' if len(info.tables) != 1 else ''}"
    return ok(DATASETS, name, f"{info.backend}, {tables}, {rows:,} rows; {what}.")


def _compare(info: Any, store: Any, deep: bool) -> list[str]:
    """What differs between the metadata's tables and the store (and, with ``deep``,
    which tables fail to read in full)."""
    stored = set(store.list_tables())
    problems = []
    for table in info.tables:
        if table.name in info.incomplete_tables:
            continue
        if table.name not in stored:
            problems.append(f"table {table.name} is missing from the store")
            continue
        count = store.row_count(table.name)
        if count != table.row_count:
            problems.append(f"table {table.name} has {count:,} rows stored, {table.row_count:,} recorded")
        elif deep:
            try:
                store.checksum(table.name)  # reads every row of every column
            except Exception as exc:  # an engine's read error is the finding
                problems.append(f"table {table.name} cannot be read in full: {type(exc).__name__}: {exc}")
    return problems


def _register_again(info: Any, home: Path) -> str:
    from mdm_core.datasets.models import source_location

    source = source_location(info.source, home)
    if source is not None:
        return f"mdm dataset register {info.name} {shlex.quote(str(source))} --force"
    return f"mdm dataset remove {info.name}, then register it again"
