"""``mdm stats``: what the machine and the home are doing (``--system``), the operations in
progress and the recent ones (``--operations``); ``show``, ``summary``, ``dataset``,
``cleanup`` and ``dashboard`` read (``cleanup`` trims) the operations history and ``logs``
the log file, as MDM 1.x's ``mdm stats`` commands of those names did. The work is done in
:mod:`mdm_core.performance` (``history_summary``, ``history_cleanup``, ``log_reader``,
``dashboard``); this module parses options and prints."""

from __future__ import annotations

from pathlib import Path
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
    from mdm_core.performance import get_monitor
    from mdm_core.performance.history_summary import of_dataset

    records = get_monitor().recent_operations(None, operation)
    if dataset:
        records = of_dataset(records, dataset)
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
    from mdm_core.performance.history_summary import by_operation

    result = by_operation(get_monitor().recent_operations(None))
    if fmt == "json":
        emit_json(result)
        return
    if not result:
        click.echo("No operations recorded yet.")
        return
    _operations_table("Operations", result)


@stats.command()
@click.argument("name")
@FORMAT_OPTION
def dataset(name: str, fmt: str) -> None:
    """Count, failures, rows and seconds per operation on dataset NAME."""
    from mdm_core.performance import get_monitor
    from mdm_core.performance.history_summary import by_operation, of_dataset

    result = by_operation(of_dataset(get_monitor().recent_operations(None), name))
    if fmt == "json":
        emit_json(result)
        return
    if not result:
        click.echo(f"No operations recorded for dataset '{name}'.")
        return
    _operations_table(f"Operations on dataset '{name}'", result)


def _level(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    from mdm_core.performance.log_reader import level_name

    try:
        return level_name(value) if value else None
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a level: use DEBUG, INFO, WARNING, ERROR or CRITICAL.") from None


@stats.command()
@click.option("--tail", "-n", type=click.IntRange(min=1), default=50, show_default=True,
              help="How many of the newest matching records to show.")
@click.option("--level", "-l", callback=_level, help="Only records of this level (DEBUG, INFO, WARNING, ERROR, ...).")
@click.option("--grep", "-g", help="Only records holding this text (any case).")
@FORMAT_OPTION
def logs(tail: int, level: str | None, grep: str | None, fmt: str) -> None:
    """Show the newest records of the log file (`logging.file`), oldest first."""
    from mdm_core.config import load_settings
    from mdm_core.performance.log_reader import log_file, newest_records

    settings = load_settings().settings
    path = log_file(settings)
    records = [] if path is None else newest_records(path, tail, level, grep, settings.logging.backup_count)
    if fmt == "json":
        emit_json([r.to_dict() for r in records])
        return
    if path is None:
        click.echo("No log file: MDM writes one when `logging.file` is set (for example MDM_LOGGING_FILE=mdm.log, "
                   "under the home's logs folder).")
        return
    if not records:
        click.echo(f"No matching records in {path}.")
        return
    for record in records:
        click.echo(record.text)


@stats.command()
@click.option("--days", "-d", type=click.IntRange(min=0), default=30, show_default=True,
              help="Keep the records of this many days.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@FORMAT_OPTION
def cleanup(days: int, yes: bool, fmt: str) -> None:
    """Remove the operations-history records older than --days days."""
    from mdm_core.performance import get_monitor
    from mdm_core.performance.history import history_path
    from mdm_core.performance.history_cleanup import count_older, cutoff, remove_older

    path = history_path(get_monitor().settings)
    before = cutoff(days)
    old = 0 if yes else count_older(path, before)
    if old:
        if fmt == "json":
            raise click.UsageError("--format json cannot ask for confirmation: add --yes.")
        if not click.confirm(f"Remove the {old} operations-history records older than {days} days?", default=False):
            click.echo("Nothing removed.")
            return
    removed = remove_older(path, before)
    if fmt == "json":
        emit_json({"removed": removed, "days": days, "history": str(path)})
    else:
        click.echo(f"Removed {removed} operations-history records older than {days} days.")


@stats.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the dashboard to this HTML file (default: <home>/dashboard.html).")
@click.option("--open/--no-open", "open_browser", default=True, show_default=True,
              help="Open the dashboard in the web browser.")
@FORMAT_OPTION
def dashboard(output: Path | None, open_browser: bool, fmt: str) -> None:
    """Write the operations history as one HTML page (charts, figures, errors)."""
    from mdm_core.performance import get_monitor
    from mdm_core.performance.dashboard import build_dashboard, default_path, write_dashboard

    monitor = get_monitor()
    board = build_dashboard(monitor.recent_operations(None))
    path = write_dashboard(board, output or default_path(monitor.settings))
    opened = False
    if open_browser:
        import webbrowser

        opened = webbrowser.open(path.resolve().as_uri())
    if fmt == "json":
        emit_json({"path": str(path), "opened": opened, **board.to_dict()})
        return
    click.echo(f"Dashboard written to {path}" + (" and opened in the browser." if opened else "."))
    if open_browser and not opened:
        click.echo("No web browser could be opened: open the file yourself.")


def _operations_table(title: str, result: dict[str, dict[str, Any]]) -> None:
    emit_table(title, ["operation", "count", "failed", "rows", "avg s", "last"], [
        [op, s["count"], s["failed"], f"{s['rows']:,}", f"{s['average_seconds']:.2f}", _when(s["last"])]
        for op, s in result.items()
    ])


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
