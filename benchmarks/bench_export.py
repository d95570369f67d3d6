"""Peak memory and time of ``mdm dataset export`` on NYC flights and on the same table
repeated 4x (1,347,104 rows), per backend and file format.

Target (issue 11): export is streamed batch by batch, so the 4x table stays within the
memory of the 1x one. Prints both peaks and their ratio; exits 1 if a 4x peak exceeds
1.25x its 1x peak. The Arrow heap peak is printed too: the process RSS has a floor of
the interpreter, the data stack and the engine's own pages.
"""

from __future__ import annotations

import os
import shutil
import sys

from bench_sqlite import repeated
from common import REGISTER, flights_csv, measure, temp_dir

BACKENDS = os.environ.get("MDM_BENCH_BACKENDS", "sqlite,duckdb").split(",")
FORMATS = os.environ.get("MDM_BENCH_FORMATS", "csv,parquet,jsonl").split(",")

EXPORT = """
from mdm_core.datasets.client import MDMClient
start = time.perf_counter()
done = MDMClient().export_dataset_result({name!r}, {out!r}, format={fmt!r})
import pyarrow as pa
result = {{"seconds": time.perf_counter() - start, "rows": sum(f.rows for f in done.files),
          "mb": sum(f.bytes for f in done.files) / 2**20, "arrow_mb": pa.default_memory_pool().max_memory() / 2**20}}
"""


def main() -> int:
    work = temp_dir()
    csv = flights_csv(work)
    big = repeated(csv, 4)
    env = {**os.environ, "MDM_HOME_DIR": str(work / "home")}
    ok = True
    print("mdm dataset export (all 19 columns), one run each, peak RSS of the process")
    for backend in BACKENDS:
        names = []
        for name, path in ((f"flights_{backend}", csv), (f"flights_x4_{backend}", big)):
            measure(REGISTER.format(name=name, csv=str(path), backend=backend), env)
            names.append(name)
        for fmt in FORMATS:
            peaks = []
            for name in names:
                result = measure(EXPORT.format(name=name, out=str(work / "out" / name), fmt=fmt), env)
                peaks.append(result["peak_rss_mb"])
                print(f"  {backend:10} {fmt:8} {result['rows']:>9,} rows: {result['seconds']:6.2f} s"
                      f"  peak {result['peak_rss_mb']:.0f} MB (Arrow heap peak {result['arrow_mb']:.0f} MB)"
                      f"  file {result['mb']:.0f} MB")
            growth = peaks[1] / peaks[0]
            ok = ok and growth <= 1.25
            print(f"  {backend:10} {fmt:8} peak growth x4 table: {growth:.2f}x (target: <= 1.25x)")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
