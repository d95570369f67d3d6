"""Registration into SQLite vs a raw Arrow bulk ingest of the same file (same run).

Target (issue 2): registering the NYC flights CSV without features takes at most 3x
``pyarrow.csv.read_csv`` + ADBC ``adbc_ingest`` into a fresh SQLite file. Prints medians,
the ratio and each side's peak memory; exits 1 if the target is missed.
"""

from __future__ import annotations

import os
import sys

from common import flights_csv, median_of, temp_dir

RUNS = int(os.environ.get("MDM_BENCH_RUNS", "5"))

NATIVE = """
import pyarrow.csv as pacsv, adbc_driver_sqlite.dbapi as adbc, os
path = {db!r}
if os.path.exists(path): os.remove(path)
start = time.perf_counter()
table = pacsv.read_csv({csv!r})
con = adbc.connect(path, autocommit=True)
with con.cursor() as cur:
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("BEGIN")
    cur.adbc_ingest("data", table, mode="create")
    cur.execute("COMMIT")
con.close()
result = {{"seconds": time.perf_counter() - start, "rows": table.num_rows}}
"""

MDM = """
from mdm_core.datasets.client import MDMClient
client = MDMClient()
start = time.perf_counter()
info = client.register_dataset("flights", {csv!r}, target="arr_delay", generate_features=False, force=True)
result = {{"seconds": time.perf_counter() - start, "rows": info.table("data").row_count}}
"""


def main() -> int:
    work = temp_dir()
    csv = str(flights_csv(work))
    env = {**os.environ, "MDM_HOME_DIR": str(work / "home")}
    native = median_of(RUNS, NATIVE.format(db=str(work / "native.sqlite"), csv=csv))
    mdm = median_of(RUNS, MDM.format(csv=csv), env)
    ratio = mdm["seconds"] / native["seconds"]
    print(f"NYC flights, 336,776 rows, {RUNS} runs each (median)")
    print(f"  raw Arrow read_csv + adbc_ingest : {native['seconds']:.2f} s  {native['all_seconds']}  peak {native['peak_rss_mb']:.0f} MB")
    print(f"  mdm dataset register (sqlite)    : {mdm['seconds']:.2f} s  {mdm['all_seconds']}  peak {mdm['peak_rss_mb']:.0f} MB")
    print(f"  ratio mdm / native               : {ratio:.2f}x (target <= 3x)")
    return 0 if ratio <= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
