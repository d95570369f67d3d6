"""``mdm dataset repair NAME``: rebuild an unreadable or missing ``dataset.yaml`` from the
dataset's store (see :mod:`mdm_core.datasets.repair`)."""

from __future__ import annotations

import click

from mdm_core.cli.output import FORMAT_OPTION, emit_json


@click.command()
@click.argument("name")
@FORMAT_OPTION
def repair(name: str, fmt: str) -> None:
    """Rebuild the unreadable metadata of dataset NAME from its store.

    Tables, columns, types and row counts are read from the database; the damaged file
    is kept as dataset.yaml.corrupt-<time>."""
    from mdm_core.config import load_settings
    from mdm_core.datasets.models import dataset_to_dict
    from mdm_core.datasets.repair import repair_dataset

    result = repair_dataset(load_settings().settings, name)
    info = result.info
    if fmt == "json":
        emit_json({"dataset": dataset_to_dict(info), "kept": str(result.kept) if result.kept else None})
        return
    tables = ", ".join(f"{t.name} ({t.row_count:,} rows)" for t in info.tables)
    click.echo(f"Rebuilt the metadata of dataset '{info.name}' from its {info.backend} store: {tables}.")
    if result.kept:
        click.echo(f"The damaged file is kept as {result.kept}.")
    click.echo("Check the target, ID columns and description (mdm dataset info); set them with mdm dataset update.")
