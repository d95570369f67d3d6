"""``mdm dataset``: register, list, info, remove."""

from __future__ import annotations

import click

from mdm_core.cli.output import FORMAT_OPTION, emit_json, emit_table, split_list
from mdm_core.datasets.models import DatasetInfo, TableInfo, dataset_to_dict


def _client():
    from mdm_core.datasets.client import MDMClient

    return MDMClient()


@click.group()
def dataset() -> None:
    """Register, inspect and remove datasets."""


@dataset.command()
@click.argument("name")
@click.argument("path", type=click.Path(path_type=str))
@click.option("--target", help="Target column (default for Kaggle folders: from sample_submission).")
@click.option("--problem-type", help="binary, multiclass, classification, regression, time_series, clustering.")
@click.option("--id-columns", help="Comma-separated ID columns (default: detected).")
@click.option("--time-column", help="Time column.")
@click.option("--group-column", help="Group column.")
@click.option("--description", default="", help="Free-text description.")
@click.option("--tags", help="Comma-separated tags.")
@click.option("--type", "types", multiple=True, metavar="COL=KIND", help="Override a column kind (repeatable).")
@click.option("--backend", help="Storage backend (default: database.default_backend).")
@click.option("--no-features", is_flag=True, help="Skip feature generation.")
@click.option("--force", is_flag=True, help="Replace an existing dataset of the same name.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def register(name, path, target, problem_type, id_columns, time_column, group_column, description,
             tags, types, backend, no_features, force, fmt) -> None:
    """Register the file or folder PATH as dataset NAME."""
    from mdm_core.datasets.detection import parse_type_overrides

    info = _client().register_dataset(
        name, path, target=target, problem_type=problem_type, id_columns=split_list(id_columns),
        description=description, tags=split_list(tags), backend=backend,
        generate_features=not no_features, force=force, time_column=time_column,
        group_column=group_column, column_types=parse_type_overrides(types),
    )
    if fmt == "json":
        emit_json(info_json(info))
        return
    rows = ", ".join(f"{t.name} ({t.row_count:,} rows)" for t in info.tables)
    click.echo(f"Registered dataset '{info.name}' on {info.backend}: {rows}.")
    if info.target_column:
        click.echo(f"Target: {info.target_column} ({info.problem_type or 'problem type unknown'})")


@dataset.command("list")
@click.option("--limit", type=click.IntRange(min=0), help="Show at most N datasets.")
@click.option("--sort-by", type=click.Choice(["name", "rows", "size", "registered"]), default="name",
              show_default=True, help="Order by name, data rows, size on disk or registration time.")
@click.option("--reverse", is_flag=True, help="Reverse the order.")
@click.option("--backend", help="Only datasets stored on this backend.")
@FORMAT_OPTION
def list_(limit, sort_by, reverse, backend, fmt: str) -> None:
    """List registered datasets."""
    from mdm_core.cli.dataset_meta import select_datasets
    from mdm_core.datasets.metadata_ops import metadata_catalog

    catalog = metadata_catalog()  # metadata only: no data stack imported
    infos = select_datasets(catalog, catalog.list(), backend=backend, sort_by=sort_by, reverse=reverse, limit=limit)
    show_datasets(infos, fmt, **({"empty": f"No datasets on backend '{backend}'."} if backend else {}))


def show_datasets(infos: list[DatasetInfo], fmt: str,
                  empty: str = "No datasets registered yet. Try: mdm dataset register NAME PATH") -> None:
    """The ``dataset list`` rendering of ``infos`` (a table, or JSON for scripts)."""
    legacy = [i.name for i in infos if i.legacy]
    hint = f"{len(legacy)} MDM 1.x dataset(s), served read-only as they are: run `mdm-migrate plan` to migrate."
    if fmt == "json":
        emit_json([info_json(i, with_columns=False) for i in infos])
        if legacy:  # stdout stays pure JSON; each 1.x dataset says "layout": "1.x"
            click.echo(hint, err=True)
        return
    if not infos:
        click.echo(empty)
        return
    emit_table(
        None,
        ["name", "display name", "backend", "tables (rows)", "target", "tags", "description", "registered",
         "layout"],
        [
            [i.name, i.display_name, i.backend, _tables_cell(i), i.target_column, ", ".join(i.tags),
             _short(i.description), i.registered_at[:10], _layout_cell(i)]
            for i in infos
        ],
    )
    for i in infos:
        if i.status != "ok" or i.problems:
            click.echo(f"{i.name}: {i.status if i.status != 'ok' else 'note'}: {' '.join(i.problems)}")
    if legacy:
        click.echo(hint)


def _short(text: str, width: int = 40) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _rows(info: DatasetInfo, table: TableInfo) -> str:
    """A table's row count; ``?`` where a broken dataset's database could not be counted."""
    return "?" if _unknown_rows(info, table) else f"{table.row_count:,}"


def _unknown_rows(info: DatasetInfo, table: TableInfo) -> bool:
    return info.status != "ok" and table.row_count == 0 and not table.columns


def _tables_cell(info: DatasetInfo) -> str:
    """Data tables with their rows, then how many feature tables (and incomplete ones)."""
    cell = ", ".join(f"{t.name} {_rows(info, t)}" for t in info.data_tables)
    features = [t for t in info.tables if t.kind == "features"]
    incomplete = [t for t in features if t.name in info.incomplete_tables]
    if features:
        cell += f"; +{len(features)} features" + (f" ({len(incomplete)} incomplete)" if incomplete else "")
    return cell


def _layout_cell(info: DatasetInfo) -> str:
    if not info.legacy:
        return "new BROKEN" if info.status != "ok" else "new"
    found = " (discovered)" if info.store.get("origin") == "discovered" else ""
    return f"1.x{found}{' BROKEN' if info.status != 'ok' else ''}"


@dataset.command()
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def info(name: str, fmt: str) -> None:
    """Show a dataset's metadata, tables and columns."""
    meta = _client().get_dataset_info(name)
    if fmt == "json":
        emit_json(info_json(meta))
        return
    click.echo(f"Dataset: {meta.name}  (display name: {meta.display_name})")
    for label, value in [
        ("Backend", meta.backend), ("Target", meta.target_column), ("Problem type", meta.problem_type),
        ("ID columns", ", ".join(meta.id_columns)), ("Time column", meta.time_column),
        ("Group column", meta.group_column), ("Tags", ", ".join(meta.tags)),
        ("Description", meta.description), ("Source", meta.source), ("Registered", meta.registered_at),
        ("Feature engine", meta.feature_engine), ("Datetime columns", ", ".join(meta.datetime_columns)),
        ("Layout", _layout_cell(meta) if meta.legacy else None), ("Status", meta.status if meta.status != "ok" else None),
    ]:
        if value:
            click.echo(f"{label + ':':18}{value}")
    for problem in meta.problems:
        click.echo(f"{'Problem:':18}{problem}")
    incomplete = set(meta.incomplete_tables)
    emit_table("Tables", ["table", "kind", "rows", "columns"],
               [[t.name, t.kind + (" (incomplete: not served)" if t.name in incomplete else ""), _rows(meta, t),
                 len(t.columns) if t.columns or meta.status == "ok" else "?"] for t in meta.tables])
    if meta.legacy:
        click.echo("This is an MDM 1.x dataset, served read-only as it is: run `mdm-migrate plan` to migrate.")
    for table in meta.data_tables:
        if not table.columns and meta.status != "ok":
            continue  # its database could not be read: nothing to show
        emit_table(f"Columns of {table.name}", ["column", "type", "arrow type"],
                   [[c.name, c.type, c.arrow_type] for c in table.columns])


@dataset.command()
@click.argument("name")
@click.option("--force", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Show what would be removed; change nothing.")
def remove(name: str, force: bool, dry_run: bool) -> None:
    """Remove a dataset: its stored tables and its metadata."""
    client = _client()
    meta = client.catalog.load_or_broken(name)
    tables = ", ".join(t.name for t in meta.tables) if meta.tables else "metadata unreadable"
    if dry_run:
        click.echo(f"Would remove dataset '{meta.name}' ({meta.backend}; tables: {tables}).")
        return
    what = "its 1.x YAML and folder" if meta.legacy else "its tables"
    if not force and not click.confirm(f"Remove dataset '{meta.name}' and {what} ({tables})?", default=False):
        click.echo("Nothing removed.")
        return
    client.remove_dataset(meta.name)
    click.echo(f"Removed dataset '{meta.name}'.")


def info_json(meta: DatasetInfo, *, with_columns: bool = True) -> dict:
    """The ``--format json`` shape of a dataset (stable keys for scripts)."""
    data = dataset_to_dict(meta)
    data["layout"] = "1.x" if meta.legacy else "new"
    for key in ("status", "problems", "incomplete_tables", "datetime_columns"):  # same keys for every dataset
        value = getattr(meta, key)
        data[key] = list(value) if isinstance(value, list) else value
    incomplete = set(meta.incomplete_tables)
    for table, info in zip(data["tables"], meta.tables, strict=True):
        table["complete"] = table["name"] not in incomplete
        if _unknown_rows(meta, info):
            table["row_count"] = None
        if not with_columns:
            table.pop("columns", None)
    return data


from mdm_core.cli.dataset_stats import stats  # noqa: E402

dataset.add_command(stats)

from mdm_core.cli.dataset_meta import search, update  # noqa: E402

dataset.add_command(update)
dataset.add_command(search)

from mdm_core.cli.dataset_export import export  # noqa: E402
from mdm_core.cli.dataset_query import query  # noqa: E402

dataset.add_command(export)
dataset.add_command(query)

from mdm_core.cli.dataset_split import split  # noqa: E402

dataset.add_command(split)

from mdm_core.cli.dataset_repair import repair  # noqa: E402

dataset.add_command(repair)
