"""The ``mdm`` command group: global options, error handling, command registration.

Each command family lives in its own module (``cli/dataset.py``, ``cli/config.py``, ...)
and is added here. Every MDMError becomes one sentence on stderr and exit code 1; the
traceback is shown only with ``--debug``. Whatever reaches the terminal is masked (no
password) and an over-long message (a driver quoting a whole statement) is cut to its
first line; the full text goes to the debug log.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import sys
import traceback

import click

from mdm_core import __version__
from mdm_core.cli.output import log_mode, verbosity_options
from mdm_core.errors import MAX_ERROR_CHARS, MAX_SENTENCE_CHARS, MDMError, permission_sentence
from mdm_core.logging import FILE_ONLY, configure_logging, debug_enabled, get_logger
from mdm_core.secrets import mask

log = get_logger(__name__)

BUILTIN_GROUPS = {
    "dataset": "mdm_core.cli.dataset:dataset",
    "config": "mdm_core.cli.config:config",
    "flags": "mdm_core.cli.flags:flags",
    "plugins": "mdm_core.cli.plugins:plugins",
    "storage": "mdm_core.cli.storage:storage",
    "features": "mdm_core.cli.features:features",
    "info": "mdm_core.cli.info:info",
    "batch": "mdm_core.cli.batch:batch",
    "timeseries": "mdm_core.cli.timeseries:timeseries",
    "benchmark": "mdm_core.cli.benchmark:benchmark",
    "stats": "mdm_core.cli.stats:stats",
    "selftest": "mdm_core.cli.selftest:selftest",
    "backup": "mdm_core.cli.backup:backup",
    "restore": "mdm_core.cli.backup:restore",
    "doctor": "mdm_core.cli.doctor:doctor",
    "diagnose": "mdm_core.cli.doctor:diagnose",
}


class MDMGroup(click.Group):
    """Loads built-in command modules lazily and plugin commands on demand, and turns
    MDM errors into one clear line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx)) | {n for n in BUILTIN_GROUPS if _builtin_available(n)}
        names |= set(plugin_commands())
        return sorted(names)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in BUILTIN_GROUPS and _builtin_available(name):
            module_name, attr = BUILTIN_GROUPS[name].split(":")
            module = __import__(module_name, fromlist=[attr])
            return getattr(module, attr)
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        return plugin_commands().get(name)

    def main(self, *args, **kwargs):
        """Parsing and running share one load of the settings per home."""
        from mdm_core.config import settings_loaded_once

        with settings_loaded_once():
            return super().main(*args, **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """MDM 1.x spellings are rewritten or refused first (``cli/legacy_spellings.py``);
        not while completing a command line (resilient parsing)."""
        from mdm_core.cli.legacy_spellings import apply_legacy_spellings

        ctx.meta["mdm.args"] = list(args)
        return super().parse_args(ctx, args if ctx.resilient_parsing else apply_legacy_spellings(self, args))

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MDMError as exc:
            _log_failure(ctx, exc)
            message, cut = error_message(str(exc), MAX_SENTENCE_CHARS)
            if cut:
                message += "... (run with --debug for the full message)"
            text, code = _traceback_if_debug(ctx) or f"Error: {message}", 1
        except KeyboardInterrupt:
            text, code = "Interrupted; nothing was left half-done.", 130
        except PermissionError as exc:  # a read-only home or output folder
            _log_failure(ctx, exc)
            text, code = _traceback_if_debug(ctx) or f"Error: {permission_sentence(exc)}", 1
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, BrokenPipeError):
            raise
        except Exception as exc:  # a bug or an engine failure MDM did not anticipate
            _log_failure(ctx, exc)
            message, cut = error_message(str(exc))
            if cut:
                message += "..."
            text = _traceback_if_debug(ctx) or (
                f"Error: unexpected {type(exc).__name__}: {message} (run with --debug for the "
                f"{'full message and the ' if cut else ''}traceback)."
            )
            code = 1
        # outside the except block: the failed command's frames are free to be collected
        _finish_pending_work()
        click.echo(text, err=True)
        sys.exit(code)


def error_message(text: str, limit: int = MAX_ERROR_CHARS) -> tuple[str, bool]:
    """``text`` masked, on one line; if longer than ``limit`` characters, cut to its first
    line (at a word boundary within ``limit``). Returns (message, was_cut)."""
    lines = [line.strip() for line in mask(text).splitlines() if line.strip()]
    joined = " ".join(lines)
    if len(joined) <= limit:  # short: all of it, on one line
        return joined, False
    first = lines[0]
    if len(first) > limit:
        first = first[:limit]
        space = first.rfind(" ")
        if space > limit // 2:
            first = first[:space]
    return first.rstrip(" .,;:"), True


def _log_failure(ctx: click.Context, exc: BaseException) -> None:
    """The full (masked) error and traceback go to the log file, never to the terminal."""
    details = {} if isinstance(exc, MDMError) else {"exception": traceback.format_exc()}
    log.error(
        "command failed",
        command=" ".join(ctx.meta.get("mdm.args", ())),
        error_type=type(exc).__name__,
        error=str(exc),
        **details,
        **{FILE_ONLY: True},
    )


def _traceback_if_debug(ctx: click.Context) -> str | None:
    """``--debug``: the full traceback of the error being handled (masked)."""
    if ctx.obj and ctx.obj.get("debug"):
        return mask(traceback.format_exc()).rstrip()
    return None


def _finish_pending_work() -> None:
    """Collect what the failed command left (readers suspended mid-file, with their
    engine threads) now, while the interpreter is whole, not during its shutdown."""
    gc.collect()


def _builtin_available(name: str) -> bool:
    return importlib.util.find_spec(BUILTIN_GROUPS[name].split(":")[0]) is not None


def plugin_commands() -> dict[str, click.Command]:
    """Commands plugins add; a plugin offering anything else, or a built-in's name, is
    marked failed (``mdm plugins list``)."""
    from mdm_core.plugins import get_plugin_manager

    found = get_plugin_manager().collect(
        "mdm_cli_commands", accept=lambda c: isinstance(c, click.Command) and c.name not in BUILTIN_GROUPS,
        expected="a click.Command whose name no built-in command has",
    )
    return {command.name: command for _, command in found}


@click.group(cls=MDMGroup, context_settings={"help_option_names": ["-h", "--help"]})
@verbosity_options
@click.pass_context
def cli(ctx: click.Context, verbose: bool, debug: bool) -> None:
    """MDM: register ML datasets, store them, serve them back."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    mode = log_mode(verbose, debug)
    configure_logging(mode)
    if ctx.invoked_subcommand not in (None, "version"):
        _log_to_configured_file(mode)


def _log_to_configured_file(mode: str) -> None:
    """Apply ``logging.level``/``logging.file``/``logging.format`` of the home. An invalid
    config is left for the command to report (``mdm config validate`` says why)."""
    from mdm_core.config import load_settings

    try:
        loaded = load_settings()
    except MDMError:
        return
    configure_logging(mode, settings=loaded.settings)
    if debug_enabled():
        from mdm_core.config import describe_sources

        log.debug("settings loaded", home=str(loaded.settings.home), loader=loaded.loader,
                  settings=describe_sources(loaded))


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
    run_group(cli, "mdm")


def run_group(group: click.Group, prog_name: str) -> None:
    """Run ``group`` as a console script: click's usage errors and exit codes as click
    gives them, and a closed stdout (``| head``) is not an error. Other exceptions pass."""
    try:
        group(prog_name=prog_name, standalone_mode=False)
        sys.stdout.flush()
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except BrokenPipeError:  # the reader of stdout left (``mdm dataset list | head``): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
