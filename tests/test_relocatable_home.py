"""The home can be moved: nothing inside it names its own absolute path. A source file
kept inside the home is recorded relative to it, so after the move ``mdm doctor`` still
points at it; a source outside the home keeps its absolute path."""

from __future__ import annotations

import json
import shutil

from mdm_core.datasets.models import recorded_source, source_location


def _text_files(folder):
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix in {".yaml", ".yml", ".json", ".jsonl", ".txt", ".log"}:
            yield path


def test_a_moved_home_keeps_working_and_names_no_absolute_path_of_its_own(tmp_path, use_home, penguins, run_mdm):
    home = use_home(tmp_path / "home")
    (home / "raw").mkdir(parents=True)
    inside = home / "raw" / "d.csv"
    shutil.copy(penguins / "train.csv", inside)
    from mdm_core.datasets.client import MDMClient

    client = MDMClient()
    client.register_dataset("d", inside, backend="duckdb", generate_features=False)
    client.register_dataset("e", penguins, generate_features=False)
    assert client.get_dataset_info("d").source == "raw/d.csv"
    assert client.get_dataset_info("e").source == str(penguins.resolve())
    assert not [p for p in _text_files(home) if str(home) in p.read_text(encoding="utf-8")]

    moved = use_home(shutil.move(home, tmp_path / "elsewhere" / "home"))
    client = MDMClient()
    assert client.load_arrow("d", "data").num_rows == client.get_dataset_info("d").table("data").row_count
    assert client.load_arrow("e", "train").num_rows == 272

    # a damaged row count makes doctor suggest registering again from the recorded source
    metadata = moved / "datasets" / "d" / "dataset.yaml"
    rows = client.get_dataset_info("d").table("data").row_count
    metadata.write_text(metadata.read_text().replace(f"row_count: {rows}", f"row_count: {rows + 1}"))
    result = run_mdm("doctor", "--format", "json", env={"MDM_HOME_DIR": str(moved)})
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["dataset d"]["fix"] == f"mdm dataset register d {moved / 'raw' / 'd.csv'} --force"


def test_recorded_sources_resolve_only_to_existing_paths(tmp_path):
    home = tmp_path / "home"
    (home / "raw").mkdir(parents=True)
    (home / "raw" / "a.csv").write_text("x\n1\n")
    outside = tmp_path / "b.csv"
    outside.write_text("x\n1\n")
    assert recorded_source(home / "raw" / "a.csv", home) == "raw/a.csv"
    assert recorded_source(outside, home) == str(outside.resolve())
    assert source_location("raw/a.csv", home) == home / "raw" / "a.csv"
    assert source_location(str(outside), home) == outside
    assert source_location("split of dataset 'p' table 'train'", home) is None
    assert source_location("raw/gone.csv", home) is None and source_location(None, home) is None
