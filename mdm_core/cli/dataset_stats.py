"""``mdm dataset stats``: per-column statistics of one table, streamed."""

from __future__ import annotations

from typing import Any

import click

from mdm_core.cli.output import emit_json, emit_table, split_list

TOP_VALUES = 5  # as mdm_core.datasets.statistics, not imported here: pyarrow loads only when the command runs


@click.command("stats")
@click.argument("name")
@click.option("--table", help="Table to describe (default: train or data).")
@click.option("--columns", help="Comma-separated columns (default: all).")
@click.option("--extended", is_flag=True, help="Add percentiles, skewness and a histogram for numeric columns.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output as readable tables or as JSON for scripts.")
def stats(name: str, table: str | None, columns: str | None, extended: bool, fmt: str) -> None:
    """Show per-column statistics of a dataset's table (one streamed pass)."""
    from mdm_core.datasets.client import MDMClient

    result = MDMClient().get_statistics(name, table=table, columns=split_list(columns) or None, extended=extended)
    if fmt == "json":
        emit_json(result)
        return
    click.echo(f"Dataset '{result['dataset']}', table '{result['table']}': {result['rows']:,} rows, "
               f"{len(result['columns'])} columns.")
    headers = ["column", "kind", "count", "nulls", "distinct", "min", "max", "mean", "std"]
    emit_table("Columns", headers, [
        [column, s["kind"] or s["type"], f"{s['count']:,}", f"{s['nulls']:,}", _count(s["distinct"]),
         _cell(s["min"]), _cell(s["max"]), _cell(s["mean"]), _cell(s["std"])]
        for column, s in result["columns"].items()
    ])
    top = {c: s["top"] for c, s in result["columns"].items() if s["top"]}
    if top:
        emit_table(f"Most frequent values (up to {TOP_VALUES})", ["column", "value (count), ..."],
                   [[c, _top(t)] for c, t in top.items()])
    if not extended:
        return
    numeric = {c: s for c, s in result["columns"].items() if s["percentiles"]}
    if not numeric:
        return
    names = list(next(iter(numeric.values()))["percentiles"])
    emit_table("Percentiles and skewness", ["column", *names, "skewness"], [
        [c, *(_cell(v) for v in s["percentiles"].values()), _cell(s["skewness"])] for c, s in numeric.items()
    ])
    emit_table("Histograms (10 equal-width bins from min to max)", ["column", "counts"], [
        [c, " ".join(str(n) for n in s["histogram"]["counts"])] for c, s in numeric.items()
    ])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return _short(str(value))


def _count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _top(top: list | None) -> str:
    return ", ".join(f"{_short(str(v), 20)} ({c:,})" for v, c in top) if top else ""


def _short(text: str, width: int = 30) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
