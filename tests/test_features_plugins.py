"""Custom-feature plugins installed for real (a ``.dist-info`` with an ``mdm`` entry point on
``sys.path`` of a subprocess, so importlib.metadata finds it), a broken plugin next to it,
registration through MDMClient, and the ``mdm features`` commands."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from mdm_core.testing.distributions import install_distribution

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "docs" / "examples" / "mdm-example-features"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A folder holding the example plugin (installed) and a plugin whose import fails."""
    site = tmp_path_factory.mktemp("site")
    shutil.copytree(EXAMPLE / "mdm_example_features", site / "mdm_example_features")
    install_distribution(site, "mdm-example-features", "example-features = mdm_example_features.plugin")
    (site / "mdm_broken_features").mkdir()
    (site / "mdm_broken_features" / "__init__.py").write_text("raise ImportError('needs a missing library')\n")
    install_distribution(site, "mdm-broken-features", "broken-features = mdm_broken_features")
    return site


@pytest.fixture(scope="module")
def flights_folder(tmp_path_factory, flights_csv) -> Path:
    """A Kaggle-style folder of 3,000 flights: train (target arr_delay), test, submission."""
    reader = pacsv.open_csv(flights_csv)
    table = reader.read_next_batch().to_pandas().head(3000)
    table.insert(0, "id", range(len(table)))
    folder = tmp_path_factory.mktemp("flightsk")
    table.iloc[:2400].to_csv(folder / "train.csv", index=False)
    table.iloc[2400:].drop(columns=["arr_delay"]).to_csv(folder / "test.csv", index=False)
    table.iloc[2400:][["id", "arr_delay"]].to_csv(folder / "sample_submission.csv", index=False)
    return folder


def _env(home: Path, site: Path | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MDM_")}
    env["MDM_HOME_DIR"] = str(home)
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return env


SCRIPT = """
import json, sys
from mdm_core.datasets.client import MDMClient
from mdm_core.plugins import get_plugin_manager
client = MDMClient()
info = client.register_dataset("flights", sys.argv[1], target="arr_delay", id_columns=["id"], force=True)
tables = {t.name: [c.name for c in t.columns] for t in info.tables}
records = {r.name: [r.status, r.error] for r in get_plugin_manager().records}
speed = {}
if "speed_mph" in tables["test_features"]:
    cols = ["distance", "air_time", "speed_mph"]
    speed = client.load_arrow("flights", "test_features", columns=cols).to_pandas().head(50).to_dict("list")
print(json.dumps({"tables": tables, "records": records, "speed": speed}))
"""


def _register(tmp_path: Path, folder: Path, site: Path | None) -> dict:
    home = tmp_path / ("home_plugin" if site else "home_plain")
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(folder)], capture_output=True, text=True,
                            env=_env(home, site), timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_installed_plugin_feature_appears_and_broken_plugin_changes_nothing(tmp_path, site, flights_folder):
    with_plugin = _register(tmp_path, flights_folder, site)
    records = with_plugin["records"]
    assert records["example-features"][0] == "loaded"
    assert records["broken-features"][0] == "failed" and "missing library" in records["broken-features"][1]
    train, test = with_plugin["tables"]["train_features"], with_plugin["tables"]["test_features"]
    for name in ("speed_mph", "is_long_haul", "sched_dep_minutes"):
        assert name in train and name in test
    speed = with_plugin["speed"]
    for d, t, s in zip(speed["distance"], speed["air_time"], speed["speed_mph"], strict=True):
        if t and t > 0:
            assert s == pytest.approx(d / (t / 60))

    plain = _register(tmp_path, flights_folder, None)
    assert "broken-features" not in plain["records"]
    extra = {"speed_mph", "is_long_haul", "sched_dep_minutes"}
    assert [c for c in train if c not in extra] == plain["tables"]["train_features"]


def _mdm(home: Path, site: Path | None, *args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("mdm")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=_env(home, site), timeout=300)


def test_features_list_shows_engines_and_plugin_features(tmp_path, site):
    result = _mdm(tmp_path / "home", site, "features", "list", "--show-paths", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    engines = {e["name"]: e for e in data["engines"]}
    assert engines["new"]["runs_by_default"] and not engines["legacy"]["runs_by_default"]
    assert {"numeric", "binning", "categorical", "temporal", "text", "missing", "interactions"} == {
        f["name"] for f in engines["new"]["families"]}
    custom = {c["name"]: c for c in data["custom_features"]}
    assert custom["speed_mph"]["distribution"].startswith("mdm-example-features")
    assert custom["speed_mph"]["path"].endswith("features.py")


def test_features_test_command_passes_then_fails_on_a_broken_feature(tmp_path, site):
    home = tmp_path / "home"
    ok = _mdm(home, site, "features", "test", "--format", "json")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    statuses = {r["component"]: r["status"] for r in json.loads(ok.stdout)["results"]}
    assert statuses["speed_mph"] == "ok" and statuses["new (new)"] == "ok" and statuses["legacy (legacy)"] == "ok"
    folder = home / "config" / "custom_features"
    folder.mkdir(parents=True)
    (folder / "mine.py").write_text(
        "from mdm_core.features import custom_feature\n"
        "@custom_feature(name='bad', input_columns=['amount'])\n"
        "def bad(df):\n    return df['amount'].head(3)\n"
    )
    bad = _mdm(home, site, "features", "test", "--dataset", "mine")
    assert bad.returncode == 1
    assert "bad" in bad.stdout and "failed" in bad.stdout


def test_regenerate_command_switches_engine(home, cli, client, penguins):
    client.register_dataset("penguins", penguins, generate_features=False)
    result = cli("features", "regenerate", "penguins", "--engine", "legacy", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {t["name"] for t in data["tables"]} >= {"train_features"}
    cols = [c.name for c in client.table_info("penguins", "train_features").columns]
    assert any(c.endswith("_zscore") and "__" not in c for c in cols)
    refused = cli("features", "regenerate", "penguins")
    assert refused.exit_code == 1 and "--force" in refused.output
    again = cli("features", "regenerate", "penguins", "--force", "--format", "json")
    assert again.exit_code == 0
    cols = [c.name for c in client.table_info("penguins", "train_features").columns]
    assert any(c.endswith("__bin_quantile") for c in cols)
    table = client.load_arrow("penguins", "train_features")
    assert isinstance(table, pa.Table) and table.num_rows == client.table_info("penguins", "train").row_count
