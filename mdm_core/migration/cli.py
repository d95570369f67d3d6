"""``mdm-migrate``: plan, run, status, validate, rollback and cleanup of a home's migration.

Exit codes: 0 done, 1 failed, 2 usage, 3 verification mismatch, 4 another migration
command holds the home's lock, 5 finished with datasets skipped. ``check`` uses the same
meanings for readiness: 0 ready, 1 blocked, 5 needs attention.
"""

from __future__ import annotations

import os
import sys

import click

from mdm_core.cli.output import (
    FORMAT_OPTION,
    emit_json,
    emit_table,
    log_mode,
    split_list,
    verbosity_options,
)
from mdm_core.errors import MDMError
from mdm_core.migration import PHASES

PHASE_OPTION = click.option("--phase", type=click.Choice(PHASES), help="Up to and including this phase (default: all).")
TO_OPTION = click.option("--to", "to", help="Target backend of the storage phase (default: each dataset's own engine).")
DATASETS_OPTION = click.option("--datasets", help="Comma-separated datasets to migrate (default: all).")
SCRIPTS_OPTION = click.option(
    "--scripts", multiple=True, type=click.Path(exists=True, path_type=str),
    help="A script or a folder of scripts whose MDM 1.x usage the cli phase rewrites (repeatable).")


def _migration(to: str | None = None, datasets: str | None = None, scripts: tuple[str, ...] = ()):
    import os

    from mdm_core.datasets.models import normalize_name
    from mdm_core.migration.orchestrator import Migration
    from mdm_core.migration.step import RunOptions

    names = tuple(normalize_name(n) for n in split_list(datasets))
    paths = tuple(os.path.abspath(p) for p in scripts)
    return Migration(options=RunOptions(to=to.strip().lower() if to else None, datasets=names, scripts=paths))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@verbosity_options
@click.pass_context
def cli(ctx: click.Context, verbose: bool, debug: bool) -> None:
    """Migrate an MDM home phase by phase: config, storage, features, dataset, cli."""
    from mdm_core.logging import configure_logging

    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    configure_logging(log_mode(verbose, debug))


@cli.command()
@FORMAT_OPTION
def steps(fmt: str) -> None:
    """List the migration steps installed plugins contribute, by phase."""
    from mdm_core.migration.step import installed_steps

    rows = [{"phase": step.phase, "step": step.name, "plugin": plugin} for plugin, step in installed_steps()]
    if fmt == "json":
        emit_json({"phases": list(PHASES), "steps": rows})
        return
    if not rows:
        click.echo("No migration steps installed (phases: " + " -> ".join(PHASES) + ").")
        return
    emit_table(None, ["phase", "step", "plugin"], [[r["phase"], r["step"], r["plugin"]] for r in rows])


@cli.command()
@PHASE_OPTION
@TO_OPTION
@DATASETS_OPTION
@SCRIPTS_OPTION
@FORMAT_OPTION
def plan(phase: str | None, to: str | None, datasets: str | None, scripts: tuple[str, ...], fmt: str) -> None:
    """Show what each phase would do; changes nothing."""
    from mdm_core.migration.render import plan_json, show_plan

    result = _migration(to, datasets, scripts).plan(phase)
    if fmt == "json":
        emit_json(plan_json(result))
    else:
        show_plan(result)


@cli.command()
@PHASE_OPTION
@TO_OPTION
@DATASETS_OPTION
@SCRIPTS_OPTION
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--restart", is_flag=True, help="Roll back an interrupted run's unfinished phases, then start them over.")
@FORMAT_OPTION
def run(phase: str | None, to: str | None, datasets: str | None, scripts: tuple[str, ...], yes: bool, restart: bool,
        fmt: str) -> None:
    """Apply the phases in order (up to --phase): back up, apply, verify, flip the flag."""
    from mdm_core.migration.render import ProgressReporter, run_json, show_run

    migration = _migration(to, datasets, scripts)
    if not yes and fmt != "json":
        from mdm_core.migration.render import show_plan

        preview = migration.plan(phase)
        show_plan(preview)
        if not click.confirm("Run this migration?", default=False):
            click.echo("Nothing changed.")
            return
    elif not yes:
        raise click.UsageError("--format json cannot ask for confirmation: add --yes.")
    with ProgressReporter(enabled=fmt != "json") as reporter:
        report = migration.run(phase, restart=restart, reporter=reporter)
    if fmt == "json":
        emit_json(run_json(report))
    else:
        show_run(report)
    sys.exit(report.exit_code)


@cli.command()
@FORMAT_OPTION
def status(fmt: str) -> None:
    """Every phase and unit: pending, running, done, failed, rolled back; the next command."""
    from mdm_core.migration.render import show_status, status_json

    migration = _migration()
    data = status_json(migration)
    if fmt == "json":
        emit_json(data)
    else:
        show_status(data)


@cli.command()
@click.option("--deep", is_flag=True, help="Compare content checksums, not only row counts.")
@FORMAT_OPTION
def validate(deep: bool, fmt: str) -> None:
    """Re-check that every migrated unit still matches its source."""
    from mdm_core.migration.orchestrator import EXIT_MISMATCH
    from mdm_core.migration.render import outcome_json

    outcomes = _migration().validate(deep=deep)
    bad = [o for o in outcomes if o.problems]
    if fmt == "json":
        emit_json({"deep": deep, "units": [outcome_json(o) for o in outcomes], "mismatches": len(bad)})
    else:
        if not outcomes:
            click.echo("Nothing migrated yet: nothing to validate.")
        for o in outcomes:
            click.echo(f"{'ok      ' if not o.problems else 'MISMATCH'}  {o.record.step}  {o.record.unit}"
                       + (f"  {'; '.join(o.problems)}" if o.problems else ""))
        if outcomes:
            click.echo(f"{len(outcomes) - len(bad)} of {len(outcomes)} units verify"
                       + (" (content checksums compared)." if deep else " (row counts; --deep compares content)."))
    if bad:
        sys.exit(EXIT_MISMATCH)


@cli.command()
@click.option("--phase", type=click.Choice(PHASES), help="Roll back this phase and every later one.")
@click.option("--all", "all_", is_flag=True, help="Roll back every phase.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@FORMAT_OPTION
def rollback(phase: str | None, all_: bool, yes: bool, fmt: str) -> None:
    """Undo phases newest first: remove what they created, restore the files they changed."""
    if not phase and not all_:
        raise click.UsageError("Say what to roll back: --phase P (and every later phase) or --all.")
    if not yes:
        if fmt == "json":
            raise click.UsageError("--format json cannot ask for confirmation: add --yes.")
        what = f"phase {phase} and every later phase" if phase else "every phase"
        if not click.confirm(f"Roll back {what}?", default=False):
            click.echo("Nothing changed.")
            return
    undone = _migration().rollback(None if all_ else phase)
    if fmt == "json":
        emit_json({"rolled_back": undone})
    elif undone:
        click.echo(f"Rolled back: {', '.join(reversed(undone))}.")
    else:
        click.echo("Nothing to roll back.")


@cli.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@FORMAT_OPTION
def cleanup(yes: bool, fmt: str) -> None:
    """After a verified run: remove backups and the old files the migration replaced."""
    if not yes:
        if fmt == "json":
            raise click.UsageError("--format json cannot ask for confirmation: add --yes.")
        if not click.confirm("Remove the backups and the replaced files? Rollback will no longer be possible.",
                             default=False):
            click.echo("Nothing changed.")
            return
    removed = _migration().cleanup()
    if fmt == "json":
        emit_json({"removed": removed})
    else:
        for item in removed:
            click.echo(f"Removed {item}")
        click.echo(f"Cleaned up: {len(removed)} replaced items and every backup removed.")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["html", "json", "md"]),
              help="Report format (default: from the suffix of -o, else md).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=str), help="Write the report to this file.")
def report(fmt: str | None, output: str | None) -> None:
    """A report of the migration from its journal: phases, tables, warnings, readiness."""
    from mdm_core.migration.report import SUFFIX_FORMATS, build_report

    if output and fmt is None and os.path.splitext(output)[1].lower() not in SUFFIX_FORMATS:
        raise click.UsageError(f"Cannot tell the format from {output!r}: add --format html|json|md.")
    result = build_report(_migration())
    if output:
        path = result.save(output, fmt)
        click.echo(f"Report written to {path}", err=True)
    else:
        click.echo(result.render(fmt or "md"), nl=False)


@cli.command()
@TO_OPTION
@FORMAT_OPTION
def check(to: str | None, fmt: str) -> None:
    """Is the home ready to migrate (disk, plugins, servers, lock, broken datasets)? Writes nothing."""
    import attrs

    from mdm_core.migration.readiness import assess

    result = assess(_migration(to))
    if fmt == "json":
        emit_json({**attrs.asdict(result), "exit_code": result.exit_code})
    else:
        emit_table(f"Readiness: {result.overall_score}/100, {result.status}", ["check", "result", "found", "fix"],
                   [[i.name, "ok" if i.ok else i.severity.upper(), i.message, i.fix] for i in result.items])
    sys.exit(result.exit_code)


def main() -> None:
    """Entry point: MDM errors become one line on stderr with their exit code."""
    from mdm_core.cli.main import error_message, run_group

    try:
        run_group(cli, "mdm-migrate")
    except MDMError as exc:
        if _debug():
            raise
        click.echo(f"Error: {error_message(str(exc))[0]}", err=True)
        sys.exit(getattr(exc, "exit_code", 1))
    except KeyboardInterrupt:
        click.echo("Interrupted; the next `mdm-migrate run` resumes where this one stopped.", err=True)
        sys.exit(130)


def _debug() -> bool:
    return "--debug" in sys.argv[1:]
