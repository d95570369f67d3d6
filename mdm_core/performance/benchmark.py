"""The benchmark: how fast MDM moves rows on this machine, per backend and operation.

:meth:`PerformanceBenchmark.run` generates a table (:mod:`mdm_core.performance.data`),
writes it as CSV and, for each installed and reachable backend, times the operations a
user runs: ``ingest`` (registration through :class:`MDMClient`, no features), ``read``
(the whole table streamed), ``filter`` (a WHERE on one column, every row scanned),
``checksum`` (the content checksum), ``export`` (Parquet) and ``features`` (feature
generation). :meth:`PerformanceBenchmark.compare_implementations` times the legacy and the
new generation of the implementations (the flags) on a file of the user's.

Everything happens in a temporary home (removed after, its datasets first, so a server
backend keeps nothing): the user's datasets are never touched. The temporary home keeps
the user's settings (where the server is, batch sizes, feature settings) except its
paths and flags. Each result's ``rows`` is what the operation itself reports.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from mdm_core.config.settings import PathsSettings, Settings
from mdm_core.errors import StorageError
from mdm_core.flags import Flags
from mdm_core.logging import get_logger

log = get_logger(__name__)

OPERATIONS = ("ingest", "read", "filter", "checksum", "export", "features")
COMPARED_OPERATIONS = ("register", "load", "filter", "export", "features")
#: Rows of a full run (about a minute for the three backends on a 2-core machine) and of --quick.
DEFAULT_ROWS = 500_000
QUICK_ROWS = 20_000
#: The benchmark's filter, on the generated table (matches about a fifth of the rows).
FILTER = ("region", "=", "north")
DATASET = "benchmark"
#: Rows of the untimed registration that first loads each backend's driver and the feature engine.
WARM_UP_ROWS = 200
BACKEND_ORDER = ("sqlite", "duckdb", "postgresql")


@attrs.frozen
class Timing:
    """``rows`` handled by one operation in ``seconds``; ``extra`` holds what else it
    reported (the filter's ``matched`` rows, an ``implementation``)."""

    rows: int
    seconds: float
    extra: dict[str, Any] = attrs.Factory(dict)

    @property
    def rows_per_second(self) -> float | None:
        return round(self.rows / self.seconds, 1) if self.seconds > 0 else None

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "seconds": self.seconds, "rows_per_second": self.rows_per_second, **self.extra}


@contextmanager
def timed() -> Iterator[list[float]]:
    """Yields a list that holds the block's wall seconds (rounded to µs) once it ends."""
    box: list[float] = []
    start = time.perf_counter()
    yield box
    box.append(round(time.perf_counter() - start, 6))


@contextmanager
def temporary_home(base: Settings, flags: Flags | None = None) -> Iterator[Settings]:
    """Settings of a fresh home in a temporary folder (removed after): ``base``'s settings
    with the default paths (inside that home) and ``flags`` (default: the new generation)."""
    with tempfile.TemporaryDirectory(prefix="mdm-benchmark-") as folder:
        home = Path(folder) / "home"
        home.mkdir()
        yield attrs.evolve(base, home=home, paths=PathsSettings(), flags=flags or Flags())


def machine() -> dict[str, Any]:
    import psutil

    return {
        "cores": os.cpu_count(),
        "memory_bytes": psutil.virtual_memory().total,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def warm_up(client: Any, backend: str, csv: Path) -> None:
    """Register ``csv`` with features on ``backend`` and remove it, untimed: the first use
    of a backend or an engine imports its modules and driver, which no timing should hold."""
    name = f"warm_up_{backend}"
    client.register_dataset(name, csv, backend=backend, target="label")
    client.remove_dataset(name)


class PerformanceBenchmark:
    """Benchmarks of this MDM on this machine; ``settings`` default to the user's home's
    (see :func:`temporary_home` for what is kept), ``rows`` is the size of the
    generated table, ``on_timing(backend, operation, timing)`` hears each result."""

    def __init__(self, settings: Settings | None = None, rows: int = DEFAULT_ROWS, seed: int | None = None,
                 on_timing: Callable[[str, str, Timing], None] | None = None) -> None:
        from mdm_core.performance.data import DEFAULT_SEED

        if settings is None:
            from mdm_core.config import load_settings

            settings = load_settings().settings
        if rows < 1:
            raise StorageError(f"The benchmark needs at least one row, not {rows}; pass --rows 1 or more.")
        self.settings = settings
        self.rows = rows
        self.seed = DEFAULT_SEED if seed is None else seed
        self.on_timing = on_timing or (lambda backend, operation, timing: None)

    # -- which backends --------------------------------------------------------------------
    def backends(self, only: str | None = None) -> tuple[list[str], dict[str, str]]:
        """The backends to measure and the ones left out with why (not reachable). With
        ``only``, just that one; StorageError when it is not installed or not reachable."""
        from mdm_core.plugins import get_plugin_manager

        installed = {impl.name for _, impl in get_plugin_manager().implementations("storage")}
        if only is not None and only not in installed:
            raise StorageError(f"No storage backend '{only}' is installed (installed: {', '.join(sorted(installed))}).")
        names = [only] if only else sorted(installed, key=lambda n: (BACKEND_ORDER + (n,)).index(n))
        chosen, skipped = [], {}
        for name in names:
            problem = self._unhealthy(name)
            if problem is None:
                chosen.append(name)
            elif only:
                raise StorageError(f"Backend '{name}' is not usable: {problem}; check `mdm storage health`.")
            else:
                skipped[name] = problem
        return chosen, skipped

    def _unhealthy(self, name: str) -> str | None:
        from mdm_core.backends import get_backend
        from mdm_core.errors import MDMError

        try:
            report = get_backend(name, self.settings).health_check()
        except MDMError as exc:
            return str(exc)
        if report.ok:
            return None
        return str(report.details.get("error") or "its health check failed")

    # -- the benchmark ---------------------------------------------------------------------
    def run(self, backend: str | None = None) -> dict[str, Any]:
        """Measure every operation on each backend (or just ``backend``); the JSON report:
        ``rows``, ``seed``, ``backends`` (backend -> operation -> ``rows``, ``seconds``,
        ``rows_per_second``), ``skipped`` (backend -> why) and ``summary``."""
        from mdm_core.datasets.client import MDMClient
        from mdm_core.performance.data import write_csv

        started = time.perf_counter()
        names, skipped = self.backends(backend)
        results: dict[str, dict[str, Timing]] = {}
        with temporary_home(self.settings) as settings:
            csv = write_csv(settings.home / f"{DATASET}.csv", self.rows, self.seed)
            small = write_csv(settings.home / "warm_up.csv", min(WARM_UP_ROWS, self.rows), self.seed)
            client = MDMClient(settings=settings)
            for name in names:
                warm_up(client, name, small)
                results[name] = self._measure(client, name, csv, settings.home / "export")
        fastest = {
            op: max(results, key=lambda n: results[n][op].rows_per_second or 0.0) for op in OPERATIONS
        } if results else {}
        return {
            "rows": self.rows,
            "seed": self.seed,
            "backends": {n: {op: t.as_dict() for op, t in ops.items()} for n, ops in results.items()},
            "skipped": skipped,
            "summary": {
                "fastest": fastest,
                "backend_seconds": {n: round(sum(t.seconds for t in ops.values()), 3) for n, ops in results.items()},
                "total_seconds": round(time.perf_counter() - started, 3),
                "machine": machine(),
            },
        }

    def _measure(self, client: Any, backend: str, csv: Path, out: Path) -> dict[str, Timing]:
        timings: dict[str, Timing] = {}

        def record(operation: str, timing: Timing) -> None:
            timings[operation] = timing
            self.on_timing(backend, operation, timing)

        name = f"{DATASET}_{backend}"
        with timed() as seconds:
            info = client.register_dataset(name, csv, backend=backend, target="label", generate_features=False)
        record("ingest", Timing(info.table("data").row_count, seconds[0]))
        try:
            with timed() as seconds:
                rows = sum(batch.num_rows for batch in client.iter_batches(name))
            record("read", Timing(rows, seconds[0]))
            with client.open_store(name) as store:
                with timed() as seconds:
                    matched = sum(b.num_rows for b in store.read_table("data", where=[FILTER], columns=["id"]))
                record("filter", Timing(rows, seconds[0], {"matched": matched}))
                with timed() as seconds:
                    store.checksum("data")
                record("checksum", Timing(store.row_count("data"), seconds[0]))
            with timed() as seconds:
                result = client.export_dataset_result(name, out, format="parquet", include_features=False)
            record("export", Timing(sum(f.rows for f in result.files), seconds[0]))
            with timed() as seconds:
                info = client.regenerate_features(name)
            features = info.table("data_features")
            record("features", Timing(features.row_count, seconds[0], {"columns": len(features.columns)}))
        finally:
            client.remove_dataset(name)
        return timings

    # -- legacy vs new ---------------------------------------------------------------------
    def compare_implementations(self, test_dataset: str | Path, backend: str | None = None,
                                rounds: int = 2) -> dict[str, Any]:
        """Register ``test_dataset`` (a file or folder MDM registers) with the legacy and
        the new generation of the flag-selected implementations (``use_new_storage``,
        ``use_new_dataset``, ``use_new_features``), each in a temporary home, and time
        register, load, filter, export and features (the best of ``rounds`` alternating
        rounds). Per operation: both timings, the ``speedup`` (legacy seconds / new seconds:
        above 1 the new one is faster) and ``same_implementation`` (the same code did the
        work in both generations)."""
        from mdm_core.performance.compare import compare

        path = Path(test_dataset).expanduser()
        backend = backend or self.settings.database.default_backend
        self.backends(backend)  # installed and reachable, or a clear error
        return compare(self.settings, path, backend, self.on_timing, rounds)
