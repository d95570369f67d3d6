"""The ``mdm`` command group: global options, error handling, command registration.

Each command family lives in its own module (``cli/dataset.py``, ``cli/config.py``, ...)
and is added here. Every MDMError becomes one sentence on stderr and exit code 1; the
traceback is shown only with ``--debug``.
"""

from __future__ import annotations

import importlib.util
import sys

import click

from mdm_core import __version__
from mdm_core.errors import MDMError
from mdm_core.logging import configure_logging

BUILTIN_GROUPS = {
    "dataset": "mdm_core.cli.dataset:dataset",
    "config": "mdm_core.cli.config:config",
    "flags": "mdm_core.cli.flags:flags",
    "plugins": "mdm_core.cli.plugins:plugins",
    "storage": "mdm_core.cli.storage:storage",
    "features": "mdm_core.cli.features:features",
}


class MDMGroup(click.Group):
    """Loads built-in command modules lazily and plugin commands on demand, and turns
    MDM errors into one clear line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx)) | {n for n in BUILTIN_GROUPS if _builtin_available(n)}
        names |= set(_plugin_commands())
        return sorted(names)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in BUILTIN_GROUPS and _builtin_available(name):
            module_name, attr = BUILTIN_GROUPS[name].split(":")
            module = __import__(module_name, fromlist=[attr])
            return getattr(module, attr)
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        return _plugin_commands().get(name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MDMError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted; nothing was left half-done.", err=True)
            sys.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # a bug or an engine failure MDM did not anticipate
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(
                f"Error: unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback).",
                err=True,
            )
            sys.exit(1)


def _builtin_available(name: str) -> bool:
    return importlib.util.find_spec(BUILTIN_GROUPS[name].split(":")[0]) is not None


def _plugin_commands() -> dict[str, click.Command]:
    from mdm_core.plugins import get_plugin_manager

    commands: dict[str, click.Command] = {}
    for plugin, command in get_plugin_manager().collect("mdm_cli_commands"):
        if not isinstance(command, click.Command) or command.name in BUILTIN_GROUPS:
            click.echo(f"Warning: plugin '{plugin}' offers an invalid or clashing command.", err=True)
            continue
        commands[command.name] = command
    return commands


@click.group(cls=MDMGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what MDM is doing.")
@click.option("--debug", is_flag=True, help="Log everything and show tracebacks.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool, debug: bool) -> None:
    """MDM: register ML datasets, store them, serve them back."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    configure_logging("debug" if debug else "verbose" if verbose else "quiet")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def version(fmt: str) -> None:
    """Show the MDM version."""
    from mdm_core.cli.output import emit_json

    if fmt == "json":
        emit_json({"mdm_core": __version__})
    else:
        click.echo(f"mdm {__version__}")


def main() -> None:
    cli(prog_name="mdm")
