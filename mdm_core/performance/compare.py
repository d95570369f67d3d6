"""Legacy vs new generation on one file: the work behind
:meth:`mdm_core.performance.benchmark.PerformanceBenchmark.compare_implementations`.

Each generation runs in its own temporary home with its flags, ``rounds`` times in turn
(legacy, new, legacy, new, ...); each operation keeps its fastest round, so the cost of
a first use (imports, cold file cache) falls on no generation. Besides the timings, each
operation names the code that did the work (the class of the store that served it, the
catalog's writer, the feature engine), so the report says where the two generations
really differ: the legacy storage and catalog serve datasets in the new layout through the
new implementation (they differ only for MDM 1.x databases read in place), so only
``features`` runs different code on a file registered today.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from mdm_core.config.settings import Settings
from mdm_core.flags import Flags
from mdm_core.performance.benchmark import (
    COMPARED_OPERATIONS,
    Timing,
    machine,
    temporary_home,
    timed,
)

#: The flags of each generation (``use_new_config`` and ``use_new_cli`` choose nothing timed here).
GENERATIONS = {
    "legacy": Flags(use_new_storage=False, use_new_dataset=False, use_new_features=False),
    "new": Flags(use_new_storage=True, use_new_dataset=True, use_new_features=True),
}
DATASET = "compare"


def compare(base: Settings, path: Path, backend: str,
            on_timing: Callable[[str, str, Timing], None], rounds: int = 2) -> dict[str, Any]:
    """See ``PerformanceBenchmark.compare_implementations``; ``on_timing(generation,
    operation, timing)`` hears each result of each round."""
    runs: dict[str, dict[str, Timing]] = {g: {} for g in GENERATIONS}
    for _ in range(rounds):
        for generation, flags in GENERATIONS.items():
            with temporary_home(base, flags) as settings:
                timings = _run_generation(settings, path, backend, lambda op, t, g=generation: on_timing(g, op, t))
            for op, timing in timings.items():
                best = runs[generation].get(op)
                runs[generation][op] = timing if best is None or timing.seconds < best.seconds else best
    operations = {}
    for op in COMPARED_OPERATIONS:
        legacy, new = runs["legacy"][op], runs["new"][op]
        operations[op] = {
            "legacy": legacy.as_dict(),
            "new": new.as_dict(),
            "speedup": round(legacy.seconds / new.seconds, 3) if new.seconds > 0 else None,
            "same_implementation": legacy.extra["implementation"] == new.extra["implementation"],
        }
    totals = {g: round(sum(t.seconds for t in ops.values()), 6) for g, ops in runs.items()}
    return {
        "dataset": str(path),
        "backend": backend,
        "operations": operations,
        "summary": {
            "rounds": rounds,
            "legacy_seconds": totals["legacy"],
            "new_seconds": totals["new"],
            "speedup": round(totals["legacy"] / totals["new"], 3) if totals["new"] > 0 else None,
            "differing_operations": [op for op, r in operations.items() if not r["same_implementation"]],
            "flags": {g: attrs.asdict(f) for g, f in GENERATIONS.items()},
            "selected": {g: _selected(attrs.evolve(base, flags=f), backend) for g, f in GENERATIONS.items()},
            "machine": machine(),
        },
    }


def _run_generation(settings: Settings, path: Path, backend: str,
                    record: Callable[[str, Timing], None]) -> dict[str, Timing]:
    from mdm_core.datasets.client import MDMClient
    from mdm_core.features.discovery import select_engine

    client = MDMClient(settings=settings)
    timings: dict[str, Timing] = {}

    def done(operation: str, timing: Timing) -> None:
        timings[operation] = timing
        record(operation, timing)

    with timed() as seconds:
        info = client.register_dataset(DATASET, path, backend=backend, generate_features=False)
    table = info.default_table
    rows = info.table(table).row_count
    try:
        with client.open_store(DATASET) as store:
            store_class = _qualname(type(store))
            column = store.table_schema(table).names[0]
            first = store.read_table(table, columns=[column], limit=1).read_all().column(0)[0].as_py()
        writer = _qualname(type(client.catalog).save)
        done("register", Timing(rows, seconds[0], {"implementation": f"{store_class}; catalog {writer}"}))
        with timed() as seconds:
            frame = client.load_dataset(DATASET)
        done("load", Timing(len(frame), seconds[0], {"implementation": store_class}))
        condition = (column, "is null", None) if first is None else (column, "=", first)
        with client.open_store(DATASET) as store, timed() as seconds:
            matched = sum(b.num_rows for b in store.read_table(table, columns=[column], where=[condition]))
        done("filter", Timing(rows, seconds[0], {"matched": matched, "implementation": store_class}))
        with timed() as seconds:
            result = client.export_dataset_result(DATASET, settings.home / "export", format="parquet",
                                                  include_features=False)
        done("export", Timing(sum(f.rows for f in result.files), seconds[0], {"implementation": store_class}))
        choice, engine = select_engine(settings)
        with timed() as seconds:
            info = client.regenerate_features(DATASET)
        featured = sum(t.row_count for t in info.tables if t.kind != "data")
        done("features", Timing(featured, seconds[0], {"implementation": f"{choice.plugin}: {_qualname(type(engine))}"}))
    finally:
        client.remove_dataset(DATASET)
    return timings


def _selected(settings: Settings, backend: str) -> dict[str, str]:
    """The plugin the flags select for each hook family timed here (``plugin (generation)``)."""
    from mdm_core.features.discovery import default_engine_name
    from mdm_core.flags import choose
    from mdm_core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    picks = {"storage": backend, "catalog": "home", "features": default_engine_name(settings)}
    chosen = {kind: choose(kind, name, manager.implementations(kind), settings.flags) for kind, name in picks.items()}
    return {kind: f"{c.plugin} ({c.winner.generation})" for kind, c in chosen.items()}


def _qualname(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"
