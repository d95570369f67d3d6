"""``mdm config``: show, validate, path, reference, tune."""

from __future__ import annotations

import click

from mdm_core.cli.output import FORMAT_OPTION, emit_json, emit_table
from mdm_core.config.shown import settings_rows, unknown_key_lines


@click.group()
def config() -> None:
    """Inspect the configuration of the MDM home."""


@config.command()
@click.option("--sources", is_flag=True, help="Show where each value comes from.")
@FORMAT_OPTION
def show(sources: bool, fmt: str) -> None:
    """Show every setting with its current value."""
    from mdm_core.config import load_settings
    from mdm_core.secrets import mask

    loaded = load_settings()
    rows = settings_rows(loaded)
    for line in unknown_key_lines(loaded):
        click.echo(f"Warning: {line}", err=True)
    for note in loaded.notes:
        click.echo(f"Warning: {mask(note)}", err=True)
    if fmt == "json":
        data = {"home": str(loaded.settings.home), "loader": loaded.loader, "values": {k: v for k, v, _ in rows}}
        if sources:
            data["sources"] = {k: s for k, _, s in rows}
        if loaded.unknown:
            data["unknown_keys"] = list(loaded.unknown)
        if loaded.notes:
            data["notes"] = [mask(note) for note in loaded.notes]
        emit_json(data)
        return
    click.echo(f"Home: {loaded.settings.home}")
    headers = ["key", "value", "source"] if sources else ["key", "value"]
    emit_table(None, headers, [r if sources else r[:2] for r in rows])


@config.command()
def validate() -> None:
    """Check that the config file and MDM_* variables are valid (exit 1 if not)."""
    from mdm_core.config import load_settings
    from mdm_core.config.model import check_choices
    from mdm_core.errors import ConfigError
    from mdm_core.secrets import mask

    loaded = load_settings()
    check_choices(loaded.settings, loaded.sources)
    unknown = unknown_key_lines(loaded)
    if unknown:
        raise ConfigError("; ".join(unknown) + ".")
    for note in loaded.notes:
        click.echo(f"Warning: {mask(note)}", err=True)
    where = ", ".join(loaded.files) or "no config file (defaults)"
    click.echo(f"Configuration is valid ({where}).")


@config.command()
def path() -> None:
    """Print the path of the config file of the MDM home."""
    from mdm_core.config import resolve_home
    from mdm_core.config.loader import CONFIG_FILE

    click.echo(str(resolve_home() / CONFIG_FILE))


@config.command()
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True,
              help="Markdown tables (as in docs/configuration.md) or JSON for scripts.")
def reference(fmt: str) -> None:
    """Print every config key with its type, default, variable, aliases and meaning."""
    from mdm_core.config.reference import render_json, render_markdown

    if fmt == "json":
        emit_json(render_json())
    else:
        click.echo(render_markdown(), nl=False)


@config.command()
@click.option("--apply", "apply_", is_flag=True,
              help="Write the changed values into mdm.yaml (backed up first as mdm.yaml.bak-<time>).")
@FORMAT_OPTION
def tune(apply_: bool, fmt: str) -> None:
    """Propose performance settings for this machine and the home's largest table."""
    from mdm_core.performance.tuner import PerformanceTuner

    tuner = PerformanceTuner()
    proposals = tuner.auto_tune()
    changed = [p for p in proposals if p.changes]
    applied = tuner.apply_config(changed) if apply_ and changed else None
    if fmt == "json":
        data = {"proposals": [{"key": p.key, "current": p.current, "proposed": p.proposed, "changes": p.changes,
                               "reason": p.reason} for p in proposals], "applied": None}
        if applied is not None:
            data["applied"] = {"file": str(applied.path), "backup": applied.backup and str(applied.backup),
                               "values": applied.values}
        emit_json(data)
        return
    emit_table("Tuning", ["key", "current -> proposed", "reason"],
               [(p.key, f"{_shown(p.current)} -> {_shown(p.proposed)}" if p.changes else f"{_shown(p.current)} (keep)",
                 p.reason) for p in proposals])
    if applied is not None:
        backup = f" (backup: {applied.backup.name})" if applied.backup else ""
        click.echo(f"Wrote {len(applied.values)} setting(s) to {applied.path}{backup}.")
    elif changed:
        click.echo(f"{len(changed)} setting(s) would change; run `mdm config tune --apply` to write them.")
    else:
        click.echo("Nothing to change.")


def _shown(value) -> str:
    return "none" if value is None else str(value)
