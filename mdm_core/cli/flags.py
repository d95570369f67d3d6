"""``mdm flags``: list and set the flags that choose implementations."""

from __future__ import annotations

import click

from mdm_core.cli.output import FORMAT_OPTION, emit_json, emit_table
from mdm_core.flags import FLAG_NAMES


@click.group()
def flags() -> None:
    """Show or set the implementation flags."""


@flags.command("list")
@FORMAT_OPTION
def list_(fmt: str) -> None:
    """List flags with their values and sources."""
    from mdm_core.config import load_settings

    loaded = load_settings()
    rows = [
        (name, getattr(loaded.settings.flags, name), loaded.sources.get(f"flags.{name}", "default"))
        for name in FLAG_NAMES
    ]
    if fmt == "json":
        emit_json({n: {"value": v, "source": s} for n, v, s in rows})
        return
    emit_table(None, ["flag", "value", "source"], [(n, "on" if v else "off", s) for n, v, s in rows])


@flags.command("set")
@click.argument("name", type=click.Choice(FLAG_NAMES))
@click.argument("value", type=click.Choice(["on", "off"]))
def set_(name: str, value: str) -> None:
    """Set flag NAME on or off in the home's mdm.yaml."""
    import os

    from mdm_core.config import resolve_home, update_config_file

    path = update_config_file(resolve_home(), f"flags.{name}", value == "on")
    click.echo(f"{name} = {value} (written to {path}).")
    env = f"MDM_FLAGS_{name.upper()}"
    if env in os.environ:
        click.echo(f"Note: {env}={os.environ[env]} is set and overrides the file.")
