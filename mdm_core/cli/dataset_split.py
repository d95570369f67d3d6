"""``mdm dataset split``: a table split into a new dataset holding ``train`` and ``test``."""

from __future__ import annotations

import attrs
import click

from mdm_core.cli.output import FORMAT_OPTION, emit_json


@click.command("split")
@click.argument("name")
@click.option("--table", help="Table to split (default: train or data).")
@click.option("--test-size", type=float, default=0.2, show_default=True,
              help="Share of rows (random, stratified) or of the time range (time split) going to test.")
@click.option("--stratify", is_flag=True, help="Keep each target value's share in both tables.")
@click.option("--stratify-column", help="Stratify by this column instead of the target.")
@click.option("--time-column", help="Split by time: test holds the latest times (default for time-series datasets).")
@click.option("--test-days", type=int, help="Time split: test holds the last N days.")
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed (same seed, same split).")
@click.option("--into", help="Name of the new dataset (default: NAME_split).")
@click.option("--no-features", is_flag=True, help="Skip feature generation for the new dataset.")
@click.option("--force", is_flag=True, help="Replace the new dataset if it exists.")
@FORMAT_OPTION
def split(name, table, test_size, stratify, stratify_column, time_column, test_days, seed, into, no_features,
          force, fmt) -> None:
    """Split a table of dataset NAME into a new dataset with tables train and test."""
    from mdm_core.datasets.client import MDMClient

    result = MDMClient().split_dataset(
        name, table=table, test_size=test_size, stratify=stratify, stratify_column=stratify_column,
        time_column=time_column, test_days=test_days, seed=seed, into=into, generate_features=not no_features,
        force=force,
    )
    if fmt == "json":
        emit_json(attrs.asdict(result))
        return
    if result.method == "time":
        how = f"by time on '{result.column}', test from {result.test_from}"
    else:
        by = f" by '{result.column}'" if result.column else ""
        how = f"{result.method}{by}, test size {result.test_size}, seed {result.seed}"
    click.echo(f"Split table '{result.table}' of dataset '{result.source}' ({how}) into dataset "
               f"'{result.dataset}' on {result.backend}: train {result.rows['train']:,} rows, "
               f"test {result.rows['test']:,} rows.")
    if result.dropped:
        click.echo(f"{result.dropped:,} rows with no time in '{result.column}' went to neither table.")
