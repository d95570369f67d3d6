"""``mdm doctor`` (is this home healthy? what fixes each problem) and ``mdm diagnose``
(one JSON bundle for a bug report); the checks live in :mod:`mdm_core.health`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mdm_core.cli.output import FORMAT_OPTION, emit_json, emit_table


@click.command()
@click.option("--deep", is_flag=True, help="Also read every table of every dataset in full.")
@click.option("--fix", "fix", is_flag=True,
              help="First clear what is safe: lock files of dead processes and interrupted dataset operations.")
@FORMAT_OPTION
def doctor(deep: bool, fix: bool, fmt: str) -> None:
    """Check this home's health, each problem with the command that fixes it.

    Config, plugins, storage backends, datasets, features, disk space and permissions,
    stale locks and interrupted work; exit code 1 when any check fails."""
    from mdm_core.health.model import Status
    from mdm_core.health.runner import run_doctor

    fixed = _fix() if fix else []
    report = run_doctor(deep=deep)
    if fmt == "json":
        emit_json({**report.as_dict(), "fixed": fixed})
        sys.exit(report.exit_code)
    for line in fixed:
        click.echo(f"Fixed: {line}.")
    rows = [[c.status.value, c.name, c.detail + (f"\nFix: {c.fix}" if c.fix else "")] for c in report.checks]
    emit_table(f"MDM doctor{' (deep)' if deep else ''}", ["status", "check", "detail"], rows)
    counts = ", ".join(f"{report.count(s)} {s.value}" for s in Status)
    click.echo(f"{counts}." + (" Run the Fix lines above, then `mdm doctor` again." if report.exit_code else ""))
    sys.exit(report.exit_code)


def _fix() -> list[str]:
    from mdm_core.config import load_settings
    from mdm_core.health.checks_work import fix_safe

    return fix_safe(load_settings().settings)


@click.command()
@click.option("--comprehensive", is_flag=True, help="Add deep dataset checks and every table's columns.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the bundle to FILE instead of stdout.")
def diagnose(comprehensive: bool, output: Path | None) -> None:
    """Print one JSON bundle for a bug report (secrets masked).

    Platform, versions, plugins, MDM_* variables, config with sources, datasets, disk,
    recent log lines, migration status and doctor's results. Passwords and DSN secrets
    are always masked."""
    from mdm_core.health.diagnose import diagnose_text

    text = diagnose_text(comprehensive=comprehensive)
    if output is None:
        click.echo(text)
        return
    output.write_text(text + "\n", encoding="utf-8")
    click.echo(f"Wrote the diagnostic bundle to {output} ({len(text.encode()):,} bytes).", err=True)
