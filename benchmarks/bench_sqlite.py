"""Registration into SQLite vs a raw Arrow bulk ingest of the same file (same run).

Target (issue 2): registering the NYC flights CSV without features takes at most 3x
``pyarrow.csv.read_csv`` + ADBC ``adbc_ingest`` into a fresh SQLite file. Prints medians,
the ratio and each side's peak memory; exits 1 if the target is missed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

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


def repeated(csv: Path, times: int) -> Path:
    """The same CSV with its body repeated ``times`` times (one header)."""
    lines = csv.read_bytes().split(b"\n", 1)
    target = csv.with_name(f"flights_x{times}.csv")
    with target.open("wb") as out:
        out.write(lines[0] + b"\n")
        for _ in range(times):
            out.write(lines[1])
    return target


def main() -> int:
    work = temp_dir()
    csv = flights_csv(work)
    env = {**os.environ, "MDM_HOME_DIR": str(work / "home")}
    native = median_of(RUNS, NATIVE.format(db=str(work / "native.sqlite"), csv=str(csv)))
    mdm = median_of(RUNS, MDM.format(csv=str(csv)), env)
    ratio = mdm["seconds"] / native["seconds"]
    print(f"NYC flights, 336,776 rows, {RUNS} runs each (median)")
    print(f"  raw Arrow read_csv + adbc_ingest : {native['seconds']:.2f} s  {native['all_seconds']}  peak {native['peak_rss_mb']:.0f} MB")
    print(f"  mdm dataset register (sqlite)    : {mdm['seconds']:.2f} s  {mdm['all_seconds']}  peak {mdm['peak_rss_mb']:.0f} MB")
    print(f"  ratio mdm / native               : {ratio:.2f}x (target <= 3x)")

    big = repeated(csv, 4)
    native_big = median_of(1, NATIVE.format(db=str(work / "native_big.sqlite"), csv=str(big)))
    mdm_big = median_of(1, MDM.format(csv=str(big)), env)
    print("Same file x4 (1,347,104 rows), one run each: peak memory must not grow with the file")
    print(f"  raw Arrow (whole table in memory): {native_big['seconds']:.2f} s  peak {native_big['peak_rss_mb']:.0f} MB")
    print(f"  mdm dataset register (streamed)  : {mdm_big['seconds']:.2f} s  peak {mdm_big['peak_rss_mb']:.0f} MB")
    growth = mdm_big["peak_rss_mb"] / mdm["peak_rss_mb"]
    print(f"  mdm peak growth x4 file          : {growth:.2f}x")
    return 0 if ratio <= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
