"""``mdm stats``: what the machine and the home are doing (``--system``), the operations in
progress and the recent ones (``--operations``); ``show`` and ``summary`` read the
operations history as MDM 1.x's ``mdm stats show``/``summary`` did."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import click

from mdm_core.cli.output import FORMAT_OPTION, emit_json, emit_table, human_size

LIMIT_OPTION = click.option("--limit", "-n", type=click.IntRange(min=1), default=20, show_default=True,
                            help="How many recent operations to show.")


@click.group(invoke_without_command=True)
@click.option("--system", is_flag=True, help="CPU, memory, disk of the home and the operations in progress.")
@click.option("--operations", is_flag=True, help="Operations in progress and the recent ones, with rows and seconds.")
@LIMIT_OPTION
@FORMAT_OPTION
@click.pass_context
def stats(ctx: click.Context, system: bool, operations: bool, limit: int, fmt: str) -> None:
    """Show system metrics and MDM operations (both unless --system or --operations)."""
    if ctx.invoked_subcommand is not None:
        return
    from mdm_core.performance import get_monitor

    monitor = get_monitor()
    both = not (system or operations)
    report: dict[str, Any] = {}
    if system or both:
        report["system"] = monitor.get_system_metrics()
    if operations or both:
        report["operations"] = {
            "active": report["system"]["active_operations"] if "system" in report else monitor.active_operations(),
            "interrupted": (report["system"]["interrupted_operations"] if "system" in report
                            else monitor.interrupted_operations()),
            "recent": monitor.recent_operations(limit),
        }
    if fmt == "json":
        emit_json(report)
        return
    if "system" in report:
        _system_table(report["system"])
    if "operations" in report:
        if "system" not in report:
            _active_tables(report["operations"]["active"], report["operations"]["interrupted"])
        _recent_table(report["operations"]["recent"])


@stats.command()
@LIMIT_OPTION
@click.option("--dataset", "-d", default=None, help="Only this dataset's operations.")
@click.option("--type", "-t", "operation", default=None,
              help="Only this operation (register, export, remove, migration).")
@FORMAT_OPTION
def show(limit: int, dataset: str | None, operation: str | None, fmt: str) -> None:
    """Show recent operations from the history (newest first)."""
    from mdm_core.datasets.models import normalize_name
    from mdm_core.performance import get_monitor

    records = get_monitor().recent_operations(None, operation)
    if dataset:
        wanted = normalize_name(dataset)
        records = [r for r in records if r.get("dataset") == wanted]
    records = records[:limit]
    if fmt == "json":
        emit_json(records)
        return
    _recent_table(records)


@stats.command()
@FORMAT_OPTION
def summary(fmt: str) -> None:
    """Count, failures, rows and seconds per operation over the whole history."""
    from mdm_core.performance import get_monitor

    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in get_monitor().recent_operations(None):
        groups[str(record.get("operation"))].append(record)
    result = {op: _summarize(records) for op, records in sorted(groups.items())}
    if fmt == "json":
        emit_json(result)
        return
    if not result:
        click.echo("No operations recorded yet.")
        return
    emit_table("Operations", ["operation", "count", "failed", "rows", "avg s", "last"], [
        [op, s["count"], s["failed"], f"{s['rows']:,}", f"{s['average_seconds']:.2f}", _when(s["last"])]
        for op, s in result.items()
    ])


def _summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = [float(r.get("seconds") or 0.0) for r in records]
    return {
        "count": len(records),
        "failed": sum(r.get("status") != "ok" for r in records),
        "rows": sum(int(r.get("rows") or 0) for r in records if r.get("status") == "ok"),
        "average_seconds": round(sum(seconds) / len(seconds), 3),
        "last": max(str(r.get("started") or "") for r in records) or None,
    }


def _system_table(metrics: dict[str, Any]) -> None:
    disk = metrics["disk"]
    active = metrics["active_operations"]
    emit_table("System", ["", ""], [
        ["CPU", f"{metrics['cpu_percent']:.1f}% of {metrics['cores']} cores "
                f"(load {', '.join(str(x) for x in metrics['load_average'])})"],
        ["memory", f"{metrics['memory_percent']:.1f}% used ({human_size(metrics['memory_used_bytes'])} of "
                   f"{human_size(metrics['memory_total_bytes'])}, {human_size(metrics['memory_available_bytes'])} "
                   "available)"],
        ["disk of home", f"{disk['percent']:.1f}% used, {human_size(disk['free_bytes'])} free ({disk['path']})"],
        ["active operations", str(len(active)) if active else "none"],
    ])
    _active_tables(active, metrics["interrupted_operations"])


def _active_tables(active: list[dict[str, Any]], interrupted: list[dict[str, Any]]) -> None:
    if active:
        emit_table("In progress", ["operation", "dataset", "pid", "since"], [
            [_what(a), a.get("dataset") or "-", a.get("pid"), _when(a.get("since"))] for a in active
        ])
    if interrupted:
        emit_table("Interrupted (the next command or `mdm doctor --fix` finishes or undoes them)",
                   ["operation", "dataset", "pid", "since"],
                   [[i["operation"], i["dataset"], i.get("pid") or "-", _when(i.get("since"))] for i in interrupted])


def _recent_table(records: list[dict[str, Any]]) -> None:
    if not records:
        click.echo("No operations recorded yet.")
        return
    rows = [[_when(r.get("started")), r.get("operation"), r.get("dataset") or "-",
             "-" if r.get("rows") is None else f"{r['rows']:,}", f"{float(r.get('seconds') or 0):.2f}", r.get("status")]
            for r in records]
    emit_table("Recent operations", ["started (UTC)", "operation", "dataset", "rows", "seconds", "status"], rows)
    for r in records:
        if r.get("error"):
            click.echo(f"{_when(r.get('started'))} {r.get('operation')} {r.get('dataset') or ''}: {r['error']}")


def _what(active: dict[str, Any]) -> str:
    if active.get("operation") != "migration":
        return str(active.get("operation"))
    phase = f", phase {active['phase']}" if active.get("phase") else ""
    return f"migration ({active.get('command') or 'run'}{phase})"


def _when(iso: str | None) -> str:
    """``2026-11-30T23:10:05+00:00`` -> ``2026-11-30 23:10:05``."""
    return "-" if not iso else str(iso).replace("T", " ")[:19]
