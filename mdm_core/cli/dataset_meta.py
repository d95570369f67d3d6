"""``mdm dataset update`` and ``mdm dataset search``, and the ``list`` options (sort,
limit, backend): metadata only, no store opened."""

from __future__ import annotations

from collections.abc import Sequence

import click

from mdm_core.cli.output import FORMAT_OPTION, emit_json
from mdm_core.datasets.models import DatasetInfo


def _split(value: str | None) -> tuple[str, ...] | None:
    """A comma list; None when the option was not given ("" clears)."""
    if value is None:
        return None
    return tuple(v.strip() for v in value.split(",") if v.strip())


def select_datasets(catalog, infos: Sequence[DatasetInfo], *, backend: str | None = None, sort_by: str = "name",
                    reverse: bool = False, limit: int | None = None) -> list[DatasetInfo]:
    """``infos`` on ``backend`` (all when None), ordered by ``sort_by``, at most ``limit``."""
    from mdm_core.datasets.metadata_ops import folder_size, search, sort_datasets

    chosen = search(infos, backend=backend) if backend else list(infos)
    sizes: dict[str, int] = {}

    def size_of(info: DatasetInfo) -> int:
        if info.name not in sizes:
            sizes[info.name] = folder_size(catalog.folder(info.name))
        return sizes[info.name]

    ordered = sort_datasets(chosen, sort_by, reverse, size_of if sort_by == "size" else None)
    return ordered if limit is None else ordered[:limit]


@click.command()
@click.argument("name")
@click.option("--description", help="New description.")
@click.option("--target", help="Target column of the main table (\"\" clears it).")
@click.option("--problem-type", help="binary, multiclass, classification, regression, time_series, clustering (\"\" clears).")
@click.option("--id-columns", help="Comma-separated ID columns, replacing the current ones (\"\" clears).")
@click.option("--time-column", help="Time column (\"\" clears).")
@click.option("--group-column", help="Group column (\"\" clears).")
@click.option("--tags", help="Comma-separated tags, replacing the current ones (\"\" clears).")
@click.option("--add-tags", help="Comma-separated tags to add.")
@click.option("--remove-tags", help="Comma-separated tags to remove.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def update(name, description, target, problem_type, id_columns, time_column, group_column, tags, add_tags,
           remove_tags, fmt) -> None:
    """Change dataset NAME's metadata (its data is untouched)."""
    from mdm_core.cli.dataset import info_json
    from mdm_core.datasets.metadata_ops import metadata_catalog, update_dataset

    result = update_dataset(  # metadata only: no data stack imported
        metadata_catalog(),
        name, description=description, target=target, problem_type=problem_type, id_columns=_split(id_columns),
        time_column=time_column, group_column=group_column, tags=_split(tags), add_tags=_split(add_tags),
        remove_tags=_split(remove_tags),
    )
    info = result.info
    stale = (f"Warning: the feature tables of '{info.name}' are stale (target or ID columns changed); "
             f"run `mdm features regenerate {info.name}`.")
    if fmt == "json":
        emit_json({**info_json(info), "changed": list(result.changed), "features_stale": result.features_stale})
        if result.features_stale:
            click.echo(stale, err=True)
        return
    what = ", ".join(result.changed) if result.changed else "nothing changed"
    click.echo(f"Updated dataset '{info.name}': {what}.")
    if result.features_stale:
        click.echo(stale)


@click.command()
@click.argument("pattern", required=False)
@click.option("--tag", "tags", multiple=True, help="Only datasets with this tag (repeatable: all of them).")
@click.option("--problem-type", help="Only datasets of this problem type (any accepted spelling).")
@click.option("--backend", help="Only datasets stored on this backend.")
@click.option("--min-rows", type=click.IntRange(min=0), help="Only datasets whose data tables hold at least N rows.")
@click.option("--max-rows", type=click.IntRange(min=0), help="Only datasets whose data tables hold at most N rows.")
@FORMAT_OPTION
def search(pattern, tags, problem_type, backend, min_rows, max_rows, fmt) -> None:
    """Find datasets whose name, display name or description contain PATTERN (or match it
    as a glob: * ? [...]), filtered by tag, problem type, backend and rows."""
    from mdm_core.cli.dataset import show_datasets
    from mdm_core.datasets.metadata_ops import metadata_catalog, search

    found = search(metadata_catalog().list(), pattern, tags=tags, problem_type=problem_type, backend=backend,
                   min_rows=min_rows, max_rows=max_rows)  # metadata only: no data stack imported
    show_datasets(found, fmt, empty="No datasets match.")
