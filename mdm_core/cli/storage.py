"""``mdm storage test``: run the quick conformance checks against a storage backend
(``mdm storage compare`` lives in :mod:`mdm_core.cli.storage_compare`).

The checks (:mod:`mdm_core.testing.checks`) run against temporary stores in a temporary
folder (a temporary schema on PostgreSQL), which are removed afterwards whatever happens.
Exit code 1 when any check fails.
"""

from __future__ import annotations

import sys
import tempfile

import click

from mdm_core.cli.output import FORMAT_OPTION, emit_json, emit_table
from mdm_core.cli.storage_compare import compare


@click.group()
def storage() -> None:
    """Inspect and test storage backends."""


@storage.command("test")
@click.option("--backend", "backend_name", default=None, metavar="NAME",
              help="Backend to test (sqlite, duckdb, postgresql, ...); default: database.default_backend.")
@FORMAT_OPTION
def test(backend_name: str | None, fmt: str) -> None:
    """Check that a storage backend stores and serves data correctly."""
    from pathlib import Path

    from mdm_core.backends import get_backend
    from mdm_core.config import load_settings
    from mdm_core.testing.checks import run_checks

    settings = load_settings().settings
    name = backend_name or settings.database.default_backend
    backend = get_backend(name, settings)
    try:
        with tempfile.TemporaryDirectory(prefix="mdm-storage-test-") as folder:
            results = run_checks(backend, Path(folder), size="quick")
    finally:
        close = getattr(backend, "close", None)
        if callable(close):
            close()
    failed = [r for r in results if not r.passed]
    if fmt == "json":
        emit_json({
            "backend": name,
            "passed": len(results) - len(failed),
            "failed": len(failed),
            "checks": [{"name": r.name, "passed": r.passed, "seconds": r.seconds, "error": r.error}
                       for r in results],
        })
    else:
        emit_table(f"Storage checks: {name}", ["check", "result", "seconds", "error"],
                   [[r.name, "PASS" if r.passed else "FAIL", f"{r.seconds:.2f}", r.error or ""]
                    for r in results])
        click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed.")
    if failed:
        click.echo(f"Error: backend '{name}' failed {len(failed)} of {len(results)} checks.", err=True)
        sys.exit(1)


storage.add_command(compare)
