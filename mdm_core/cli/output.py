"""Rendering results: rich tables for people, JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

FORMAT_OPTION = click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
    help="Output as a readable table or as JSON for scripts.",
)


def verbosity_options(command):
    """``-v/--verbose`` and ``--debug``, as every MDM command group takes them."""
    command = click.option("--debug", is_flag=True, help="Log everything and show tracebacks.")(command)
    return click.option("-v", "--verbose", is_flag=True, help="Log what MDM is doing.")(command)


def log_mode(verbose: bool, debug: bool) -> str:
    """The logging mode (``mdm_core.logging.configure_logging``) the two options ask for."""
    return "debug" if debug else "verbose" if verbose else "quiet"


def human_size(n: int) -> str:
    """``n`` bytes for people: ``512 B``, ``148.0 KiB``, ``3.2 GiB``."""
    if n < 1024:
        return f"{n:,} B"
    value = n / 1024
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:,.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def split_list(value: str | None) -> tuple[str, ...]:
    """A comma-separated option as its non-empty, stripped items (``None`` -> ``()``)."""
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else ()


def emit_json(data: Any) -> None:
    """Print ``data`` as JSON on stdout (dates and paths as strings)."""
    click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def emit_table(title: str | None, headers: Sequence[str], rows: Sequence[Sequence[Any]], *,
               whole: Sequence[str] = ()) -> None:
    """Print a table; wide cells wrap instead of being cut, and the columns named in
    ``whole`` (names, statuses) are never wrapped. Cells are plain text: a ``[bold]`` or
    ``:smile:`` in a value is printed as is. (rich is imported here: JSON output never
    loads it.)"""
    from rich.console import Console
    from rich.table import Table

    class _Console(Console):
        """Leaves a closed stdout (``| head``) to ``mdm_core.cli.main``, which exits quietly
        with 0 (rich itself would exit with 1)."""

        def on_broken_pipe(self) -> None:
            raise BrokenPipeError

    table = Table(title=title, show_lines=False, title_justify="left")
    for header in headers:
        table.add_column(header, overflow="fold", no_wrap=header in whole)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    _Console(soft_wrap=False, markup=False, emoji=False, highlight=False).print(table)
