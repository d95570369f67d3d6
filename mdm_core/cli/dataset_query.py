"""``mdm dataset query``: run one SQL statement on a dataset's store and print the rows."""

from __future__ import annotations

import math

import click

from mdm_core.cli.output import emit_json, emit_table

#: Rows the readable table shows at most.
MAX_SHOWN = 50


@click.command("query")
@click.argument("name")
@click.argument("sql")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="A readable table (first 50 rows), JSON records or CSV, on stdout.")
def query(name: str, sql: str, fmt: str) -> None:
    """Run SQL (the dataset backend's dialect; quote names with "double quotes") on dataset NAME."""
    from mdm_core.datasets.client import MDMClient

    table = MDMClient().query(name, sql, as_arrow=True)
    if fmt == "json":
        emit_json([{k: _json_value(v) for k, v in row.items()} for row in table.to_pylist()])
    elif fmt == "csv":
        import pyarrow as pa
        import pyarrow.csv as pacsv

        sink = pa.BufferOutputStream()
        pacsv.write_csv(table, sink)
        click.echo(sink.getvalue().to_pybytes().decode(), nl=False)
    else:
        shown = table.slice(0, MAX_SHOWN).to_pylist()
        emit_table(None, table.column_names, [list(row.values()) for row in shown])
        more = table.num_rows - len(shown)
        if more:
            click.echo(f"... {more:,} more row(s) not shown ({table.num_rows:,} in all; --format csv or json prints all).")
        elif not table.num_rows:
            click.echo("No rows.")


def _json_value(value):
    """NaN and infinity as null (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
