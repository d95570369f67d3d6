"""``mdm timeseries``: check a time column (validate) and aggregate per time bucket (resample)."""

from __future__ import annotations

import io
import os
import secrets
from pathlib import Path
from typing import Any

import click

from mdm_core.cli.output import FORMAT_OPTION, emit_json, emit_table, split_list
from mdm_core.errors import DatasetError

_TIME = click.option("--time-column", help="Time column (default: the dataset's).")
_GROUP = click.option("--group-column", help="Check or aggregate within each value of this column.")
_TABLE = click.option("--table", help="Table to read (default: train or data).")


def _client():
    from mdm_core.datasets.client import MDMClient

    return MDMClient()


@click.group()
def timeseries() -> None:
    """Time-series helpers: validate a time column, resample to a frequency."""


@timeseries.command()
@click.argument("name")
@_TIME
@_GROUP
@_TABLE
@click.option("--freq", help="Expected step, e.g. 1D, 1h, 15min (default: the most common step).")
@FORMAT_OPTION
def validate(name, time_column, group_column, table, freq, fmt) -> None:
    """Report null times, duplicate times, gaps and order of dataset NAME's time column
    (exit 0 either way: see "ok")."""
    result = _client().validate_time_series(name, time_column=time_column, group_column=group_column,
                                            table=table, freq=freq)
    if fmt == "json":
        emit_json(result)
        return
    within = f", within each '{result['group_column']}' ({result['groups']:,} groups)" if result["group_column"] else ""
    click.echo(f"Dataset '{result['dataset']}', table '{result['table']}', time column '{result['time_column']}'"
               f"{within}: {result['rows']:,} rows from {result['min']} to {result['max']}.")
    frequency = result["frequency"] or "none (fewer than two distinct times)"
    click.echo(f"Frequency: {frequency}" + (" (the most common step)" if result["frequency_inferred"] else "") + ".")
    click.echo(f"Null times: {result['null_times']:,}.")
    click.echo(f"Stored in time order: {'yes' if result['monotonic'] else 'no'}.")
    duplicates, gaps = result["duplicates"], result["gaps"]
    click.echo(f"Duplicates: {duplicates['count']:,} rows repeat an earlier row's time.")
    if duplicates["examples"]:
        _grouped_table(result, "Duplicate times (first 5)", ["time", "rows"],
                       [(d["group"], [d["time"], f"{d['rows']:,}"]) for d in duplicates["examples"]])
    click.echo(f"Gaps: {gaps['count']:,} steps longer than {result['frequency']}." if result["frequency"] else "Gaps: 0.")
    if gaps["largest"]:
        _grouped_table(result, "Largest gaps", ["start", "end", "length"],
                       [(g["group"], [g["start"], g["end"], g["length"]]) for g in gaps["largest"]])
    problems = [p for p, n in (("null times", result["null_times"]), ("duplicates", duplicates["count"]),
                               ("gaps", gaps["count"])) if n]
    click.echo("OK." if result["ok"] else f"Not OK: {', '.join(problems)}.")


def _grouped_table(result: dict[str, Any], title: str, headers: list[str], rows: list[tuple[Any, list]]) -> None:
    """A table of ``(group, cells)`` rows, the group shown first when there is a group column."""
    group = result["group_column"]
    emit_table(title, [group, *headers] if group else headers,
               [[label, *cells] if group else cells for label, cells in rows])


@timeseries.command()
@click.argument("name")
@click.option("--freq", required=True, help="Bucket size, e.g. 1D, 6h, 15min, 1W, 1M.")
@click.option("--agg", type=click.Choice(["mean", "sum", "min", "max", "count"]), default="mean", show_default=True)
@click.option("--columns", help="Comma-separated columns (default: every numeric column but ID columns).")
@_TIME
@_GROUP
@_TABLE
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the result to this .csv or .parquet file instead of printing it.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="Output as a readable table, JSON or CSV.")
def resample(name, freq, agg, columns, time_column, group_column, table, output, fmt) -> None:
    """Aggregate dataset NAME's numeric columns per time bucket of --freq (streamed)."""
    if output is not None and output.suffix.lower() not in (".csv", ".parquet"):
        raise DatasetError(f"Output file {output} must end in .csv or .parquet.")
    result = _client().resample_time_series(name, freq, agg=agg, columns=split_list(columns) or None,
                                            time_column=time_column, group_column=group_column, table=table)
    if output is not None:
        _write(result, output)
        if fmt == "json":
            emit_json({"file": str(output), "rows": result.num_rows, "columns": result.column_names})
        else:
            click.echo(f"Wrote {result.num_rows:,} buckets ({agg} per {freq}) to {output}.")
        return
    if fmt == "json":
        emit_json(result.to_pylist())
    elif fmt == "csv":
        click.echo(_csv(result), nl=False)
    else:
        emit_table(f"{agg} per {freq}", result.column_names,
                   [[_cell(v) for v in row.values()] for row in result.to_pylist()])


def _csv(table) -> str:
    import pyarrow.csv as pacsv

    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer)
    return buffer.getvalue().decode("utf-8")


def _write(table, path: Path) -> None:
    """Write ``table`` to ``path`` atomically: a temporary file beside it, then a rename."""
    import pyarrow.parquet as pq

    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        if path.suffix.lower() == ".parquet":
            pq.write_table(table, tmp)
        else:
            tmp.write_text(_csv(table), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise DatasetError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    finally:
        tmp.unlink(missing_ok=True)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:.6g}" if isinstance(value, float) else str(value)
