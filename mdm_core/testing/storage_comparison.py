"""Legacy vs new storage, side by side: ``mdm storage compare`` and
``StorageComparisonTester("sqlite").run_all_tests()``.

For one engine, the same generated dataset (:func:`mdm_core.testing.generated.generated_table`)
is stored in a temporary home three ways:

- **legacy**: written the way MDM 1.x wrote it (pandas ``to_sql``, by
  :mod:`mdm_plugin_legacy.write_1x`) and read through the *legacy* implementation the
  storage hook resolves to with ``use_new_storage`` off (the 1.x reader);
- **new**: written and read through the *new* implementation (``use_new_storage`` on);
- **migrated**: that 1.x dataset after the storage phase (``mdm-migrate run --phase
  storage``), read from its new store the way the catalog serves it once
  ``use_new_storage`` is on.

Each test asks two sides the same question and compares the answers: row counts, column
names and types, the full content (content checksums), each store's checksum against its
own content, filters (equality, range, IS NULL), projection and limit; first legacy vs new,
then legacy vs migrated (names prefixed ``migrated: ``). Every operation is timed per side.

Answers are compared after a normalisation that removes what the 1.x format cannot
represent, and each test lists in ``notes`` what it normalised (that is what the sides
actually differ in): integers as int64, floats as float64 with NaN as NULL (pandas stored
NaN as NULL), datetimes as microsecond timestamps (1.x SQLite kept them as text). Anything
else that differs fails the test, naming the column and the first differing row.

PostgreSQL is compared only when asked for: the legacy side is a database ``mdm_<name>``
created for the run, the new and migrated sides are schemas; all are dropped at the end.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from mdm_core.checksum import checksum_batches
from mdm_core.errors import MDMError, StorageError
from mdm_core.logging import get_logger
from mdm_core.storage import StoreRef
from mdm_core.testing.generated import DATETIME_COLUMNS, LABELS, generated_table

log = get_logger(__name__)

SIDES = ("legacy", "new")
TABLE = "data"

#: The filters every comparison runs: name -> ``where`` of :meth:`Store.read_table`.
FILTERS: dict[str, tuple[tuple[str, str, Any], ...]] = {
    "filter equality (unicode text)": (("label", "=", LABELS[2]),),
    "filter range (float)": (("score", ">=", -0.5), ("score", "<", 0.5)),
    "filter range (integer)": (("count", ">", 500_000),),
    "filter IS NULL (text)": (("label", "is null", None),),
    "filter IS NULL (datetime)": (("event time", "is null", None),),
    "filter IS NOT NULL (float with NaN)": (("value", "is not null", None),),
}


@attrs.frozen
class ComparisonTest:
    """One question asked of both sides: ``passed``, ``error`` (one sentence, None when
    passed), ``notes`` (what was normalised before comparing: the sides' real
    differences), ``seconds`` per side (``{"legacy": s, "new": s}``)."""

    name: str
    passed: bool
    error: str | None = None
    notes: tuple[str, ...] = ()
    seconds: dict[str, float] = attrs.Factory(dict)


@attrs.frozen
class ComparisonResult:
    """All tests of one backend. ``success_rate`` is the fraction passed, 0.0 to 1.0."""

    backend: str
    rows: int
    tests: tuple[ComparisonTest, ...]

    @property
    def passed(self) -> int:
        return sum(t.passed for t in self.tests)

    @property
    def failed(self) -> list[ComparisonTest]:
        return [t for t in self.tests if not t.passed]

    @property
    def success_rate(self) -> float:
        return self.passed / len(self.tests) if self.tests else 0.0

    def test(self, name: str) -> ComparisonTest:
        return next(t for t in self.tests if t.name == name)

    def as_dict(self) -> dict[str, Any]:
        return {"backend": self.backend, "rows": self.rows, "success_rate": self.success_rate,
                "passed": self.passed, "total": len(self.tests),
                "tests": [attrs.asdict(t) | {"notes": list(t.notes)} for t in self.tests]}


class StorageComparisonTester:
    """Compare the legacy and new implementations of ``backend`` on ``rows`` generated rows.

    :meth:`run_all_tests` does everything in a temporary home and removes it. The steps
    are public for callers that look in between: :meth:`setup` writes the stores and
    migrates the 1.x one (paths in :attr:`paths` for file engines), :meth:`compare` runs
    the tests, :meth:`close` removes everything. ``settings`` (default: the user's) supply
    only the PostgreSQL connection; nothing is read from or written to the user's home.
    """

    def __init__(self, backend: str = "sqlite", *, rows: int = 2_000, seed: int = 13, settings: Any = None) -> None:
        self.backend = backend
        self.rows = rows
        self.source = generated_table(rows, seed)
        self._user_settings = settings
        self.name = f"compare_{backend}_{uuid.uuid4().hex[:8]}"
        self.folder: Path | None = None
        self.paths: dict[str, Path] = {}
        self.write_seconds: dict[str, float] = {}
        self.stores: dict[str, Any] = {}
        self._settings: Any = None
        self._backends: dict[str, Any] = {}
        self._created: list[tuple[Any, StoreRef]] = []
        self._pg_conninfo: str | None = None
        self._migration: ComparisonTest | None = None

    # -- life cycle ------------------------------------------------------------------------
    def run_all_tests(self) -> ComparisonResult:
        """Set up, compare, clean up (whatever happens); a setup that fails is one failed test."""
        try:
            try:
                self.setup()
            except MDMError as exc:
                return ComparisonResult(self.backend, self.rows, (ComparisonTest("write", False, str(exc)),))
            return self.compare()
        finally:
            self.close()

    def setup(self) -> None:
        """In a new temporary home: write the generated data as 1.x did and through the new
        implementation (both timed), migrate the 1.x dataset with the storage phase, open
        the three stores."""
        from mdm_core.config import load_settings
        from mdm_core.config.settings import PathsSettings

        user = self._user_settings or load_settings().settings
        self.folder = Path(tempfile.mkdtemp(prefix="mdm-storage-compare-"))
        home = self.folder / "home"
        home.mkdir()
        self._settings = attrs.evolve(user, home=home, paths=PathsSettings())
        self._backends = {side: _implementation(self.backend, self._settings, side == "new") for side in SIDES}
        self._write_legacy(home)
        self._write_new()
        self._migrate(home, user)
        ref = StoreRef(self.name, home / "datasets" / self.name)
        legacy = self._backends["legacy"].at({"layout": "1.x", "dataset": self.name})
        self.stores["legacy"] = legacy.open_store(ref, read_only=True)

    def close(self) -> None:
        """Close the stores, drop what was created on a server, remove the temporary home."""
        for store in self.stores.values():
            _quietly(store.close)
        self.stores.clear()
        if self.backend == "postgresql":
            for backend, ref in self._created:
                _quietly(lambda b=backend, r=ref: b.drop_store(r))
        self._created.clear()
        if self._pg_conninfo is not None:
            from mdm_plugin_legacy.write_1x import drop_1x_postgres_database

            _quietly(lambda: drop_1x_postgres_database(self._pg_conninfo, self.name))
        for backend in self._backends.values():
            close = getattr(backend, "close", None)
            if callable(close):
                _quietly(close)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    # -- the writes and the migration ------------------------------------------------------
    def _write_legacy(self, home: Path) -> None:
        try:
            from mdm_plugin_legacy.write_1x import write_1x_dataset
        except ImportError:
            raise StorageError("Comparing with the legacy generation needs mdm-plugin-legacy: install it.") from None
        conninfo = None
        if self.backend == "postgresql":
            conninfo = self._pg_conninfo = _postgres_conninfo(self._settings)
        started = time.perf_counter()
        write_1x_dataset(home, self.name, self.backend, {TABLE: self.source},
                         datetime_columns=DATETIME_COLUMNS, postgres_conninfo=conninfo,
                         batch_size=self._settings.performance.batch_size)
        self.write_seconds["legacy"] = time.perf_counter() - started
        if self.backend != "postgresql":
            self.paths["legacy"] = home / "datasets" / self.name / f"{self.name}.{self.backend}"

    def _write_new(self) -> None:
        new = self._backends["new"]
        ref = StoreRef(self.name, self.folder / "new" / self.name)
        ref.folder.mkdir(parents=True)
        started = time.perf_counter()
        store = new.create_store(ref)
        self._created.append((new, ref))
        store.write_table(TABLE, self.source.schema, self.source.to_batches(max_chunksize=5_000))
        self.write_seconds["new"] = time.perf_counter() - started
        self.stores["new"] = store
        stored = new.describe(ref).get("file")
        if stored:
            self.paths["new"] = ref.folder / stored

    def _migrate(self, home: Path, user: Any) -> None:
        """The storage phase (``mdm-migrate run --phase storage``) on the 1.x dataset, then
        its new store opened as the catalog serves it once ``use_new_storage`` is on."""
        from mdm_core.config import load_settings
        from mdm_core.migration.api import StorageMigrator
        from mdm_core.testing.isolation import isolated_environment, server_environment

        name = "storage phase (mdm-migrate)"
        started = time.perf_counter()
        with isolated_environment(home, server_environment(user)):
            result = StorageMigrator(home=home).migrate_dataset(self.name)
            seconds = {"migrated": time.perf_counter() - started}
            if not result.success:
                self._migration = ComparisonTest(name, False, f"the storage phase failed: {result.error}",
                                                 seconds=seconds)
                return
            backend, ref, info = served_store(load_settings(home, fresh=True).settings, self.name)
        self._created.append((backend, ref))
        self.stores["migrated"] = backend.open_store(ref, read_only=True)
        if info.store.get("file"):
            self.paths["migrated"] = ref.folder / info.store["file"]
        self._migration = ComparisonTest(name, True, seconds=seconds)

    # -- the tests -------------------------------------------------------------------------
    def compare(self) -> ComparisonResult:
        """Run every test on the stores :meth:`setup` wrote: legacy vs new, then (after the
        storage phase's own test) legacy vs migrated, those names prefixed ``migrated: ``."""
        tests = [ComparisonTest("write", True, seconds=dict(self.write_seconds)), *self._questions("new")]
        if self._migration is not None:
            tests.append(self._migration)
            if self._migration.passed:
                tests.extend(self._questions("migrated", prefix="migrated: "))
        return ComparisonResult(self.backend, self.rows, tuple(tests))

    def _questions(self, other: str, prefix: str = "") -> list[ComparisonTest]:
        pair = ("legacy", other)
        tests = [
            self._run(f"{prefix}row count", pair, lambda s: s.row_count(TABLE), _same_count),
            self._run(f"{prefix}columns and types", pair, lambda s: s.table_schema(TABLE), _same_schema),
            self._run(f"{prefix}full content (checksum)", pair, _read, _same_content),
            self._run(f"{prefix}store checksum", pair, lambda s: (s.checksum(TABLE), _read(s)), _own_checksum),
        ]
        for name, where in FILTERS.items():
            tests.append(self._run(f"{prefix}{name}", pair, lambda s, w=where: _read(s, where=w),
                                   lambda a, n, w=where: _same_content(a, n, where=w)))
        tests.append(self._run(f"{prefix}projection", pair, lambda s: _read(s, columns=["label", "id"]),
                               _same_content))
        tests.append(self._run(f"{prefix}projection with limit", pair,
                               lambda s: _read(s, columns=["id", "label"], limit=100), self._limited))
        return tests

    def _run(self, name: str, pair: tuple[str, str], ask: Callable[[Any], Any],
             check: Callable[[dict[str, Any], list[str]], str | None]) -> ComparisonTest:
        return ask_pair(name, self.stores, pair, ask, check)

    def _limited(self, answers: dict[str, pa.Table], notes: list[str]) -> str | None:
        """Limited reads may return different rows: each must hold ``limit`` rows, the
        projected columns in order, and only rows of the source (matched by id)."""
        target = list(answers.values())[1].schema
        source = _normalised(self.source.select(["id", "label"]), target, [])
        expected = dict(zip(source["id"].to_pylist(), source["label"].to_pylist(), strict=True))
        for side, answer in answers.items():
            table = _normalised(answer, target, [])
            if table.num_rows != 100 or table.column_names != ["id", "label"]:
                return (f"the {side} side returned {table.num_rows} rows of {table.column_names}, "
                        "not 100 of ['id', 'label'].")
            wrong = [i for i, label in zip(table["id"].to_pylist(), table["label"].to_pylist(), strict=True)
                     if expected.get(i, object()) != label]
            if wrong:
                return f"the {side} side returned rows that are not in the data (ids {wrong[:3]})."
        return None


# -- helpers -------------------------------------------------------------------------------
def ask_pair(name: str, stores: dict[str, Any], pair: tuple[str, str], ask: Callable[[Any], Any],
             check: Callable[[dict[str, Any], list[str]], str | None]) -> ComparisonTest:
    """Ask the stores of both sides of ``pair`` (timed); ``check`` gets their answers
    (legacy first) and returns the problem (None: same), adding notes."""
    answers: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    for side in pair:
        started = time.perf_counter()
        try:
            answers[side] = ask(stores[side])
        except MDMError as exc:
            return ComparisonTest(name, False, f"the {side} side failed: {exc}", seconds=seconds)
        finally:
            seconds[side] = time.perf_counter() - started
    notes: list[str] = []
    problem = check(answers, notes)
    return ComparisonTest(name, problem is None, problem, tuple(notes), seconds)


def served_store(settings: Any, name: str) -> tuple[Any, StoreRef, Any]:
    """(backend, ref, info) of dataset ``name`` as the catalog of ``settings`` serves it
    with ``use_new_storage`` on (how a migrated store is read); nothing opened yet."""
    from mdm_core.backends import backend_at
    from mdm_core.datasets.catalog import open_catalog

    settings = attrs.evolve(settings, flags=attrs.evolve(settings.flags, use_new_storage=True))
    catalog = open_catalog(settings)
    info = catalog.load(name)
    return backend_at(info.backend, info.store, settings), catalog.store_ref(info), info


def _implementation(name: str, settings: Any, new: bool) -> Any:
    """The backend the storage hook resolves ``name`` to with ``use_new_storage`` = ``new``."""
    from mdm_core.flags import Flags, choose
    from mdm_core.plugins import get_plugin_manager

    generation = "new" if new else "legacy"
    choice = choose("storage", name, get_plugin_manager().implementations("storage"), Flags(use_new_storage=new))
    if choice.winner.generation != generation:
        raise StorageError(f"No {generation} implementation of the {name} backend is installed "
                           f"(only {choice.plugin}); `mdm plugins list` shows what is.")
    return choice.winner.factory(settings)


def _postgres_conninfo(settings: Any) -> str:
    """The configured server as a libpq conninfo (the new backend's own reading of the settings)."""
    try:
        from mdm_plugin_postgresql.connection import Target
    except ImportError:
        raise StorageError("Comparing PostgreSQL needs mdm-plugin-postgresql: install it.") from None
    return Target.from_settings(settings.database.postgresql, timeout=5).conninfo


def _read(store: Any, table: str = TABLE, **kwargs: Any) -> pa.Table:
    return store.read_table(table, **kwargs).read_all()


def _same_count(answers: dict[str, int], notes: list[str]) -> str | None:
    (a, first), (b, second) = answers.items()
    if first != second:
        return f"{a} counts {first} rows, {b} {second}."
    return None


def _same_schema(answers: dict[str, pa.Schema], notes: list[str]) -> str | None:
    (a, theirs), (b, ours) = answers.items()
    if theirs.names != ours.names:
        return f"the column names differ: {a} {theirs.names}, {b} {ours.names}."
    for field in ours:
        other = theirs.field(field.name).type
        if other != field.type:
            notes.append(f"'{field.name}': {a} {other}, {b} {field.type}")
        if _kind(other, field.type) != _kind(field.type, field.type):
            return (f"column '{field.name}' is {other} on {a} and {field.type} on {b}, "
                    "which no normalisation makes equal.")
    return None


def _same_content(answers: dict[str, pa.Table], notes: list[str],
                  where: Sequence[tuple[str, str, Any]] = ()) -> str | None:
    """Equal content after normalisation; with ``where``, the filter is applied again to
    the normalised rows (a NaN one side kept is NULL for the filter too)."""
    target = list(answers.values())[1].schema
    normal = {}
    for side, answer in answers.items():
        side_notes: list[str] = []
        table = _normalised(answer, target, side_notes)
        if where:
            kept = _refiltered(table, where)
            if kept.num_rows != table.num_rows:
                side_notes.append(f"{table.num_rows - kept.num_rows} row(s) matched only because "
                                  "of NaN, which the legacy format stores as NULL")
            table = kept
        notes.extend(f"{side}: {note}" for note in side_notes)
        normal[side] = table
    (a, first), (b, second) = normal.items()
    if checksum_batches(first.to_batches()) == checksum_batches(second.to_batches()):
        return None
    return _difference(a, first, b, second)


def _own_checksum(answers: dict[str, tuple[str, pa.Table]], notes: list[str]) -> str | None:
    """Each side's ``checksum`` must be the checksum of what that side reads."""
    for side, (stored, table) in answers.items():
        if stored != checksum_batches(table.to_batches()):
            return f"the {side} store's checksum {stored} is not that of its own content."
    return None


def _kind(typ: pa.DataType, other: pa.DataType) -> str:
    if pa.types.is_integer(typ):
        return "integer"
    if pa.types.is_floating(typ):
        return "float"
    if pa.types.is_timestamp(typ) or (pa.types.is_string(typ) and pa.types.is_timestamp(other)):
        return "datetime"
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        return "text"
    return str(typ)


def _normalised(table: pa.Table, target: pa.Schema, notes: list[str]) -> pa.Table:
    """``table`` with integers as int64, floats as float64 with NaN as NULL, timestamps (and
    text where ``target`` has a timestamp) as ``timestamp[us]``; ``notes`` gets what changed."""
    columns = []
    for field in table.schema:
        column = table[field.name]
        wanted = target.field(field.name).type if field.name in target.names else field.type
        if pa.types.is_integer(field.type):
            column = pc.cast(column, pa.int64())
        elif pa.types.is_floating(field.type):
            column = pc.cast(column, pa.float64())
            nans = pc.sum(pc.is_nan(column)).as_py() or 0
            if nans:
                notes.append(f"'{field.name}': {nans} NaN compared as NULL")
            column = pc.if_else(pc.is_nan(column), pa.scalar(None, pa.float64()), column)
        elif pa.types.is_string(field.type) and pa.types.is_timestamp(wanted):
            column = pc.cast(column, pa.timestamp("us"))
            notes.append(f"'{field.name}': text parsed as timestamps")
        elif pa.types.is_timestamp(field.type):
            column = pc.cast(column, pa.timestamp("us"))
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def _refiltered(table: pa.Table, where: Sequence[tuple[str, str, Any]]) -> pa.Table:
    """The rows of ``table`` that satisfy ``where`` (SQL semantics: NULL never matches a comparison)."""
    functions = {"=": pc.equal, "!=": pc.not_equal, "<": pc.less, "<=": pc.less_equal,
                 ">": pc.greater, ">=": pc.greater_equal}
    mask = pa.array([True] * table.num_rows)
    for column, op, value in where:
        if op == "is null":
            term = pc.is_null(table[column])
        elif op == "is not null":
            term = pc.is_valid(table[column])
        else:
            term = pc.fill_null(functions[op](table[column], value), False)
        mask = pc.and_(mask, term)
    return table.filter(mask)


def _difference(a: str, first: pa.Table, b: str, second: pa.Table) -> str:
    if first.num_rows != second.num_rows:
        return f"{a} returns {first.num_rows} rows, {b} {second.num_rows}."
    if first.column_names != second.column_names:
        return f"{a} returns columns {first.column_names}, {b} {second.column_names}."
    keys = [c for c in ("id",) if c in second.column_names] or second.column_names
    first, second = (t.sort_by([(k, "ascending") for k in keys]) for t in (first, second))
    for name in second.column_names:
        theirs, ours = first[name].to_pylist(), second[name].to_pylist()
        rows = [i for i, (x, y) in enumerate(zip(theirs, ours, strict=True)) if x != y]
        if rows:
            row = rows[0]
            return (f"column '{name}' differs in {len(rows)} row(s), first at {keys[0]}="
                    f"{second[keys[0]][row].as_py()!r}: {a} {theirs[row]!r}, {b} {ours[row]!r}.")
    return "the contents differ (same rows after sorting, different multiplicities)."


def _quietly(action: Callable[[], Any]) -> None:
    try:
        action()
    except Exception as exc:  # cleanup must go on; the reason is logged
        log.warning("storage compare cleanup step failed", error=str(exc))

