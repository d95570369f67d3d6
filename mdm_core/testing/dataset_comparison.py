"""Legacy vs new storage on one of the user's datasets: ``mdm storage compare --dataset NAME``
and ``DatasetComparisonTester("penguins").run_all_tests()``.

What the two sides are depends on the dataset (``case`` in the result):

- ``1.x``, not migrated yet: **legacy** is its 1.x database read in place by the 1.x reader
  (read-only); **migrated** is a copy of the dataset (its 1.x YAML and folder) in a
  temporary 1.x home after the storage phase (``mdm-migrate run --phase storage``), read
  as the catalog serves it. A PostgreSQL 1.x dataset is refused: copying it means writing
  to the server.
- ``migrated``: **legacy** is the 1.x original the migration keeps until ``mdm-migrate
  cleanup``, read by the 1.x reader; **migrated** is its new store as the catalog serves
  it. After cleanup there is nothing left to compare (an error saying so).
- ``new layout`` (registered by this MDM): both sides read the same store, with
  ``use_new_storage`` off and on. The legacy storage plugin passes new-layout stores to the
  new implementation, so ``same_implementation`` is True: agreement there proves nothing
  about the 1.x reader.

Every table the legacy side serves is compared with the questions of
:mod:`mdm_core.testing.storage_comparison` (same helpers, same normalisation and notes):
row count, columns and types, full content, each store's own checksum, a projection of the
first two columns, those columns with a limit of 100 rows, and IS NOT NULL on the first
column holding a NULL on the legacy side (when one does). Every store of the user's
home is opened read-only; the temporary home is removed at the end.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa

from mdm_core.errors import StorageError
from mdm_core.testing.storage_comparison import (
    ComparisonResult,
    ComparisonTest,
    _implementation,
    _normalised,
    _own_checksum,
    _quietly,
    _read,
    _same_content,
    _same_count,
    _same_schema,
    ask_pair,
    served_store,
)

LIMIT = 100
CASES = ("1.x", "migrated", "new layout")


@attrs.frozen
class DatasetComparisonResult(ComparisonResult):
    """The tests of one dataset (``rows``: the legacy side's rows over all tables);
    ``case`` is one of :data:`CASES`, ``sides`` says what each side read,
    ``same_implementation`` is True when both sides ran the same storage code."""

    dataset: str = ""
    case: str = ""
    sides: dict[str, str] = attrs.Factory(dict)
    same_implementation: bool = False

    def as_dict(self) -> dict[str, Any]:
        return super().as_dict() | {"dataset": self.dataset, "case": self.case, "sides": dict(self.sides),
                                    "same_implementation": self.same_implementation}


class DatasetComparisonTester:
    """Compare the legacy and the new storage on dataset ``name`` of the user's home (see
    the module doc). ``backend``: for a 1.x dataset not yet migrated, the engine the copy
    migrates to (``--to``; default its own); otherwise it must be the dataset's engine.
    :meth:`setup` opens the two stores (``paths`` holds their files for file engines),
    :meth:`compare` runs the tests, :meth:`close` closes them and removes the temporary
    home. MDMError from :meth:`setup` (unknown name, nothing left to compare...) is one
    sentence for the user."""

    def __init__(self, name: str, backend: str | None = None, *, settings: Any = None) -> None:
        self.requested = name
        self.backend = backend
        self._user_settings = settings
        self.name = name
        self.case = ""
        self.sides: dict[str, str] = {}
        self.stores: dict[str, Any] = {}
        self.paths: dict[str, Path] = {}
        self.folder: Path | None = None
        self.engine = ""
        #: legacy table -> the table of the other side holding its storage-phase copy (a
        #: feature table the features phase regenerated keeps that copy as ``<table>__1x``)
        self.renamed: dict[str, str] = {}
        self._backends: list[Any] = []
        self._setup_tests: list[ComparisonTest] = []

    # -- life cycle ------------------------------------------------------------------------
    def run_all_tests(self) -> DatasetComparisonResult:
        """Set up, compare, clean up (whatever happens)."""
        try:
            self.setup()
            return self.compare()
        finally:
            self.close()

    def setup(self) -> None:
        """Find the dataset, decide its case, open both sides read-only."""
        from mdm_core.config import load_settings
        from mdm_core.datasets.catalog import open_catalog

        user = self._user_settings or load_settings().settings
        legacy_view = attrs.evolve(user, flags=attrs.evolve(user.flags, use_new_dataset=False, use_new_storage=False))
        info = open_catalog(legacy_view).load(self.requested)
        self.name, self.engine = info.name, info.backend
        if info.store.get("layout") == "1.x":
            self._setup_1x(user, info)
        elif self.name in _migrated_names(user.home):
            self._setup_migrated(user)
        else:
            self._setup_new_layout(user, info)

    def close(self) -> None:
        """Close the stores and backends, remove the temporary home."""
        for store in self.stores.values():
            _quietly(store.close)
        self.stores.clear()
        for backend in self._backends:
            close = getattr(backend, "close", None)
            if callable(close):
                _quietly(close)
        self._backends.clear()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    # -- the three cases -------------------------------------------------------------------
    def _setup_1x(self, user: Any, info: Any) -> None:
        if info.store.get("engine", info.backend) == "postgresql":
            raise StorageError(f"Dataset '{self.name}' is an MDM 1.x PostgreSQL dataset, which cannot be copied "
                               "without writing to your server: compare it after `mdm-migrate run` instead.")
        self.case = "1.x"
        self._open_legacy(user)
        self.folder = Path(tempfile.mkdtemp(prefix="mdm-storage-compare-"))
        home = _copy_1x(user.home, self.name, self.folder / "home")
        self._setup_tests.append(self._migrate_copy(home, user))

    def _setup_migrated(self, user: Any) -> None:
        self.case = "migrated"
        self._check_backend()
        if not _original_kept(user.home, self.name):
            raise StorageError(f"Dataset '{self.name}' was migrated and `mdm-migrate cleanup` removed its MDM 1.x "
                               "original, so there is nothing left to compare its new store with.")
        self._open_legacy(user)
        self._open_served("migrated", user, "its new store, as the catalog serves it")
        self.renamed = _regenerated(user.home, self.name)

    def _setup_new_layout(self, user: Any, info: Any) -> None:
        from mdm_core.datasets.catalog import open_catalog

        self.case = "new layout"
        self._check_backend()
        catalog = open_catalog(user)
        for side, new in (("legacy", False), ("new", True)):
            backend = _implementation(info.backend, user, new).at(info.store)
            self._backends.append(backend)
            self.stores[side] = backend.open_store(catalog.store_ref(info), read_only=True)
            self.sides[side] = f"its store read with use_new_storage {'on' if new else 'off'}"
            self._remember_file(side, catalog.store_ref(info).folder, info.store)

    # -- the sides -------------------------------------------------------------------------
    def _open_legacy(self, user: Any) -> None:
        """The 1.x database of the user's dataset, read in place by the 1.x reader."""
        from mdm_core.storage import StoreRef

        backend = _implementation(self.engine, user, False).at({"layout": "1.x", "dataset": self.name})
        self._backends.append(backend)
        self.stores["legacy"] = backend.open_store(StoreRef(self.name, user.datasets_dir / self.name),
                                                   read_only=True)
        self.sides["legacy"] = "its MDM 1.x database, read in place by the 1.x reader"

    def _open_served(self, side: str, settings: Any, description: str) -> None:
        backend, ref, info = served_store(settings, self.name)
        self._backends.append(backend)
        self.stores[side] = backend.open_store(ref, read_only=True)
        self.sides[side] = description
        self._remember_file(side, ref.folder, info.store)

    def _remember_file(self, side: str, folder: Path, store: dict[str, Any]) -> None:
        if store.get("file"):
            self.paths[side] = folder / store["file"]

    def _migrate_copy(self, home: Path, user: Any) -> ComparisonTest:
        """The storage phase on the copy, timed; opens its new store as ``migrated``."""
        from mdm_core.config import load_settings
        from mdm_core.migration.api import StorageMigrator
        from mdm_core.testing.isolation import isolated_environment, server_environment

        name = "storage phase (mdm-migrate, on a copy)"
        target = self.backend or self.engine
        started = time.perf_counter()
        with isolated_environment(home, server_environment(user)):
            result = StorageMigrator([self.engine, target], home=home).migrate_dataset(self.name)
            seconds = {"migrated": time.perf_counter() - started}
            if not result.success:
                raise StorageError(f"The storage phase failed on the copy of '{self.name}': {result.error}")
            self._open_served("migrated", load_settings(home, fresh=True).settings,
                              f"a copy in a temporary home after the storage phase (to {target}), as the "
                              "catalog serves it")
        return ComparisonTest(name, True, seconds=seconds)

    def _check_backend(self) -> None:
        if self.backend not in (None, self.engine):
            raise StorageError(f"Dataset '{self.name}' is stored on {self.engine}, not {self.backend}: "
                               f"leave out --backend or name {self.engine}.")

    # -- the tests -------------------------------------------------------------------------
    def compare(self) -> DatasetComparisonResult:
        """Every question on every table the legacy side serves, named ``TABLE: question``."""
        legacy, other = self.stores["legacy"], next(s for s in self.stores if s != "legacy")
        pair = ("legacy", other)
        tables = legacy.list_tables()
        present = set(self.stores[other].list_tables())
        tests = [*self._setup_tests, ask_pair("tables", self.stores, pair, lambda s: s.list_tables(),
                                              lambda a, n: _same_tables(a, n, self.renamed))]
        rows = 0
        for table in tables:
            if self.renamed.get(table, table) in present:
                tests.extend(self._questions(table, pair))
                rows += legacy.row_count(table)
        return DatasetComparisonResult(self.engine, rows, tuple(tests), dataset=self.name, case=self.case,
                                       sides=dict(self.sides), same_implementation=self.case == "new layout")

    def _questions(self, table: str, pair: tuple[str, str]) -> list[ComparisonTest]:
        """The questions on ``table`` (``renamed`` on the other side), named ``table: question``."""
        first_two = self.stores["legacy"].table_schema(table).names[:2]
        names = {"legacy": table, pair[1]: self.renamed.get(table, table)}

        def run(question: str, ask: Any, check: Any) -> ComparisonTest:
            stores = {side: _Table(self.stores[side], names[side]) for side in pair}
            return ask_pair(f"{table}: {question}", stores, pair, ask, check)

        tests = [
            run("row count", lambda t: t.store.row_count(t.name), _same_count),
            run("columns and types", lambda t: t.store.table_schema(t.name), _same_schema),
            run("full content (checksum)", lambda t: _read(t.store, t.name), _same_content),
            run("store checksum", lambda t: (t.store.checksum(t.name), _read(t.store, t.name)), _own_checksum),
            run("projection", lambda t: _read(t.store, t.name, columns=first_two), _same_content),
            run(f"projection with limit {LIMIT}",
                lambda t: (_read(t.store, t.name, columns=first_two, limit=LIMIT),
                           _read(t.store, t.name, columns=first_two)),
                _limited_rows_exist),
        ]
        legacy = _read(self.stores["legacy"], table)
        holding_null = next((c for c in legacy.column_names if legacy[c].null_count), None)
        if holding_null is not None:
            where = ((holding_null, "is not null", None),)
            tests.append(run(f"filter IS NOT NULL ('{holding_null}')", lambda t: _read(t.store, t.name, where=where),
                             lambda answers, notes: _same_content(answers, notes, where=where)))
        return tests


@attrs.frozen
class _Table:
    """One side's table: its store and the table's name there."""

    store: Any
    name: str


# -- helpers -------------------------------------------------------------------------------
def _migrated_names(home: Path) -> set[str]:
    """Datasets of ``home`` the legacy migration steps worked on (the journal; reads only)."""
    from mdm_core.migration.journal import load_journal

    try:
        from mdm_plugin_legacy.migration_1x import migrated_names
    except ImportError:
        return set()
    return migrated_names(load_journal(home))


def _regenerated(home: Path, name: str) -> dict[str, str]:
    """Feature tables of migrated dataset ``name`` the features phase regenerated -> the
    table holding the storage phase's copy of the 1.x one (from the journal; reads only)."""
    from mdm_plugin_legacy.migration_1x import FEATURES_STEP

    from mdm_core.migration.journal import DONE, load_journal

    return {u.table: u.created["previous"] for u in load_journal(home).units.values()
            if u.step == FEATURES_STEP and u.dataset == name and u.state == DONE and u.table
            and u.created.get("previous")}


def _original_kept(home: Path, name: str) -> bool:
    """True while the 1.x original of migrated dataset ``name`` is readable (until cleanup)."""
    from mdm_plugin_legacy.catalog_1x import find_dataset

    record = find_dataset(home, name, inspect=True)
    return record is not None and record.ok and record.location is not None and record.location.found


def _copy_1x(home: Path, name: str, target: Path) -> Path:
    """A new 1.x home at ``target`` holding only dataset ``name`` of ``home``: its 1.x YAML
    and its folder (no ``mdm.yaml``: the copy must not point at the user's paths)."""
    from mdm_plugin_legacy.catalog_1x import find_dataset

    record = find_dataset(home, name, inspect=False)
    if record is None or record.folder is None or not record.folder.is_dir():
        raise StorageError(f"MDM 1.x dataset '{name}' has no dataset folder to copy: check `mdm dataset info {name}`.")
    shutil.copytree(record.folder, target / "datasets" / name)
    if record.yaml_path is not None and record.yaml_path.is_file():
        (target / "config" / "datasets").mkdir(parents=True)
        shutil.copy2(record.yaml_path, target / "config" / "datasets" / f"{name}.yaml")
    return target


def _same_tables(answers: dict[str, list[str]], notes: list[str], renamed: dict[str, str]) -> str | None:
    """The other side serves every table of the legacy side (``renamed``: under that name)."""
    (a, theirs), (b, ours) = answers.items()
    missing = sorted(t for t in theirs if renamed.get(t, t) not in ours)
    if missing:
        return f"{b} lacks table(s) {missing} that {a} serves."
    notes.extend(f"'{t}' was regenerated by the features phase: compared with the storage phase's copy "
                 f"'{copy}'" for t, copy in sorted(renamed.items()))
    extra = sorted(set(ours) - set(theirs) - set(renamed.values()))
    if extra:
        notes.append(f"only on {b}: {extra}")
    return None


def _limited_rows_exist(answers: dict[str, tuple[pa.Table, pa.Table]], notes: list[str]) -> str | None:
    """Limited reads may return different rows: each side must return min(limit, rows)
    rows of the projected columns, every one of them a row of the other side's data."""
    (a, (limited_a, full_a)), (b, (limited_b, full_b)) = answers.items()
    target = full_b.schema
    rows = {side: _normalised(full, target, []).to_pylist() for side, full in ((a, full_a), (b, full_b))}
    keys = {side: {tuple(r.values()) for r in found} for side, found in rows.items()}
    for side, limited, other in ((a, limited_a, b), (b, limited_b, a)):
        expected = min(LIMIT, len(rows[side]))
        if limited.num_rows != expected or limited.column_names != target.names:
            return (f"the {side} side returned {limited.num_rows} rows of {limited.column_names}, "
                    f"not {expected} of {target.names}.")
        stray = [r for r in _normalised(limited, target, []).to_pylist() if tuple(r.values()) not in keys[other]]
        if stray:
            return f"the {side} side returned rows the {other} side does not hold (first: {stray[0]})."
    return None

