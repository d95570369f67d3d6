"""``mdm batch export|stats|remove PATTERNS...``: one command over many datasets.

PATTERNS are dataset names or globs (``"sales_*"``), each argument possibly a comma list,
matched as :func:`mdm_core.datasets.batch.resolve_patterns` says. Every matched dataset is
processed even when others fail: one line per dataset as it finishes, then a summary line
(``2 exported, 1 failed.``). JSON for scripts: ``{"command", "dry_run", "datasets": [{"name",
"status": "ok"|"failed", "error", "seconds", ...per-command fields}], "unmatched",
"summary": {"ok", "failed"}}``.

Exit code 0 when everything succeeded; 1 when a dataset failed or a pattern matched no
dataset (after processing the others, with one sentence on stderr naming them); a pattern
list matching nothing at all is a one-sentence error, exit 1, nothing done.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from mdm_core.cli.output import emit_json, human_size
from mdm_core.datasets.batch import BatchOutcome, resolve_patterns, run_each, split_patterns
from mdm_core.errors import DatasetError

PATTERNS = click.argument("patterns", nargs=-1, required=True)


@click.group()
def batch() -> None:
    """Export, describe or remove many datasets at once, chosen by names or globs."""


# -- export -------------------------------------------------------------------------------
@batch.command("export")
@PATTERNS
@click.option("--format", "file_format", type=click.Choice(["csv", "parquet", "json", "jsonl"]), default="csv",
              show_default=True, help="File format: CSV, Parquet, a JSON array or JSON Lines.")
@click.option("--compression", type=click.Choice(["none", "gzip", "zstd", "snappy"]), default=None,
              help="As for `mdm dataset export` (default: none; Parquet: snappy).")
@click.option("--no-features", is_flag=True, help="Leave out the feature tables.")
@click.option("-o", "--output", "output_dir", type=click.Path(file_okay=False, path_type=str), default="exports",
              show_default=True, help="Folder to write into: one subfolder per dataset (created if missing).")
@click.option("--dry-run", is_flag=True, help="List what would be exported (from the metadata); write nothing.")
@click.option("--output-format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Report as text or as JSON for scripts (--format is the file format).")
def export(patterns, file_format, compression, no_features, output_dir, dry_run, fmt) -> None:
    """Export every dataset matching PATTERNS into DIR/<dataset>/, as `mdm dataset export` does."""
    from mdm_core.datasets.export import check_options, file_name, select_tables

    codec = check_options(file_format, compression)
    client = _client()
    matched, unmatched = _select(client, patterns)
    root = Path(output_dir).expanduser()

    def plan(name: str) -> dict:
        info = client.get_dataset_info(name)
        tables, skipped = select_tables(info, None, False, not no_features)
        files = [{"table": t, "path": str(root / info.name / file_name(info.name, t, file_format, codec)),
                  "rows": info.table(t).row_count, "bytes": None} for t in tables]
        return _export_fields(root / info.name, files, [{"table": s.table, "reason": s.reason} for s in skipped])

    def write(name: str) -> dict:
        result = client.export_dataset_result(name, root / name, format=file_format, compression=compression,
                                              include_features=not no_features)
        return _export_fields(root / name, [{"table": f.table, "path": str(f.path), "rows": f.rows, "bytes": f.bytes}
                                            for f in result.files],
                              [{"table": s.table, "reason": s.reason} for s in result.skipped])

    def detail(fields: dict) -> str:
        what = f"{_count(len(fields['files']), 'table' if dry_run else 'file')}, {fields['rows']:,} rows"
        return f"{what} -> {fields['folder']}" if dry_run else what

    outcomes = run_each(matched, plan if dry_run else write, _progress(matched, detail, fmt))
    empty = {"folder": None, "rows": None, "files": [], "skipped": []}
    _finish("export", "would be exported" if dry_run else "exported", outcomes, unmatched, fmt, dry_run,
            lambda o: o.result if o.ok else empty)


def _export_fields(folder: Path, files: list[dict], skipped: list[dict]) -> dict:
    return {"folder": str(folder), "rows": sum(f["rows"] for f in files), "files": files, "skipped": skipped}


# -- stats --------------------------------------------------------------------------------
@batch.command("stats")
@PATTERNS
@click.option("--extended", is_flag=True, help="Add percentiles, skewness and a histogram for numeric columns.")
@click.option("-o", "--output", "output_dir", type=click.Path(file_okay=False, path_type=str), default=None,
              help="Also write each dataset's statistics to DIR/<dataset>_stats.json.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Report as lines (table) or as JSON for scripts.")
def stats(patterns, extended, output_dir, fmt) -> None:
    """Statistics of every data table of the datasets matching PATTERNS, and per dataset
    its tables, rows, columns and completeness (1 - nulls/cells)."""
    client = _client()
    matched, unmatched = _select(client, patterns)

    def describe(name: str) -> dict:
        info = client.get_dataset_info(name)
        tables = [client.get_statistics(info.name, table=t.name, extended=extended) for t in info.data_tables]
        report = {"dataset": info.name, "tables": tables, "totals": table_totals(tables)}
        file = _write_json(Path(output_dir).expanduser() / f"{info.name}_stats.json", report) if output_dir else None
        return {**report, "file": file and str(file)}

    def detail(report: dict) -> str:
        t = report["totals"]
        complete = "no cells" if t["completeness"] is None else f"{t['completeness']:.2%} complete"
        return f"{_count(t['tables'], 'table')}, {t['rows']:,} rows, {_count(t['columns'], 'column')}, {complete}"

    outcomes = run_each(matched, describe, _progress(matched, detail, fmt))
    _finish("stats", "described", outcomes, unmatched, fmt, False,
            lambda o: {k: v for k, v in o.result.items() if k != "dataset"} if o.ok
            else {"tables": [], "totals": None, "file": None})


def table_totals(tables: Sequence[dict]) -> dict:
    """Totals over ``get_statistics`` results: tables, rows, columns, cells (rows x columns
    per table), nulls, and completeness ``1 - nulls/cells`` (None without cells)."""
    cells = sum(t["rows"] * len(t["columns"]) for t in tables)
    nulls = sum(s["nulls"] for t in tables for s in t["columns"].values())
    return {"tables": len(tables), "rows": sum(t["rows"] for t in tables),
            "columns": sum(len(t["columns"]) for t in tables), "cells": cells, "nulls": nulls,
            "completeness": 1 - nulls / cells if cells else None}


def _write_json(path: Path, data: Any) -> Path:
    """``data`` as JSON in ``path``, atomically: a temporary file in the same folder, renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        temp.write_text(json.dumps(data, indent=2, default=str, ensure_ascii=False), encoding="utf-8")
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path


# -- remove -------------------------------------------------------------------------------
@batch.command("remove")
@PATTERNS
@click.option("--dry-run", is_flag=True, help="Show what would be removed; change nothing.")
@click.option("--force", is_flag=True, help="Do not ask for confirmation.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Report as text or as JSON for scripts (JSON needs --force or --dry-run).")
def remove(patterns, dry_run, force, fmt) -> None:
    """Remove every dataset matching PATTERNS (stored tables and metadata), after showing
    them and asking once."""
    if fmt == "json" and not (force or dry_run):
        raise DatasetError("`mdm batch remove --format json` cannot ask for confirmation: add --force "
                           "(or --dry-run to see what would be removed).")
    client = _client()
    matched, unmatched = _select(client, patterns)
    shown = _progress(matched, None, fmt)
    previews = run_each(matched, lambda name: _removal(client, name), lambda o: None if o.ok else shown(o))
    found = [o for o in previews if o.ok]
    if fmt == "text" and found:
        sizes = [o.result["bytes"] for o in found if o.result["bytes"] is not None]
        total = f"{_size(sum(sizes))} on disk" if sizes else "size on disk unknown"
        if sizes and len(sizes) < len(found):
            total += f" and {_count(len(found) - len(sizes), 'dataset')} of unknown size"
        click.echo(f"{'Would remove' if dry_run else 'Removing'} {_count(len(found), 'dataset')}, {total}:")
        width = max(len(o.name) for o in found)
        for o in found:
            r = o.result
            click.echo(f"  {o.name:<{width}}  {r['backend']:<10}  {_count(len(r['tables']), 'table')}, {r['rows']:,} rows  "
                       f"{_size(r['bytes'])}")
    failed = [o for o in previews if not o.ok]
    if dry_run or not found:
        _finish("remove", "would be removed", previews, unmatched, fmt, dry_run, _removal_fields(previews))
        return
    if not force and not click.confirm(f"Remove {'this dataset' if len(found) == 1 else f'these {len(found)} datasets'}?",
                                       default=False):
        click.echo("Nothing removed.")
        return
    removed = run_each([o.name for o in found], client.remove_dataset, _progress(matched, lambda _: "removed", fmt))
    order = {name: i for i, name in enumerate(matched)}
    outcomes = sorted(failed + removed, key=lambda o: order[o.name])
    _finish("remove", "removed", outcomes, unmatched, fmt, False, _removal_fields(previews))


def _removal(client, name: str) -> dict:
    """What removing ``name`` drops: backend, tables, data rows (from the metadata) and
    bytes on disk (the dataset's folder when its store is a file there; None for a store
    on a server or an MDM 1.x dataset)."""
    from mdm_core.datasets.metadata_ops import data_rows, folder_size

    info = client.get_dataset_info(name)
    size = folder_size(client.catalog.folder(info.name)) if "file" in info.store else None
    return {"backend": info.backend, "tables": [t.name for t in info.tables], "rows": data_rows(info), "bytes": size}


def _removal_fields(previews: list[BatchOutcome]) -> Callable[[BatchOutcome], dict]:
    known = {o.name: o.result for o in previews if o.ok}
    return lambda o: known.get(o.name, {"backend": None, "tables": [], "rows": None, "bytes": None})


def _size(n: int | None) -> str:
    return "size unknown" if n is None else human_size(n)


# -- shared -------------------------------------------------------------------------------
def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _client():
    from mdm_core.datasets.client import MDMClient

    return MDMClient()


def _select(client, patterns: Sequence[str]) -> tuple[list[str], list[str]]:
    """The registered names ``patterns`` match and the patterns matching none; DatasetError
    when nothing matches at all."""
    from mdm_core.datasets.metadata_ops import recover_pending

    if not split_patterns(patterns):
        raise DatasetError("Give at least one dataset name or pattern (e.g. \"sales_*\" or a,b).")
    recover_pending(client.catalog)
    names = client.catalog.names()
    matched, unmatched = resolve_patterns(names, patterns)
    if not matched:
        asked = ", ".join(repr(p) for p in unmatched)
        raise DatasetError(f"No dataset matches {asked} (known: {', '.join(names) or 'none registered'}).")
    return matched, unmatched


def _progress(names: Sequence[str], detail: Callable[[Any], str] | None, fmt: str
              ) -> Callable[[BatchOutcome], None]:
    """Prints one line per finished dataset in text mode (``ok``/``FAILED``, name,
    ``detail(result)``, seconds); nothing for JSON, which comes whole at the end."""
    width = max(len(n) for n in names)

    def show(o: BatchOutcome) -> None:
        if fmt == "json":
            return
        if o.ok:
            click.echo(f"{'ok':<7} {o.name:<{width}}  {detail(o.result) if detail else ''}  {o.seconds:.1f} s")
        else:
            click.echo(f"{'FAILED':<7} {o.name:<{width}}  {o.error}")

    return show


def _finish(command: str, verb: str, outcomes: list[BatchOutcome], unmatched: list[str], fmt: str, dry_run: bool,
            fields: Callable[[BatchOutcome], dict]) -> None:
    """The summary (text line, or the whole JSON report), then exit code 1 with one
    sentence on stderr when a dataset failed or a pattern matched nothing."""
    failed = [o.name for o in outcomes if not o.ok]
    if fmt == "json":
        emit_json({
            "command": command,
            "dry_run": dry_run,
            "datasets": [{"name": o.name, "status": "ok" if o.ok else "failed", "error": o.error,
                          "seconds": round(o.seconds, 3), **fields(o)} for o in outcomes],
            "unmatched": unmatched,
            "summary": {"ok": len(outcomes) - len(failed), "failed": len(failed)},
        })
    else:
        click.echo(f"{len(outcomes) - len(failed)} {verb}, {len(failed)} failed.")
    problems = []
    if failed:
        problems.append(f"{len(failed)} of {_count(len(outcomes), 'dataset')} failed ({', '.join(failed)})")
    if unmatched:
        problems.append(f"no dataset matches {', '.join(repr(p) for p in unmatched)}")
    if problems:
        click.echo(f"Error: {'; '.join(problems)}.", err=True)
        sys.exit(1)
