"""``mdm config``: show, validate, path."""

from __future__ import annotations

import click

from mdm_core.cli.output import FORMAT_OPTION, emit_json, emit_table


@click.group()
def config() -> None:
    """Inspect the configuration of the MDM home."""


@config.command()
@click.option("--sources", is_flag=True, help="Show where each value comes from.")
@FORMAT_OPTION
def show(sources: bool, fmt: str) -> None:
    """Show every setting with its current value."""
    from mdm_core.config import load_settings
    from mdm_core.config.model import LEAVES, converter, get_dotted
    from mdm_core.secrets import mask, mask_setting

    loaded = load_settings()
    values = converter.unstructure(loaded.settings)
    rows = []
    for dotted in LEAVES:
        _, value = get_dotted(values, dotted)
        rows.append((dotted, mask_setting(dotted, value), mask(loaded.sources.get(dotted, "default"))))
    if fmt == "json":
        data = {"home": str(loaded.settings.home), "loader": loaded.loader, "values": {k: v for k, v, _ in rows}}
        if sources:
            data["sources"] = {k: s for k, _, s in rows}
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

    loaded = load_settings()
    check_choices(loaded.settings, loaded.sources)
    where = ", ".join(loaded.files) or "no config file (defaults)"
    click.echo(f"Configuration is valid ({where}).")


@config.command()
def path() -> None:
    """Print the path of the config file of the MDM home."""
    from mdm_core.config import resolve_home
    from mdm_core.config.loader import CONFIG_FILE

    click.echo(str(resolve_home() / CONFIG_FILE))
