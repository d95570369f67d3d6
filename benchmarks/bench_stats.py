"""Peak memory and time of ``mdm dataset stats --extended`` on NYC flights and on the same
table repeated 4x (1,347,104 rows), per backend.

Target (issue 11): stats are streamed, so the 4x table stays within the memory of the 1x
one (its distinct values are the same; only they are kept). Prints both peaks and their
ratio, next to the peak of only reading the table (the backend's own share: SQLite's
memory-mapped file pages count in RSS) and the peak of the Arrow heap during stats;
exits 1 if a 4x stats peak exceeds 1.25x its 1x peak.
"""

from __future__ import annotations

import os
import shutil
import sys

from bench_sqlite import repeated
from common import REGISTER, flights_csv, measure, temp_dir

BACKENDS = os.environ.get("MDM_BENCH_BACKENDS", "sqlite,duckdb").split(",")

STATS = """
from mdm_core.datasets.client import MDMClient
start = time.perf_counter()
stats = MDMClient().get_statistics({name!r}, extended=True)
import pyarrow as pa
result = {{"seconds": time.perf_counter() - start, "rows": stats["rows"],
          "arrow_mb": pa.default_memory_pool().max_memory() / 2**20}}
"""

READ = """
from mdm_core.datasets.client import MDMClient
start = time.perf_counter()
rows = sum(b.num_rows for b in MDMClient().iter_batches({name!r}))
result = {{"seconds": time.perf_counter() - start, "rows": rows}}
"""


def main() -> int:
    work = temp_dir()
    csv = flights_csv(work)
    big = repeated(csv, 4)
    env = {**os.environ, "MDM_HOME_DIR": str(work / "home")}
    ok = True
    print("mdm dataset stats --extended (all 19 columns), one run each, peak RSS of the process")
    for backend in BACKENDS:
        peaks = []
        for name, path in ((f"flights_{backend}", csv), (f"flights_x4_{backend}", big)):
            measure(REGISTER.format(name=name, csv=str(path), backend=backend), env)
            result = measure(STATS.format(name=name), env)
            read = measure(READ.format(name=name), env)
            peaks.append(result["peak_rss_mb"])
            print(f"  {backend:10} {result['rows']:>9,} rows: {result['seconds']:6.2f} s  peak {result['peak_rss_mb']:.0f} MB"
                  f"  (reading alone: {read['seconds']:.2f} s, peak {read['peak_rss_mb']:.0f} MB;"
                  f" Arrow heap peak of stats {result['arrow_mb']:.0f} MB)")
        growth = peaks[1] / peaks[0]
        ok = ok and growth <= 1.25
        print(f"  {backend:10} peak growth x4 table: {growth:.2f}x (target: within the 1x peak, <= 1.25x)")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
