"""Benchmark: feature cost per column on wide tables (100, 1,000, 10,000 numeric columns).

Two measurements, each run in its own subprocess and repeated ``--runs`` times (medians):

- **engine**: the chosen feature engine's ``fit`` plus ``transform`` on an in-memory table
  of N float columns (no storage at all), in seconds per column;
- **registration**: ``MDMClient().register_dataset`` of a CSV of N float columns on each
  backend, with and without features (runs alternate); the feature seconds are the
  difference of the medians, shown per column. A case a backend cannot hold (SQLite
  stores at most 2,000 columns per table, and the feature table holds the source columns
  plus the features) is reported as such.

Each size is done for 5 rows and for ``--rows`` rows (default 1,000). The last line per
series is the ratio of the per-column cost at the widest size to the narrowest (flat
cost: about 1).

    python benchmarks/bench_wide_features.py [--runs 3] [--columns 100 1000 10000]
        [--rows 1000] [--backends sqlite duckdb] [--engine new|legacy] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ENGINE_RUN = """
import json, sys, tempfile, time
from pathlib import Path
import numpy as np, pyarrow as pa
import pandas  # noqa: F401  (imported before timing: a one-off cost, not a per-column one)
from mdm_core.config import load_settings
from mdm_core.features.discovery import select_engine
from mdm_core.features.contract import FitContext, SourceColumn
columns, rows, engine_name = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(1)
table = pa.table({f"c{i}": rng.normal(size=rows).round(3) for i in range(columns)})
settings = load_settings(Path(tempfile.mkdtemp())).settings
_, engine = select_engine(settings, engine_name)
context = FitContext(table="t", columns=tuple(SourceColumn(n, "numeric") for n in table.column_names),
                     head=table.slice(0, 1000), row_count=rows)
batches = table.to_batches(max_chunksize=settings.performance.batch_size)
start = time.perf_counter()
state = engine.fit(iter(batches), context)
for batch in batches:
    engine.transform(state, batch)
print(json.dumps({"seconds": time.perf_counter() - start, "features": len(state.names)}))
"""

REGISTER_RUN = """
import json, sys, time
import pandas  # noqa: F401
from mdm_core.datasets.client import MDMClient
from mdm_core.errors import MDMError
start = time.perf_counter()
try:
    info = MDMClient().register_dataset("wide", sys.argv[1], backend=sys.argv[2],
                                        generate_features=sys.argv[3] == "1", force=True)
except MDMError as exc:  # the backend's limits: reported, not a failure of the benchmark
    if "at most" not in str(exc):
        raise
    print(json.dumps({"error": str(exc)}))
    raise SystemExit(0)
seconds = time.perf_counter() - start
features = [t for t in info.tables if t.kind == "features"]
print(json.dumps({"seconds": seconds, "feature_table_columns": max((len(t.columns) for t in features), default=0)}))
"""


def write_csv(path: Path, columns: int, rows: int) -> Path:
    """``rows`` rows of ``columns`` float columns ``c0..`` (fixed seed)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(1)
    table = pa.table({f"c{i}": rng.normal(size=rows).round(3) for i in range(columns)})
    pacsv.write_csv(table, path)
    return path


def _child(code: str, args: list[str], env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MDM_")}
    env.update(extra)
    return env


def engine_series(sizes: list[int], rows: int, runs: int, engine: str) -> list[dict]:
    series = []
    for columns in sizes:
        samples = [_child(ENGINE_RUN, [str(columns), str(rows), engine], _clean_env()) for _ in range(runs)]
        seconds = statistics.median(s["seconds"] for s in samples)
        series.append({"columns": columns, "rows": rows, "median_seconds": round(seconds, 3),
                       "seconds": [round(s["seconds"], 3) for s in samples],
                       "ms_per_column": round(seconds / columns * 1000, 3), "features": samples[0]["features"]})
    return series


def registration_series(sizes: list[int], rows: int, runs: int, backend: str, engine: str, work: Path) -> list[dict]:
    series = []
    for columns in sizes:
        csv = write_csv(work / f"wide_{columns}x{rows}.csv", columns, rows)
        samples: dict[bool, list[dict]] = {False: [], True: []}
        for _ in range(runs):
            for features in (False, True):
                home = tempfile.mkdtemp(dir=work)
                env = _clean_env(MDM_HOME_DIR=home, MDM_FLAGS_USE_NEW_FEATURES="1" if engine == "new" else "0")
                samples[features].append(_child(REGISTER_RUN, [str(csv), backend, "1" if features else "0"], env))
        failed = next((s["error"] for s in samples[True] + samples[False] if "error" in s), None)
        if failed:
            series.append({"columns": columns, "rows": rows, "does_not_fit": failed})
            continue
        without = statistics.median(s["seconds"] for s in samples[False])
        with_features = statistics.median(s["seconds"] for s in samples[True])
        series.append({
            "columns": columns, "rows": rows,
            "without_features_seconds": round(without, 3), "with_features_seconds": round(with_features, 3),
            "feature_seconds": round(with_features - without, 3),
            "ms_per_column": round((with_features - without) / columns * 1000, 3),
            "feature_table_columns": samples[True][0]["feature_table_columns"],
        })
        csv.unlink()
    return series


def ratio(series: list[dict]) -> float | None:
    """Per-column cost at the widest measured size over the narrowest."""
    measured = [s for s in series if "ms_per_column" in s]
    if len(measured) < 2 or measured[0]["ms_per_column"] <= 0:
        return None
    return round(measured[-1]["ms_per_column"] / measured[0]["ms_per_column"], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--columns", type=int, nargs="+", default=[100, 1_000, 10_000])
    parser.add_argument("--rows", type=int, default=1_000)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "duckdb"])
    parser.add_argument("--engine", choices=["new", "legacy"], default="new")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    results: dict = {"engine": args.engine, "runs": args.runs, "series": []}
    with tempfile.TemporaryDirectory(prefix="mdm-bench-wide-") as tmp:
        work = Path(tmp)
        for rows in (5, args.rows):
            series = engine_series(args.columns, rows, args.runs, args.engine)
            results["series"].append({"what": "engine fit+transform", "rows": rows, "sizes": series, "ratio": ratio(series)})
            for backend in args.backends:
                series = registration_series(args.columns, rows, args.runs, backend, args.engine, work)
                results["series"].append({"what": f"registration features on {backend}", "rows": rows,
                                          "sizes": series, "ratio": ratio(series)})
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for entry in results["series"]:
        print(f"{entry['what']}, {entry['rows']} rows:")
        for size in entry["sizes"]:
            if "does_not_fit" in size:
                print(f"  {size['columns']:>6} columns: does not fit ({size['does_not_fit']})")
            elif "feature_seconds" in size:
                print(f"  {size['columns']:>6} columns: features {size['feature_seconds']:7.2f}s "
                      f"({size['ms_per_column']:.3f} ms/column; registration {size['without_features_seconds']:.2f}s "
                      f"without, {size['with_features_seconds']:.2f}s with; feature table {size['feature_table_columns']} columns)")
            else:
                print(f"  {size['columns']:>6} columns: {size['median_seconds']:7.2f}s "
                      f"({size['ms_per_column']:.3f} ms/column, {size['features']} features; runs {size['seconds']})")
        print(f"  ratio widest/narrowest per column: {entry['ratio']}")


if __name__ == "__main__":
    main()
