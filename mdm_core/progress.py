"""Progress reporting for long work: a rich bar on a terminal, nothing when piped."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class RowProgress:
    """Counts rows of one unit of work; ``advance(n)`` after each batch."""

    def __init__(self, progress: Progress | None, task: int | None) -> None:
        self._progress = progress
        self._task = task
        self.rows = 0

    def advance(self, rows: int) -> None:
        self.rows += rows
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=rows)

    def set_total(self, total: int | None) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, total=total)


def progress_enabled() -> bool:
    """Bars only on an interactive stderr (never in pipes, CI logs or tests)."""
    return sys.stderr.isatty()


@contextmanager
def row_progress(description: str, total: int | None = None, *, enabled: bool | None = None) -> Iterator[RowProgress]:
    """A progress bar with rows done, rate and ETA (when ``total`` is known)."""
    if not (progress_enabled() if enabled is None else enabled):
        yield RowProgress(None, None)
        return
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(description, total=total, rate="")
        yield _RateTracker(progress, task)


class _RateTracker(RowProgress):
    """RowProgress that also shows the current rate."""

    def advance(self, rows: int) -> None:
        super().advance(rows)
        speed = self._progress.tasks[0].speed
        if speed:
            self._progress.update(self._task, rate=f"{speed:,.0f} rows/s")
