"""``mdm benchmark``: rows per second of each operation on each backend, on generated data
in a temporary home; ``--compare FILE``: the legacy vs the new generation on a file."""

from __future__ import annotations

from typing import Any

import click

from mdm_core.cli.output import FORMAT_OPTION, emit_json, emit_table, human_size


@click.command()
@click.option("--quick", is_flag=True, help="Small data (20,000 rows): a few seconds per backend.")
@click.option("--rows", type=click.IntRange(min=1), default=None,
              help="Rows of generated data (default 500,000, about a minute for three backends).")
@click.option("--backend", default=None, help="Measure only this backend (default: every installed, reachable one).")
@click.option("--compare", "compare_file", type=click.Path(exists=True, dir_okay=True), default=None,
              help="Time the legacy and the new generation registering and serving this file instead.")
@FORMAT_OPTION
def benchmark(quick: bool, rows: int | None, backend: str | None, compare_file: str | None, fmt: str) -> None:
    """Measure ingest, read, filter, checksum, export and feature generation (rows/s) per
    backend, in a temporary home: your datasets are never touched."""
    from mdm_core.performance.benchmark import DEFAULT_ROWS, QUICK_ROWS, PerformanceBenchmark
    from mdm_core.progress import progress_enabled

    def progress(who: str, operation: str, timing: Any) -> None:
        if progress_enabled():
            click.echo(f"{who:<10} {operation:<9} {timing.rows:>12,} rows {timing.seconds:>9.3f} s", err=True)

    bench = PerformanceBenchmark(rows=rows or (QUICK_ROWS if quick else DEFAULT_ROWS), on_timing=progress)
    if compare_file is not None:
        report = bench.compare_implementations(test_dataset=compare_file, backend=backend)
        if fmt == "json":
            emit_json(report)
        else:
            _compare_table(report)
        return
    report = bench.run(backend)
    report["quick"] = quick
    if fmt == "json":
        emit_json(report)
    else:
        _benchmark_table(report)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _benchmark_table(report: dict[str, Any]) -> None:
    from mdm_core.performance.benchmark import OPERATIONS

    backends = report["backends"]
    summary = report["summary"]
    rows = [[op, *(_rate(backends[b][op]["rows_per_second"]) for b in backends), summary["fastest"].get(op, "-")]
            for op in OPERATIONS] if backends else []
    emit_table(f"Benchmark: {report['rows']:,} generated rows, rows/s (higher is faster)",
               ["operation", *backends, "fastest"], rows)
    machine = summary["machine"]
    click.echo(f"Total {summary['total_seconds']:.1f} s on {machine['cores']} cores, "
               f"{human_size(machine['memory_bytes'])} memory.")
    for name, why in report["skipped"].items():
        click.echo(f"Skipped {name}: {why}")


def _compare_table(report: dict[str, Any]) -> None:
    rows = [[op, f"{r['legacy']['seconds']:.3f}", f"{r['new']['seconds']:.3f}",
             "-" if r["speedup"] is None else f"{r['speedup']:.2f}x",
             "same code" if r["same_implementation"] else "differs"]
            for op, r in report["operations"].items()]
    emit_table(f"Legacy vs new generation: {report['dataset']} on {report['backend']}",
               ["operation", "legacy s", "new s", "speedup", "implementation"], rows)
    summary = report["summary"]
    for generation, selected in summary["selected"].items():
        click.echo(f"{generation}: " + ", ".join(f"{kind} {plugin}" for kind, plugin in selected.items()))
    click.echo(f"Best of {summary['rounds']} alternating rounds. Speedup: legacy seconds / new seconds (above 1:\n"
               "the new generation is faster). 'same code': the legacy plugins serve datasets in the\n"
               "new layout through the new implementations; only 1.x databases are read differently.")
