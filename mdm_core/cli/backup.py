"""``mdm backup`` and ``mdm restore``: datasets into one verified archive file and back,
onto any backend (:mod:`mdm_core.datasets.backup`, :mod:`mdm_core.datasets.restore`)."""

from __future__ import annotations

import sys

import click

from mdm_core.cli.output import FORMAT_OPTION, emit_json, emit_table, human_size
from mdm_core.datasets.archive_manifest import CODECS


def _client():
    from mdm_core.datasets.client import MDMClient

    return MDMClient()


@click.command("backup")
@click.argument("names", nargs=-1)
@click.option("-o", "--output", type=click.Path(path_type=str),
              help="Archive file to write, or a folder for the default name (default: "
                   "mdm-backup-<UTC timestamp>.tar in the current folder).")
@click.option("--compress", "compression", type=click.Choice(CODECS), default="zstd", show_default=True,
              help="Compression of the tables (Parquet codec).")
@click.option("--dry-run", is_flag=True,
              help="Show the datasets and the space needed, check the output folder; write nothing.")
@FORMAT_OPTION
def backup(names, output, compression, dry_run, fmt) -> None:
    """Back up datasets NAMES (default: all) into one archive file.

    Each table goes in as Parquet with its row count and content checksum in the
    archive's manifest; `mdm restore` verifies them. The file appears only when complete."""
    client = _client()
    if dry_run:
        from mdm_core.datasets.backup import plan_backup

        plan = plan_backup(client, names, output, compression)
        _show_plan(plan, fmt)
        _exit_if_unreadable(plan.unreadable)
        return
    result = client.backup(names, output, compression)
    _show_backup(result, fmt)
    _exit_if_unreadable(result.plan.unreadable)


@click.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=str))
@click.argument("names", nargs=-1)
@click.option("--backend", help="Backend to restore onto (default: each dataset's original backend if installed, "
                                "else database.default_backend).")
@click.option("--as", "as_name", metavar="NEW_NAME", help="Restore the one chosen dataset under this name.")
@click.option("--force", is_flag=True, help="Replace existing datasets of the same name (after verification).")
@FORMAT_OPTION
def restore(archive, names, backend, as_name, force, fmt) -> None:
    """Restore datasets NAMES (default: all) from backup ARCHIVE.

    Every table's row count and content checksum are verified against the archive's
    manifest before the dataset appears; a damaged archive is refused, nothing is left."""
    result = _client().restore(archive, names, backend=backend, as_name=as_name, force=force)
    if fmt == "json":
        emit_json({"archive": str(result.archive), "datasets": [
            {"name": d.name, "archived_as": d.archived_as, "backend": d.backend, "replaced": d.replaced,
             "tables": [{"name": t.name, "rows": t.rows, "checksum": t.checksum} for t in d.tables]}
            for d in result.datasets
        ]})
        return
    emit_table(None, ["dataset", "from archive", "backend", "table", "rows", "checksum"], [
        [d.name, d.archived_as, d.backend, t.name, f"{t.rows:,}", t.checksum] for d in result.datasets for t in d.tables
    ])
    replaced = [d.name for d in result.datasets if d.replaced]
    click.echo(f"Restored {_count(len(result.datasets), 'dataset')} from {result.archive}; every table verified "
               f"(row count and content checksum)." + (f" Replaced: {', '.join(replaced)}." if replaced else ""))


def _show_plan(plan, fmt: str) -> None:
    if fmt == "json":
        emit_json({
            "dry_run": True, "path": str(plan.path), "compression": plan.compression,
            "needed_bytes": plan.needed_bytes, "free_bytes": plan.free_bytes,
            "datasets": [{"name": d.name, "backend": d.backend, "tables": d.tables, "rows": d.rows,
                          "estimated_bytes": d.estimated_bytes} for d in plan.readable],
            "skipped_tables": _skipped_tables(plan.readable),
            "not_backed_up": [{"name": d.name, "reason": d.reason} for d in plan.unreadable],
        })
        return
    emit_table(None, ["dataset", "backend", "tables", "rows", "estimated size"], [
        [d.name, d.backend, ", ".join(d.tables), f"{d.rows:,}", human_size(d.estimated_bytes)] for d in plan.readable
    ])
    click.echo(f"Would write {plan.path}: needs about {human_size(plan.needed_bytes)} (uncompressed estimate), "
               f"{human_size(plan.free_bytes)} free; the folder is writable.")


def _show_backup(result, fmt: str) -> None:
    from mdm_core.datasets.archive_manifest import manifest_dict

    rate = result.rows / result.seconds if result.seconds else None
    if fmt == "json":
        emit_json({
            "path": str(result.path), "bytes": result.bytes, "compression": result.manifest.compression,
            "seconds": round(result.seconds, 3), "rows": result.rows,
            "rows_per_second": round(rate) if rate else None,
            "datasets": manifest_dict(result.manifest)["datasets"],
            "not_backed_up": [{"name": d.name, "reason": d.reason} for d in result.plan.unreadable],
        })
        return
    datasets = result.manifest.datasets
    emit_table(None, ["dataset", "backend", "table", "rows", "checksum"], [
        [d.name, d.backend, t.name, f"{t.rows:,}", t.checksum] for d in datasets for t in d.tables
    ])
    for d in datasets:
        for s in d.skipped:
            click.echo(f"{d.name}: left out table {s.table}: {s.reason}.")
    tables = sum(len(d.tables) for d in datasets)
    click.echo(f"Backed up {_count(len(datasets), 'dataset')} ({_count(tables, 'table')}, {result.rows:,} rows) to "
               f"{result.path} ({human_size(result.bytes)}, {result.manifest.compression}) in {result.seconds:.1f} s.")


def _skipped_tables(planned) -> list[dict]:
    return [{"dataset": d.name, "table": s.table, "reason": s.reason} for d in planned for s in d.skipped]


def _exit_if_unreadable(unreadable) -> None:
    """Datasets whose data could not be read: one line each on stderr, exit code 1."""
    if not unreadable:
        return
    for d in unreadable:
        click.echo(f"Not backed up: dataset '{d.name}' cannot be read: {d.reason}", err=True)
    sys.exit(1)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
