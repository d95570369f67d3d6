"""``mdm-migrate``: the migration tool's entry point."""

from __future__ import annotations

import click

from mdm_core.cli.output import FORMAT_OPTION, emit_json, emit_table
from mdm_core.migration import PHASES


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Migrate an MDM home phase by phase: config, storage, features, dataset, cli."""


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


def main() -> None:
    cli(prog_name="mdm-migrate")
