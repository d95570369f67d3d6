"""``mdm storage compare``: the legacy and new implementations of each backend, side by
side on generated data (:mod:`mdm_core.testing.storage_comparison`). Exit code 1 when any
comparison fails."""

from __future__ import annotations

import sys

import click

from mdm_core.cli.output import FORMAT_OPTION, emit_json, emit_table


@click.command("compare")
@click.argument("backends", nargs=-1, metavar="[BACKEND]...")
@click.option("--backend", "more", multiple=True, metavar="NAME", help="A backend to compare (same as BACKEND).")
@click.option("--rows", default=2_000, show_default=True, type=click.IntRange(min=100),
              help="Rows of the generated dataset.")
@FORMAT_OPTION
def compare(backends: tuple[str, ...], more: tuple[str, ...], rows: int, fmt: str) -> None:
    """Check that legacy and new storage, and a 1.x store after the storage phase, give the
    same rows, columns, filters, counts and checksums, with timings of each (default: every
    installed backend; PostgreSQL when configured). Runs in a temporary home: your home is
    never touched. The "new s" column holds the migrated store's time on "migrated:" rows."""
    from mdm_core.config import load_settings
    from mdm_core.testing.installed import default_backends
    from mdm_core.testing.storage_comparison import StorageComparisonTester

    settings = load_settings().settings
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
                [[t.name, "PASS" if t.passed else "FAIL", _seconds(t.seconds, "legacy"),
                  _seconds(t.seconds, "new") or _seconds(t.seconds, "migrated"), t.error or "; ".join(t.notes)]
                 for t in result.tests])
            click.echo(f"{result.backend}: {result.passed} of {len(result.tests)} passed "
                       f"(success rate {result.success_rate:.0%}).")
    if failed:
        click.echo(f"Error: {failed} comparison(s) failed: legacy and new storage disagree (see the table).",
                   err=True)
        sys.exit(1)


def _seconds(seconds: dict[str, float], side: str) -> str:
    return f"{seconds[side]:.3f}" if side in seconds else ""
