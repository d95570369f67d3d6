"""``mdm features``: list engines and custom features, regenerate feature tables, self-test."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import click

from mdm_core.cli.output import FORMAT_OPTION, emit_json, emit_table


@click.group()
def features() -> None:
    """Feature engines, custom features and feature tables."""


def _distributions() -> dict[str, str]:
    from mdm_core.plugins import get_plugin_manager

    return {r.name: f"{r.distribution} {r.version}" for r in get_plugin_manager().records}


@features.command("list")
@click.option("--show-paths", is_flag=True, help="Show the file each custom feature comes from.")
@FORMAT_OPTION
def list_(show_paths: bool, fmt: str) -> None:
    """List feature engines (and which one runs), their families, and custom features."""
    from mdm_core.config import load_settings
    from mdm_core.features.discovery import (
        default_engine_name,
        engine_offers,
        plugin_custom_features,
    )
    from mdm_core.flags import choose

    settings = load_settings().settings
    dists = _distributions()
    offered = engine_offers()
    default = default_engine_name(settings)
    engines = []
    for plugin, impl in offered:
        choice = choose("features", impl.name, offered, settings.flags)
        families = []
        try:
            families = [
                {"name": f.name, "description": f.description, "column_kinds": list(f.column_kinds),
                 "produces": list(f.produces), "config_keys": list(f.config_keys)}
                for f in impl.factory(settings).families()
            ]
        except Exception as exc:  # a broken engine is listed with its error
            families = [{"name": "?", "description": f"error: {exc}", "column_kinds": [], "produces": [], "config_keys": []}]
        engines.append({
            "name": impl.name, "generation": impl.generation, "plugin": plugin,
            "distribution": dists.get(plugin, "?"), "description": impl.description,
            "runs_by_default": impl.name == default and choice.plugin == plugin and choice.winner is impl,
            "families": families,
        })
    found = plugin_custom_features()
    customs = []
    for plugin, feature in found.features:
        entry = {"name": feature.name, "input_columns": list(feature.input_columns),
                 "output_type": feature.output_type, "plugin": plugin,
                 "distribution": dists.get(plugin, "?"), "description": feature.description}
        if show_paths:
            entry["path"] = _source_file(feature.func)
        customs.append(entry)
    folder = settings.custom_features_dir
    files = sorted(folder.glob("*.py")) if folder.is_dir() else []
    dataset_files = [{"dataset": f.stem, **({"path": str(f)} if show_paths else {})} for f in files]
    if fmt == "json":
        emit_json({"default_engine": default, "engines": engines, "custom_features": customs,
                   "dataset_files": dataset_files, "problems": found.problems})
        return
    emit_table("Feature engines", ["engine", "generation", "plugin", "distribution", "runs", "families"],
               [[e["name"], e["generation"], e["plugin"], e["distribution"], "yes" if e["runs_by_default"] else "",
                 ", ".join(f["name"] for f in e["families"])] for e in engines])
    headers = ["custom feature", "inputs", "type", "plugin", "distribution"] + (["path"] if show_paths else [])
    emit_table("Custom features", headers,
               [[c["name"], ", ".join(c["input_columns"]), c["output_type"], c["plugin"], c["distribution"]]
                + ([c["path"]] if show_paths else []) for c in customs])
    if dataset_files:
        emit_table(f"Per-dataset files in {folder}", ["dataset"] + (["path"] if show_paths else []),
                   [[d["dataset"]] + ([d["path"]] if show_paths else []) for d in dataset_files])
    for problem in found.problems:
        click.echo(f"Warning: {problem}", err=True)


def _source_file(func: object) -> str:
    try:
        return str(Path(inspect.getsourcefile(func) or "?"))  # type: ignore[arg-type]
    except TypeError:
        return "?"


@features.command()
@click.argument("name")
@click.option("--engine", type=click.Choice(["legacy", "new"]), default=None,
              help="Engine to use (default: chosen by the use_new_features flag).")
@click.option("--force", is_flag=True, help="Replace existing feature tables without asking.")
@FORMAT_OPTION
def regenerate(name: str, engine: str | None, force: bool, fmt: str) -> None:
    """Rebuild the feature tables of dataset NAME."""
    from mdm_core.datasets.client import MDMClient
    from mdm_core.errors import DatasetError

    client = MDMClient()
    existing = [t.name for t in client.writable_info(name).tables if t.kind == "features"]
    if existing and not force:
        if not sys.stdin.isatty():
            raise DatasetError(
                f"Dataset '{name}' already has feature tables ({', '.join(existing)}); "
                "add --force to replace them."
            )
        click.confirm(f"Replace {', '.join(existing)}?", abort=True)
    info = client.regenerate_features(name, engine=engine)
    tables = [t for t in info.tables if t.kind == "features"]
    if fmt == "json":
        emit_json({"dataset": info.name, "engine": info.feature_engine or engine,
                   "tables": [{"name": t.name, "rows": t.row_count, "columns": len(t.columns)} for t in tables]})
        return
    emit_table(f"Feature tables of {info.name}", ["table", "rows", "columns"],
               [[t.name, f"{t.row_count:,}", len(t.columns)] for t in tables])


@features.command("test")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="File to take the sample from, any format registration reads (default: a built-in sample).")
@click.option("--rows", type=click.IntRange(2, 100_000), default=200, show_default=True)
@click.option("--dataset", default="selftest", help="Also test <custom_features_dir>/<DATASET>.py.")
@FORMAT_OPTION
def test_(path: Path | None, rows: int, dataset: str, fmt: str) -> None:
    """Run every engine and custom feature on a small sample; exit 1 if any fails."""
    import attrs

    from mdm_core.config import load_settings
    from mdm_core.datasets.detection import file_sample
    from mdm_core.features.discovery import plugin_custom_features
    from mdm_core.features.selftest import check_components, synthetic_sample

    settings = load_settings().settings
    if path is not None:
        sample, kinds = file_sample(path, rows)
    else:
        inputs = sorted({c for _, f in plugin_custom_features().features for c in f.input_columns})
        sample, kinds = synthetic_sample(rows, inputs)
    results = check_components(settings, sample, kinds, dataset)
    failed = [r for r in results if r.status == "failed"]
    if fmt == "json":
        emit_json({"rows": sample.num_rows, "results": [attrs.asdict(r) for r in results], "failed": len(failed)})
    else:
        emit_table(f"Feature self-test on {sample.num_rows} rows", ["component", "kind", "source", "status", "columns", "error"],
                   [[r.component, r.kind, r.source, r.status, r.columns, r.error] for r in results])
    if failed:
        sys.exit(1)
