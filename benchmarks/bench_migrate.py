"""``mdm-migrate`` storage moves of NYC flights (336,776 rows), verification included,
against registering the same CSV into the target backend, measured in the same run.

Pairs: a 1.x SQLite dataset -> new SQLite (``Migration(home).run("storage")``: the config
and storage phases of a 1.x home holding only flights; its features phase would generate
the features 1.x never made, which is feature generation, not a move), then new-layout moves with ``Migration(home,
RunOptions(to=T, datasets=("flights",))).run("storage")``: SQLite -> DuckDB, SQLite ->
PostgreSQL, DuckDB -> PostgreSQL, PostgreSQL -> SQLite. Every measurement runs in a
child process of its own (peak RSS is that child's); the source is built in another
child before it, untimed. Rows/s use the time of the whole ``run`` call (the journal's
per-unit seconds of the table copies, copy + verification, are printed beside it).

Targets (issue 12): at least 200,000 rows/s; a move no slower than registering the CSV
into the target (ratio move / register <= 1); the SQLite -> DuckDB move of the table
repeated 4x (1,347,104 rows) with a peak RSS no higher than the 1x move's (1.25x allowed
for RSS noise, as bench_export/bench_stats allow). Exits 1 when a target is missed.
PostgreSQL pairs use ``MDM_TEST_POSTGRES_DSN`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``) in a database made for the run and
dropped after; they are skipped, with the reason printed, when no server answers.

Environment: ``MDM_BENCH_RUNS`` (default 3). The last line is one JSON object.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from bench_sqlite import repeated
from common import REGISTER, flights_csv_in_child, measure, median_of, temp_dir

RUNS = int(os.environ.get("MDM_BENCH_RUNS", "3"))
ROWS_PER_SECOND = 200_000
FIXTURE_HOME = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "legacy-mdm-1.0.6" / "home"
DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"

MOVE = """
from pathlib import Path
from mdm_core.migration.orchestrator import Migration
from mdm_core.migration.step import RunOptions
start = time.perf_counter()
report = Migration(Path({home!r}), RunOptions(to={to!r}, datasets=("flights",))).run("storage")
seconds = time.perf_counter() - start
records = [o.record for o in report.outcomes]
bad = [(r.unit, r.state, r.error) for r in records if r.state != "done"]
if report.exit_code != 0 or bad or not records:
    raise SystemExit(f"move failed: exit {{report.exit_code}} {{bad}}")
tables = [r for r in records if r.table is not None]
result = {{"seconds": seconds, "rows": sum(r.rows_written for r in tables),
          "unit_seconds": sum(r.seconds for r in tables)}}
"""

MIGRATE_1X = """
from pathlib import Path
from mdm_core.migration.orchestrator import Migration
start = time.perf_counter()
report = Migration(Path({home!r})).run("storage")
seconds = time.perf_counter() - start
records = [o.record for o in report.outcomes]
bad = [(r.unit, r.state, r.error) for r in records if r.state != "done"]
if report.exit_code != 0 or bad:
    raise SystemExit(f"1.x migration failed: exit {{report.exit_code}} {{bad}}")
tables = [r for r in records if r.phase == "storage" and r.dataset == "flights" and r.table is not None]
result = {{"seconds": seconds, "rows": sum(r.rows_written for r in tables),
          "unit_seconds": sum(r.seconds for r in tables)}}
"""


def write_1x_home(home: Path, csv: Path) -> None:
    """A 1.x home holding only ``flights``, written as MDM 1.x did (pandas ``to_sql`` in
    chunks of 50,000 through SQLAlchemy: ``mdm_plugin_legacy.write_1x``) beside the 1.0.6
    fixture's ``mdm.yaml``."""
    import pyarrow.csv as pacsv
    from mdm_plugin_legacy.write_1x import write_1x_dataset

    home.mkdir(parents=True)
    shutil.copy(FIXTURE_HOME / "mdm.yaml", home / "mdm.yaml")
    write_1x_dataset(home, "flights", "sqlite", {"data": pacsv.read_csv(csv)}, batch_size=50_000,
                     datetime_columns=["time_hour"])


def postgres_database() -> tuple[str | None, str, str | None]:
    """(DSN of a database made for this run, or None; why not; the server DSN to drop it)."""
    server = os.environ.get("MDM_TEST_POSTGRES_DSN") or DEFAULT_DSN
    try:
        import psycopg
        from psycopg import sql
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        with psycopg.connect(server, autocommit=True, connect_timeout=3) as conn:
            name = f"mdm_bench_{uuid.uuid4().hex[:10]}"
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except psycopg.Error:  # no right to create databases: the server's own (stores use unique schemas)
                return server, "", None
        return make_conninfo(**{**conninfo_to_dict(server), "dbname": name}), "", server
    except Exception as exc:  # noqa: BLE001 - any failure means: no server to measure on
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, f"no PostgreSQL server answers at MDM_TEST_POSTGRES_DSN or {DEFAULT_DSN} ({reason})", None


def drop_database(server: str | None, dsn: str | None) -> None:
    if server is None or dsn is None:
        return
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(conninfo_to_dict(dsn)["dbname"])))


def child_env(home: Path, pg_dsn: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MDM_")}
    env["MDM_HOME_DIR"] = str(home)
    if pg_dsn:
        env["MDM_DATABASE_POSTGRESQL_DSN"] = pg_dsn
    return env


def move_runs(work: Path, csv: Path, source: str, target: str, pg_dsn: str | None, runs: int, tag: str) -> dict:
    """``runs`` moves, each from a fresh home where ``csv`` was registered into ``source``."""
    results = []
    for i in range(runs):
        home = work / f"move_{tag}_{source}_{target}_{i}"
        env = child_env(home, pg_dsn)
        measure(REGISTER.format(name="flights", csv=str(csv), backend=source), env)
        results.append(measure(MOVE.format(home=str(home), to=target), env))
        shutil.rmtree(home, ignore_errors=True)
    return summarize(results)


def summarize(results: list[dict]) -> dict:
    import statistics

    return {
        "seconds": statistics.median(r["seconds"] for r in results),
        "all_seconds": [round(r["seconds"], 3) for r in results],
        "unit_seconds": statistics.median(r.get("unit_seconds", r["seconds"]) for r in results),
        "rows": results[0]["rows"],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
    }


def main() -> int:
    work = temp_dir()
    csv = flights_csv_in_child(work)
    pg_dsn, pg_reason, pg_server = postgres_database()
    pairs = [("sqlite", "duckdb"), ("sqlite", "postgresql"), ("duckdb", "postgresql"), ("postgresql", "sqlite")]
    rows_out: list[dict] = []
    skipped: list[dict] = []
    baselines: dict[str, dict] = {}
    try:
        def baseline(backend: str) -> dict:
            if backend not in baselines:
                home = work / f"register_{backend}"
                baselines[backend] = median_of(RUNS, REGISTER.format(name="flights", csv=str(csv), backend=backend),
                                               child_env(home, pg_dsn))
            return baselines[backend]

        # 1. 1.x SQLite -> new SQLite: a 1.x home holding only flights migrated up to its
        #    storage phase (config, storage); the features phase generates flights' features
        #    (1.x never did), which bench_features measures, and is not a move
        legacy = work / "legacy_home"
        # in a child: pandas holds the whole table, and a child's peak RSS starts at its parent's
        subprocess.run([sys.executable, __file__, "--write-1x-home", str(legacy), str(csv)], check=True)
        results = []
        for i in range(RUNS):
            home = work / f"migrate_1x_{i}"
            shutil.copytree(legacy, home)
            results.append(measure(MIGRATE_1X.format(home=str(home)), child_env(home, None)))
            shutil.rmtree(home, ignore_errors=True)
        one_x = summarize(results)
        rows_out.append({"pair": "1.x sqlite -> sqlite", "target": "sqlite", **one_x, "whole_run": True})

        # 2. new-layout moves
        for source, target in pairs:
            if "postgresql" in (source, target) and pg_dsn is None:
                skipped.append({"pair": f"{source} -> {target}", "reason": pg_reason})
                continue
            rows_out.append({"pair": f"{source} -> {target}", "target": target,
                             **move_runs(work, csv, source, target, pg_dsn, RUNS, "x1")})

        # 3. the baselines: registering the CSV into each target
        for row in rows_out:
            base = baseline(row["target"])
            row["register_seconds"] = base["seconds"]
            row["register_all_seconds"] = base["all_seconds"]
            row["register_peak_rss_mb"] = base["peak_rss_mb"]
            row["rows_per_second"] = row["rows"] / row["seconds"]
            row["ratio"] = row["seconds"] / base["seconds"]

        # 4. memory on a 4x table: SQLite -> DuckDB, one run
        subprocess.run([sys.executable, __file__, "--repeat-4x", str(csv)], check=True)  # in a child: see above
        big = csv.with_name("flights_x4.csv")
        x4 = move_runs(work, big, "sqlite", "duckdb", None, 1, "x4")
        x1 = next(r for r in rows_out if r["pair"] == "sqlite -> duckdb")
    finally:
        drop_database(pg_server, pg_dsn)
        shutil.rmtree(work, ignore_errors=True)

    parent_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"mdm-migrate storage moves of NYC flights, verification included; median of {RUNS} runs, "
          "each in its own process; baseline: register_dataset of the same CSV into the target "
          "(generate_features=False), same run")
    print(f"  {'pair':24} {'rows':>9} {'move s':>7} {'units s':>7} {'rows/s':>9} {'units r/s':>9} {'register s':>10} "
          f"{'move/reg':>8} {'peak MB':>7} {'reg peak MB':>11}  all move s")
    for r in rows_out:
        print(f"  {r['pair']:24} {r['rows']:>9,} {r['seconds']:>7.2f} {r['unit_seconds']:>7.2f} "
              f"{r['rows_per_second']:>9,.0f} {r['rows'] / r['unit_seconds']:>9,.0f} {r['register_seconds']:>10.2f} {r['ratio']:>7.2f}x "
              f"{r['peak_rss_mb']:>7.0f} {r['register_peak_rss_mb']:>11.0f}  {r['all_seconds']}")
    print("  (move s and rows/s: the whole run call; for 1.x the config and storage phases of a home holding only"
          " flights; units s and units r/s: the journal's seconds of the flights table units, copy +"
          " verification; targets are judged on the whole run)")
    for s in skipped:
        print(f"  {s['pair']:24} skipped: {s['reason']}")
    print(f"  (peak MB: the child's ru_maxrss, which on Linux starts at the forking parent's peak: this script's own "
          f"is {parent_mb:.0f} MB, so smaller figures cannot show)")
    growth = x4["peak_rss_mb"] / x1["peak_rss_mb"]
    print(f"Peak RSS of the sqlite -> duckdb move: 1x {x1['rows']:,} rows {x1['peak_rss_mb']:.0f} MB, "
          f"4x {x4['rows']:,} rows {x4['peak_rss_mb']:.0f} MB ({x4['seconds']:.2f} s, "
          f"{x4['rows'] / x4['seconds']:,.0f} rows/s): growth {growth:.2f}x (target: no higher; <= 1.25x passes)")

    speed_ok = all(r["rows_per_second"] >= ROWS_PER_SECOND for r in rows_out)
    ratio_ok = all(r["ratio"] <= 1.0 for r in rows_out)
    memory_ok = growth <= 1.25
    print(f"Targets: >= {ROWS_PER_SECOND:,} rows/s: {'met' if speed_ok else 'MISSED'}; move no slower than "
          f"register: {'met' if ratio_ok else 'MISSED'}; 4x peak: {'met' if memory_ok else 'MISSED'}")
    summary = {
        "benchmark": "migrate", "runs": RUNS, "cpus": os.cpu_count(), "parent_peak_rss_mb": round(parent_mb, 1),
        "pairs": [{"pair": r["pair"], "rows": r["rows"], "seconds": round(r["seconds"], 3),
                   "all_seconds": r["all_seconds"], "unit_seconds": round(r["unit_seconds"], 3),
                   "rows_per_second": round(r["rows_per_second"]),
                   "unit_rows_per_second": round(r["rows"] / r["unit_seconds"]),
                   "register_seconds": round(r["register_seconds"], 3), "ratio": round(r["ratio"], 3),
                   "peak_rss_mb": round(r["peak_rss_mb"], 1), "register_peak_rss_mb": round(r["register_peak_rss_mb"], 1)}
                  for r in rows_out],
        "skipped": skipped,
        "memory_4x": {"rows_1x": x1["rows"], "peak_rss_mb_1x": round(x1["peak_rss_mb"], 1), "rows_4x": x4["rows"],
                      "peak_rss_mb_4x": round(x4["peak_rss_mb"], 1), "growth": round(growth, 3),
                      "seconds_4x": round(x4["seconds"], 3)},
        "targets": {"rows_per_second": speed_ok, "move_vs_register": ratio_ok, "memory_4x": memory_ok},
    }
    print(json.dumps(summary))
    return 0 if speed_ok and ratio_ok and memory_ok else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--write-1x-home"]:
        write_1x_home(Path(sys.argv[2]), Path(sys.argv[3]))
        sys.exit(0)
    if sys.argv[1:2] == ["--repeat-4x"]:
        repeated(Path(sys.argv[2]), 4)
        sys.exit(0)
    sys.exit(main())
