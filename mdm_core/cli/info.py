"""``mdm info``: what this MDM is and what its home holds, from metadata alone.

Reads the settings, the plugin report and the catalog (``dataset.yaml`` files), never a
store: no pyarrow, pandas or driver is imported for a new-layout home.
"""

from __future__ import annotations

import click

from mdm_core.cli.output import FORMAT_OPTION, emit_json, emit_table, human_size


def home_summary() -> dict:
    """The numbers ``mdm info`` shows, as plain data."""
    from mdm_core import __version__
    from mdm_core.config import load_settings
    from mdm_core.datasets.metadata_ops import folder_size, metadata_catalog
    from mdm_core.plugins import get_plugin_manager

    settings = load_settings().settings
    catalog = metadata_catalog(settings)  # loads the plugins
    records = get_plugin_manager().records
    infos = catalog.list()
    return {
        "version": __version__,
        "home": str(settings.home),
        "default_backend": settings.database.default_backend,
        "plugins": {
            "loaded": sum(r.status == "loaded" for r in records),
            "failed": sum(r.status == "failed" for r in records),
            "disabled": sum(r.status == "disabled" for r in records),
        },
        "datasets": {"total": len(infos), "legacy": sum(i.legacy for i in infos)},
        "disk_used_bytes": folder_size(settings.home),
    }


@click.command()
@FORMAT_OPTION
def info(fmt: str) -> None:
    """Show MDM's version, home, default backend, plugins, datasets and disk used."""
    summary = home_summary()
    if fmt == "json":
        emit_json(summary)
        return
    plugins, datasets = summary["plugins"], summary["datasets"]
    failed = f", {plugins['failed']} failed (see `mdm plugins list`)" if plugins["failed"] else ""
    legacy = f" ({datasets['legacy']} MDM 1.x, read-only until migrated)" if datasets["legacy"] else ""
    emit_table(None, ["", ""], [
        ["version", summary["version"]],
        ["home", summary["home"]],
        ["default backend", summary["default_backend"]],
        ["plugins", f"{plugins['loaded']} loaded{failed}"],
        ["datasets", f"{datasets['total']}{legacy}"],
        ["disk used", f"{human_size(summary['disk_used_bytes'])} (the home folder; server backends hold more)"],
    ])
