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


def emit_table(title: str | None, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a table that never splits a word, whatever the terminal's width.

    Each column is at least as wide as its longest word (a name, a path, a version: text
    without spaces is never wrapped); text with spaces wraps between words. When even those
    widths do not fit the terminal, each row is printed as ``header: value`` lines instead,
    wrapped between words. Cells are plain text: a ``[bold]`` or ``:smile:`` in a value is
    printed as is. (rich is imported here: JSON output never loads it.)"""
    from rich.console import Console
    from rich.table import Table

    class _Console(Console):
        """Leaves a closed stdout (``| head``) to ``mdm_core.cli.main``, which exits quietly
        with 0 (rich itself would exit with 1)."""

        def on_broken_pipe(self) -> None:
            raise BrokenPipeError

    console = _Console(soft_wrap=False, markup=False, emoji=False, highlight=False)
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    columns = [[header, *(row[i] for row in cells)] for i, header in enumerate(headers)]
    widths = _column_widths(columns, console.width - 3 * len(headers) - 1)
    if widths is None:
        _emit_records(console, title, headers, cells)
        return
    table = Table(title=title, show_lines=False, title_justify="left")
    for header, width in zip(headers, widths, strict=True):
        table.add_column(header, width=width, overflow="fold")
    for row in cells:
        table.add_row(*row)
    console.print(table)


def _column_widths(columns: list[list[str]], room: int) -> list[int] | None:
    """Text widths of the columns (header first in each) within ``room``: each as wide as
    its longest line if they all fit, else the widest ones narrowed, never below their
    longest word; None when even the longest words do not fit."""
    longest_word = [max(len(word) for text in column for word in text.split() or [""]) for column in columns]
    if sum(longest_word) > room:
        return None
    widths = [max(len(line) for text in column for line in text.splitlines() or [""]) for column in columns]
    while sum(widths) > room:
        widest = max((i for i in range(len(widths)) if widths[i] > longest_word[i]), key=lambda i: widths[i])
        widths[widest] -= 1
    return widths


def _emit_records(console: Any, title: str | None, headers: Sequence[str], cells: list[list[str]]) -> None:
    """The rows of a table too wide for the terminal: per row, ``header: value`` of the
    first column, then the other cells indented, on one line when they fit, else one line
    each, wrapped between words under themselves."""
    import textwrap

    lines = [title] if title else []
    for row in cells:
        lines.append(f"{headers[0]}: {row[0]}")
        rest = [f"{header}: {value}" for header, value in zip(headers[1:], row[1:], strict=True)]
        joined = "  " + "   ".join(rest)
        if len(joined) <= console.width:
            lines.append(joined)
            continue
        for header, value in zip(headers[1:], row[1:], strict=True):
            lead = f"  {header}: "
            lines.append(textwrap.fill(value, width=max(console.width, len(lead) + 1), initial_indent=lead,
                                       subsequent_indent=" " * len(lead), break_long_words=False,
                                       break_on_hyphens=False) or lead.rstrip())
    for line in lines:
        console.print(line, soft_wrap=True)
