"""``mdm plugins list``: every plugin, its status and hooks, and who wins each hook."""

from __future__ import annotations

import attrs
import click

from mdm_core.cli.output import FORMAT_OPTION, emit_json, emit_table


@click.group()
def plugins() -> None:
    """Inspect installed plugins."""


@plugins.command("list")
@FORMAT_OPTION
def list_(fmt: str) -> None:
    """List plugins and, per hook, which implementation wins now and why."""
    from mdm_core.config import load_settings
    from mdm_core.flags import choose
    from mdm_core.plugins import IMPLEMENTATION_HOOKS, get_plugin_manager

    manager = get_plugin_manager()
    call_every_hook()
    flags = load_settings().settings.flags
    winners = []
    for kind in IMPLEMENTATION_HOOKS:
        offered = manager.implementations(kind)
        for name in sorted({impl.name for _, impl in offered}):
            choice = choose(kind, name, offered, flags)
            winners.append({"hook": kind, "name": name, "plugin": choice.plugin,
                            "generation": choice.winner.generation, "reason": choice.reason,
                            "candidates": list(choice.alternatives)})
    records = [attrs.asdict(r) for r in manager.records]
    if fmt == "json":
        emit_json({"plugins": records, "winners": winners})
        return
    emit_table("Plugins", ["name", "distribution", "version", "status", "hooks / error"],
               [[r["name"], r["distribution"], r["version"], r["status"],
                 r["error"] or ", ".join(r["hooks"])] for r in records])
    emit_table("Selection", ["hook", "name", "winner", "why"],
               [[w["hook"], w["name"], f"{w['plugin']} ({w['generation']})", w["reason"]] for w in winners])


def call_every_hook() -> None:
    """Call every 1:N hook through the code that uses it, so a plugin failing in any of
    them is marked failed before the report is drawn (selectable hooks are called below)."""
    from mdm_core.cli.main import plugin_commands
    from mdm_core.features.discovery import plugin_custom_features
    from mdm_core.migration.step import installed_steps
    from mdm_core.sources import source_formats

    plugin_commands()
    plugin_custom_features()
    installed_steps()
    source_formats()
