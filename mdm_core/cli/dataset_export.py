"""``mdm dataset export``: a dataset's tables to CSV, Parquet, JSON or JSON Lines files."""

from __future__ import annotations

import click

from mdm_core.cli.output import emit_json, split_list


@click.command("export")
@click.argument("name")
@click.option("--table", help="Export this table only.")
@click.option("--all-tables", is_flag=True, help="Every data and feature table (the default; see --no-features).")
@click.option("--format", "file_format", type=click.Choice(["csv", "parquet", "json", "jsonl"]), default="csv",
              show_default=True, help="File format: CSV, Parquet, a JSON array or JSON Lines.")
@click.option("--compression", type=click.Choice(["none", "gzip", "zstd", "snappy"]), default=None,
              help="gzip or zstd for csv/json/jsonl (adds .gz/.zst); snappy, zstd or gzip inside Parquet "
                   "(default: none; Parquet: snappy).")
@click.option("--columns", help="Comma-separated columns to export (each table gets those it has).")
@click.option("--no-features", is_flag=True, help="Leave out the feature tables.")
@click.option("-o", "--output", "output_dir", type=click.Path(file_okay=False, path_type=str), default=".",
              show_default=True, help="Folder to write into (created if missing).")
@click.option("--output-format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Report what was written as text or as JSON for scripts (--format is the file format).")
def export(name, table, all_tables, file_format, compression, columns, no_features, output_dir, fmt) -> None:
    """Export dataset NAME's tables to files named <dataset>_<table>.<ext> in a folder."""
    from mdm_core.datasets.client import MDMClient

    result = MDMClient().export_dataset_result(
        name, output_dir, table=table, all_tables=all_tables, format=file_format, compression=compression,
        columns=split_list(columns) or None, include_features=not no_features,
    )
    if fmt == "json":
        emit_json({
            "dataset": name,
            "format": file_format,
            "compression": result.codec,
            "files": [{"table": f.table, "path": str(f.path), "rows": f.rows, "bytes": f.bytes} for f in result.files],
            "skipped": [{"table": s.table, "reason": s.reason} for s in result.skipped],
        })
        return
    for s in result.skipped:
        click.echo(f"Skipped {s.table}: {s.reason}.")
    for f in result.files:
        click.echo(f"Exported {f.table} ({f.rows:,} rows) to {f.path}")
