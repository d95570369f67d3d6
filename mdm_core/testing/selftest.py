"""End-to-end self-test of the installed MDM: ``mdm selftest`` and
``IntegrationTestFramework().run_all_tests()``.

On generated data (:func:`mdm_core.testing.generated.generated_table`, written as a CSV
file) in a temporary home, for each backend: register (features generated), load as
pandas and as Arrow, check the feature table, export as CSV and as Parquet and read the
files back equal; then, between the backends, migrate each dataset with the storage phase
(``mdm-migrate run --phase storage --to TARGET``), validate (deep), roll back, and check
the home is as it was before the migration. Every test is timed; a failed test is one
sentence and the others still run (those that need its result say so).

The user's home is never touched: while the tests run, ``MDM_HOME_DIR`` points at the
temporary home and the caller's other ``MDM_*`` variables are set aside (restored after).
The user's settings supply only the PostgreSQL connection (``database.postgresql``);
PostgreSQL is tested when that section is configured or asked for, in schemas created for
the run, dropped at the end whatever happened.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from mdm_core.checksum import checksum_batches
from mdm_core.errors import MDMError
from mdm_core.logging import get_logger
from mdm_core.testing.generated import generated_table
from mdm_core.testing.isolation import isolated_environment, server_environment

log = get_logger(__name__)

#: Files of a home that are bookkeeping, not what a rollback restores: the migration's
#: journal and backups, SQLite's transient side files.
_BOOKKEEPING = (".migration",)
_TRANSIENT_SUFFIXES = ("-wal", "-shm", "-journal")


@attrs.frozen
class SelfTest:
    """One test: ``passed``, ``error`` (one sentence; None when passed), ``seconds``."""

    name: str
    passed: bool
    seconds: float
    error: str | None = None


@attrs.frozen
class SelfTestResult:
    """Every test run. ``failed_tests`` are the :class:`SelfTest` records that failed
    (``.name``, ``.error``)."""

    backends: tuple[str, ...]
    tests: tuple[SelfTest, ...]

    @property
    def total(self) -> int:
        return len(self.tests)

    @property
    def passed(self) -> int:
        return sum(t.passed for t in self.tests)

    @property
    def failed_tests(self) -> list[SelfTest]:
        return [t for t in self.tests if not t.passed]

    def as_dict(self) -> dict[str, Any]:
        return {"backends": list(self.backends), "passed": self.passed, "total": self.total,
                "failed_tests": [{"name": t.name, "error": t.error} for t in self.failed_tests],
                "tests": [attrs.asdict(t) for t in self.tests]}


class SelfTestFailure(Exception):
    """A check of the self-test did not hold; its message is the test's error sentence."""


class IntegrationTestFramework:
    """Run the self-test on ``backends`` (default: every installed backend, PostgreSQL when
    configured) with ``rows`` generated rows; ``settings`` (default: the user's) give the
    PostgreSQL connection."""

    def __init__(self, backends: Sequence[str] | None = None, *, rows: int = 1_000, settings: Any = None) -> None:
        self.requested = tuple(backends or ())
        self.rows = rows
        self._user_settings = settings
        self.tests: list[SelfTest] = []
        self._failed: set[str] = set()

    def run_all_tests(self) -> SelfTestResult:
        from mdm_core.config import load_settings
        from mdm_core.testing.installed import default_backends

        user = self._user_settings or load_settings().settings
        backends = self.requested or tuple(default_backends(user))
        self.tests, self._failed = [], set()
        folder = Path(tempfile.mkdtemp(prefix="mdm-selftest-"))
        try:
            with isolated_environment(folder / "home", server_environment(user)):
                self._run(folder, backends)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return SelfTestResult(tuple(backends), tuple(self.tests))

    # -- the tests -------------------------------------------------------------------------
    def _run(self, folder: Path, backends: Sequence[str]) -> None:
        import pyarrow.csv as pcsv

        from mdm_core.datasets.client import MDMClient

        (folder / "home").mkdir()
        source = folder / "selftest.csv"
        pcsv.write_csv(generated_table(self.rows), source)
        names = {b: f"selftest_{b}_{uuid.uuid4().hex[:6]}" for b in backends}
        client = MDMClient(folder / "home")
        try:
            for backend in backends:
                self._backend_tests(client, backend, names[backend], source, folder / "export" / backend)
            for src, dst in _pairs(backends):
                self._migration_tests(folder / "home", names[src], src, dst)
        finally:
            for name in names.values():  # drops every store, PostgreSQL schemas included
                with contextlib.suppress(Exception):
                    MDMClient(folder / "home").remove_dataset(name)

    def _backend_tests(self, client: Any, backend: str, name: str, source: Path, out: Path) -> None:
        import pyarrow.parquet as pq

        register = f"register ({backend})"
        self._test(register, (), lambda: _register(client, name, source, backend, self.rows))
        self._test(f"load pandas ({backend})", (register,), lambda: _load_pandas(client, name, self.rows))
        self._test(f"load arrow ({backend})", (register,), lambda: _expect_rows(client.load_arrow(name), self.rows))
        self._test(f"features ({backend})", (register,), lambda: _features(client, name, self.rows))
        self._test(f"export csv ({backend})", (register,),
                   lambda: _export(client, name, out / "csv", "csv", _read_csv))
        self._test(f"export parquet ({backend})", (register,),
                   lambda: _export(client, name, out / "parquet", "parquet", pq.read_table))

    def _migration_tests(self, home: Path, name: str, src: str, dst: str) -> None:
        from mdm_core.migration.api import DataValidator, StorageMigrator

        needs = (f"register ({src})", f"register ({dst})")
        before: dict[str, Any] = {}
        migrator = StorageMigrator([src, dst], home)
        migrate, validate = f"migrate {src} -> {dst}", f"validate {src} -> {dst}"

        def run_migration() -> None:
            before.update(_home_state(home, name))
            result = migrator.migrate_dataset(name)
            if not result.success:
                raise SelfTestFailure(f"the storage phase did not complete: {result.error}")
            moved = _dataset_state(home, name)
            if moved["backend"] != dst:
                raise SelfTestFailure(f"after the migration '{name}' is on {moved['backend']}, not {dst}.")
            if moved["content"] != before["dataset content"]:
                raise SelfTestFailure(f"'{name}' reads back different content on {dst} than on {src}.")

        def run_validation() -> None:
            report = DataValidator(home).validate_all_datasets(deep=True)
            if report.has_errors():
                raise SelfTestFailure(f"mdm-migrate validate found: {report.errors[0]}")

        def run_rollback() -> None:
            migrator.rollback_dataset(name)
            after = _home_state(home, name)
            changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
            if changed:
                raise SelfTestFailure(f"after the rollback the home differs from before the migration in: "
                                      f"{', '.join(changed[:3])}.")

        self._test(migrate, needs, run_migration)
        self._test(validate, (migrate,), run_validation)
        self._test(f"rollback {src} -> {dst}", (migrate,), run_rollback)

    def _test(self, name: str, needs: Sequence[str], action: Callable[[], None]) -> None:
        """Run ``action`` (timed) unless a test it needs failed; record the outcome."""
        missing = [n for n in needs if n in self._failed]
        started = time.perf_counter()
        error = None
        if missing:
            error = f"not run: {missing[0]} failed."
        else:
            try:
                action()
            except SelfTestFailure as exc:
                error = str(exc)
            except MDMError as exc:
                error = str(exc)
            except Exception as exc:  # an unexpected failure is reported, never fatal to the others
                log.debug("selftest error", test=name, exc_info=True)
                error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
        if error:
            self._failed.add(name)
        self.tests.append(SelfTest(name, error is None, time.perf_counter() - started, error))


# -- the checks ----------------------------------------------------------------------------
def _register(client: Any, name: str, source: Path, backend: str, rows: int) -> None:
    info = client.register_dataset(name, source, target="flag", backend=backend)
    counts = {t.name: t.row_count for t in info.tables}
    if info.backend != backend or counts.get("data") != rows:
        raise SelfTestFailure(f"'{name}' was registered on {info.backend} with {counts}, "
                              f"expected {backend} with data: {rows}.")


def _expect_rows(table: Any, rows: int) -> Any:
    if table.num_rows != rows:
        raise SelfTestFailure(f"read {table.num_rows} rows, expected {rows}.")
    return table


def _load_pandas(client: Any, name: str, rows: int) -> None:
    frame = client.load_dataset(name)
    if len(frame) != rows or list(frame.columns) != client.load_arrow(name, limit=1).column_names:
        raise SelfTestFailure(f"pandas got {len(frame)} rows of {list(frame.columns)}, expected {rows}.")


def _features(client: Any, name: str, rows: int) -> None:
    info = client.get_dataset_info(name)
    features = [t for t in info.tables if t.kind == "features"]
    if not features:
        raise SelfTestFailure(f"'{name}' has no feature table after registration.")
    for table in features:
        loaded = client.load_arrow(name, table=table.name)
        generated = len(loaded.column_names) - len(client.load_arrow(name, limit=1).column_names)
        if loaded.num_rows != rows or generated <= 0:
            raise SelfTestFailure(f"feature table '{table.name}' has {loaded.num_rows} rows and "
                                  f"{generated} generated columns, expected {rows} rows and some.")


def _read_csv(path: Path, schema: Any) -> Any:
    import pyarrow.csv as pcsv

    return pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(column_types=schema, strings_can_be_null=True))


def _export(client: Any, name: str, out: Path, fmt: str, read: Callable[..., Any]) -> None:
    files = client.export_dataset(name, out, table="data", format=fmt)
    if len(files) != 1:
        raise SelfTestFailure(f"export wrote {len(files)} files, expected 1.")
    stored = client.load_arrow(name)
    back = read(files[0], stored.schema) if fmt == "csv" else read(files[0])
    back = back.select(stored.column_names).cast(stored.schema)
    if checksum_batches(back.to_batches()) != checksum_batches(stored.to_batches()):
        raise SelfTestFailure(f"{files[0].name} reads back different from the stored table.")


def _dataset_state(home: Path, name: str) -> dict[str, Any]:
    from mdm_core.datasets.client import MDMClient

    client = MDMClient(home)
    info = client.get_dataset_info(name)
    content = {}
    with client.open_store(name) as store:
        for table in info.tables:
            content[table.name] = store.checksum(table.name)
    return {"backend": info.backend, "content": content}


def _home_state(home: Path, name: str) -> dict[str, Any]:
    """What a rollback must restore: every file of the home (outside the migration's
    bookkeeping and SQLite side files) by path, YAML by its bytes, and the dataset's
    backend and table checksums."""
    state: dict[str, Any] = {f"dataset {k}": v for k, v in _dataset_state(home, name).items()}
    for path in sorted(home.rglob("*")):
        relative = path.relative_to(home)
        if relative.parts[0] in _BOOKKEEPING or not path.is_file() or path.name.endswith(_TRANSIENT_SUFFIXES):
            continue
        state[str(relative)] = hashlib.sha256(path.read_bytes()).hexdigest() if path.suffix == ".yaml" else "file"
    return state


def _pairs(backends: Sequence[str]) -> list[tuple[str, str]]:
    """Each backend's dataset moves to the next backend (the last to the first)."""
    if len(backends) < 2:
        return []
    return [(b, backends[(i + 1) % len(backends)]) for i, b in enumerate(backends)]
