"""``mdm storage compare``: the legacy and new implementations of each backend, side by
side on generated data (:mod:`mdm_core.testing.storage_comparison`), or with ``--dataset``
on one of the user's datasets (:mod:`mdm_core.testing.dataset_comparison`). Exit code 1
when any comparison fails."""

from __future__ import annotations

import sys
from typing import Any

import click

from mdm_core.cli.output import FORMAT_OPTION, emit_json, emit_table


@click.command("compare")
@click.argument("backends", nargs=-1, metavar="[BACKEND]...")
@click.option("--backend", "more", multiple=True, metavar="NAME", help="A backend to compare (same as BACKEND).")
@click.option("--rows", default=2_000, show_default=True, type=click.IntRange(min=100),
              help="Rows of the generated dataset.")
@click.option("--dataset", metavar="NAME", default=None,
              help="Compare on this dataset of your home (read-only) instead of generated data.")
@FORMAT_OPTION
def compare(backends: tuple[str, ...], more: tuple[str, ...], rows: int, dataset: str | None, fmt: str) -> None:
    """Check that legacy and new storage, and a 1.x store after the storage phase, give the
    same rows, columns, filters, counts and checksums, with timings of each (default: every
    installed backend; PostgreSQL when configured). Runs in a temporary home: your home is
    never touched. The "new s" column holds the migrated store's time on "migrated:" rows.

    With --dataset NAME: the same questions on every table of that dataset: a 1.x dataset
    against a migrated copy of it (a BACKEND is the copy's target), a migrated one against
    its kept 1.x original, a new-layout one read with use_new_storage off and on (the same
    code: the output says same_implementation). Your home is only read."""
    from mdm_core.config import load_settings

    settings = load_settings().settings
    if dataset is not None:
        _compare_dataset(dataset, [*backends, *more], settings, fmt)
        return
    from mdm_core.testing.installed import default_backends
    from mdm_core.testing.storage_comparison import StorageComparisonTester

    names = list(dict.fromkeys([*backends, *more])) or default_backends(settings)
    results = [StorageComparisonTester(name, rows=rows, settings=settings).run_all_tests() for name in names]
    failed = sum(len(r.failed) for r in results)
    if fmt == "json":
        emit_json({"backends": [r.as_dict() for r in results], "failed": failed})
    else:
        for result in results:
            emit_table(
                f"Legacy vs new: {result.backend} ({result.rows:,} rows)",
                ["test", "result", "legacy s", "new s", "differences / error"],
                _rows(result))
            click.echo(f"{result.backend}: {result.passed} of {len(result.tests)} passed "
                       f"(success rate {result.success_rate:.0%}).")
    _exit_if_failed(failed)


def _compare_dataset(name: str, backends: list[str], settings: Any, fmt: str) -> None:
    from mdm_core.testing.dataset_comparison import DatasetComparisonTester

    if len(set(backends)) > 1:
        raise click.UsageError("--dataset compares one dataset on one backend: name at most one BACKEND.")
    result = DatasetComparisonTester(name, backends[0] if backends else None, settings=settings).run_all_tests()
    failed = len(result.failed)
    if fmt == "json":
        emit_json({"dataset": result.as_dict(), "failed": failed})
    else:
        other = next(side for side in result.sides if side != "legacy")
        emit_table(f"Legacy vs {other}: dataset {result.dataset} ({result.case}, {result.backend}, "
                   f"{result.rows:,} rows)", ["test", "result", "legacy s", f"{other} s", "differences / error"],
                   _rows(result))
        for side, what in result.sides.items():
            click.echo(f"{side}: {what}.")
        if result.same_implementation:
            click.echo("same_implementation: both sides ran the same storage code (the legacy plugin passes "
                       "new-layout datasets to the new one), so agreement says nothing about the 1.x reader.")
        click.echo(f"{result.dataset}: {result.passed} of {len(result.tests)} passed "
                   f"(success rate {result.success_rate:.0%}).")
    _exit_if_failed(failed)


def _rows(result: Any) -> list[list[str]]:
    """One table row per test; the second time column holds the new or the migrated side."""
    return [[t.name, "PASS" if t.passed else "FAIL", _seconds(t.seconds, "legacy"),
             _seconds(t.seconds, "new") or _seconds(t.seconds, "migrated"), t.error or "; ".join(t.notes)]
            for t in result.tests]


def _exit_if_failed(failed: int) -> None:
    if failed:
        click.echo(f"Error: {failed} comparison(s) failed: legacy and new storage disagree (see the table).",
                   err=True)
        sys.exit(1)


def _seconds(seconds: dict[str, float], side: str) -> str:
    return f"{seconds[side]:.3f}" if side in seconds else ""
