"""``mdm selftest``: the end-to-end self-test of the installed MDM
(:mod:`mdm_core.testing.selftest`) in a temporary home. Exit code 1 when any test failed."""

from __future__ import annotations

import sys

import click

from mdm_core.cli.output import FORMAT_OPTION, emit_json, emit_table


@click.command("selftest")
@click.option("--backend", "backends", multiple=True, metavar="NAME",
              help="Backend to test (repeatable); default: every installed one, PostgreSQL when configured.")
@click.option("--rows", default=1_000, show_default=True, type=click.IntRange(min=100),
              help="Rows of the generated dataset.")
@FORMAT_OPTION
def selftest(backends: tuple[str, ...], rows: int, fmt: str) -> None:
    """Register, load, generate features, export, migrate between backends and roll back
    generated data in a temporary home, and say what works. Your home is never touched."""
    from mdm_core.testing.selftest import IntegrationTestFramework

    result = IntegrationTestFramework(backends or None, rows=rows).run_all_tests()
    if fmt == "json":
        emit_json(result.as_dict())
    else:
        emit_table(f"Self-test ({', '.join(result.backends)}; {rows:,} rows)", ["test", "result", "seconds", "error"],
                   [[t.name, "PASS" if t.passed else "FAIL", f"{t.seconds:.2f}", t.error or ""]
                    for t in result.tests])
        click.echo(f"{result.passed} of {result.total} passed.")
    if result.failed_tests:
        click.echo(f"Error: {len(result.failed_tests)} of {result.total} self-tests failed "
                   f"(first: {result.failed_tests[0].name}); see the table.", err=True)
        sys.exit(1)
