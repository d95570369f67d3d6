"""End to end on damaged copies of the real MDM 1.0.6 home, damaged the ways real homes are.

For each damage: what ``mdm dataset list`` (table and JSON), ``mdm dataset info`` and
``MDMClient`` loading say about the damaged dataset, that every other dataset still works
(values against the source CSVs), and that none of these reads writes a byte. No flag is
set: the home's 1.x datasets select the legacy generation by themselves.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mdm_core.errors import MDMError
from mdm_core.testing.home import snapshot

MDM = Path(sys.executable).with_name("mdm")
SOURCES = {
    ("penguins", "train"): "penguins/train.csv",
    ("penguins", "test"): "penguins/test.csv",
    ("penguins_raw", "data"): "penguins_raw.csv",
    ("sample", "train"): "sample/train.csv",
    ("sample", "sample_submission"): "sample/sample_submission.csv",
    ("weather", "data"): "weather/weather.csv",
}
NAMES = ("penguins", "penguins_raw", "sample", "weather")


@pytest.fixture(autouse=True)
def _nothing_from_outside(monkeypatch):
    for key in list(os.environ):
        if (key.startswith("MDM_") and key not in {"MDM_TEST_POSTGRES_DSN", "MDM_STRICT_PLUGINS"}) \
                or key.startswith("PG"):
            monkeypatch.delenv(key)


@pytest.fixture
def home(legacy) -> Path:
    return legacy / "home"


def mdm(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MDM_", "PG"))}
    env.update({"MDM_HOME_DIR": str(home), "COLUMNS": "250"})
    return subprocess.run([str(MDM), *args], capture_output=True, text=True, env=env, timeout=300)


def client(home: Path):
    from mdm_core import MDMClient

    return MDMClient(home)


def plain(values: list) -> list:
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else (v.item() if hasattr(v, "item") else v)
            for v in values]


def assert_values(frame: pd.DataFrame, csv: Path, where: str) -> None:
    """``frame`` holds the CSV's values (floats within one ulp: 1.x's fast float parser)."""
    source = pd.read_csv(csv)
    assert list(frame.columns) == list(source.columns) and len(frame) == len(source), where
    for column in source.columns:
        for want, have in zip(plain(source[column].tolist()), plain(frame[column].tolist()), strict=True):
            if isinstance(want, float) and isinstance(have, float):
                assert abs(want - have) <= math.ulp(want), (where, column, want, have)
            else:
                assert want == have, (where, column, want, have)


def edit_yaml(home: Path, name: str, change) -> None:
    path = home / "config" / "datasets" / f"{name}.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


class Views:
    """What the user sees of a home, read once: the list table, the list JSON, and each
    dataset's ``info`` (text and JSON); checking on the way that reading wrote nothing."""

    def __init__(self, home: Path, *infos: str) -> None:
        before = snapshot(home)
        listed = mdm(home, "dataset", "list")
        assert listed.returncode == 0, listed.stderr
        self.table = listed.stdout
        as_json = mdm(home, "dataset", "list", "--format", "json")
        assert as_json.returncode == 0, as_json.stderr
        self.listing = {d["name"]: d for d in json.loads(as_json.stdout)}
        self.info: dict[str, str] = {}
        self.info_json: dict[str, dict] = {}
        for name in infos:
            text = mdm(home, "dataset", "info", name)
            assert text.returncode == 0, text.stderr
            self.info[name] = text.stdout
            self.info_json[name] = json.loads(mdm(home, "dataset", "info", name, "--format", "json").stdout)
        after = snapshot(home)
        assert after == before, "reading the damaged home changed it"
        assert not [p for p in home.rglob("*") if p.name.endswith(("-wal", "-shm"))]

    def row(self, name: str) -> dict[str, str]:
        lines = self.table.splitlines()
        header = [c.strip() for c in next(line for line in lines if line.startswith("┃")).split("┃")[1:-1]]
        for line in lines:
            cells = [c.strip() for c in line.split("│")[1:-1]]
            if cells and cells[0] == name:
                return dict(zip(header, cells, strict=True))
        raise AssertionError(f"{name} not listed:\n{self.table}")

    def note(self, name: str) -> str:
        found = [line for line in self.table.splitlines() if line.startswith(f"{name}: ")]
        assert len(found) == 1, self.table
        return found[0]


def assert_the_others_work(home: Path, legacy: Path, *damaged: str) -> None:
    """Every dataset but ``damaged`` loads the values of its source files."""
    before = snapshot(home)
    reader = client(home)
    for (name, table), source in SOURCES.items():
        if name not in damaged:
            assert_values(reader.load_dataset(name, table=table), legacy / "data" / source, f"{name}.{table}")
    assert snapshot(home) == before


def load_error(home: Path, name: str, **kwargs) -> str:
    """The one sentence loading ``name`` fails with (through load_dataset and iter_batches)."""
    reader = client(home)
    with pytest.raises(MDMError) as caught:
        reader.load_dataset(name, **kwargs)
    with pytest.raises(MDMError) as streamed:
        list(reader.iter_batches(name, **kwargs))
    message = str(caught.value)
    assert str(streamed.value) == message and "\n" not in message and "Traceback" not in message
    return message


# -- the damages -------------------------------------------------------------------------------
def test_a_dataset_whose_yaml_is_gone_is_discovered(home, legacy):
    (home / "config" / "datasets" / "penguins.yaml").unlink()
    views = Views(home, "penguins")
    assert views.row("penguins")["layout"] == "1.x (discovered)"
    assert views.row("penguins")["target"] == "species"  # from its dataset_info.json
    assert views.row("penguins")["tables (rows)"] == "train 272, test 72, sample_submission 72; +3 features"
    assert views.note("penguins") == ("penguins: note: Its YAML config/datasets/penguins.yaml is gone; found from "
                                      "datasets/penguins/dataset_info.json, which may be stale.")
    listed = views.listing["penguins"]
    assert listed["status"] == "ok" and listed["store"]["origin"] == "discovered"
    assert listed["description"] == "Palmer penguins, Kaggle-style split" and listed["tags"] == ["birds", "classification"]
    assert "Layout:           1.x (discovered)" in views.info["penguins"]
    assert views.info_json["penguins"]["store"]["origin"] == "discovered"
    reader = client(home)
    assert_values(reader.load_dataset("penguins"), legacy / "data/penguins/train.csv", "penguins.train")
    assert len(reader.load_dataset("penguins", table="train_features")) == 272
    assert_the_others_work(home, legacy, "penguins")


def test_a_dataset_with_only_its_database_left_is_discovered_with_its_feature_tables_held_back(home, legacy):
    (home / "config" / "datasets" / "penguins.yaml").unlink()
    (home / "datasets" / "penguins" / "dataset_info.json").unlink()
    views = Views(home, "penguins")
    assert views.row("penguins")["layout"] == "1.x (discovered)"
    assert views.row("penguins")["target"] == ""  # metadata unknown
    assert views.row("penguins")["tables (rows)"] == "train 272, test 72, sample_submission 72; +3 features (3 incomplete)"
    assert "metadata unknown (tables taken from the database)" in views.note("penguins")
    assert sorted(views.listing["penguins"]["incomplete_tables"]) == sorted(
        ["train_features", "test_features", "sample_submission_features"])
    assert_values(client(home).load_dataset("penguins", table="test"), legacy / "data/penguins/test.csv", "test")
    assert "is incomplete" in load_error(home, "penguins", table="train_features")
    assert_the_others_work(home, legacy, "penguins")


def test_a_dataset_whose_database_is_gone_is_broken_and_the_others_still_work(home, legacy):
    (home / "datasets" / "sample" / "sample.sqlite").unlink()
    views = Views(home, "sample")
    row = views.row("sample")
    assert row["layout"] == "1.x BROKEN"
    assert row["tables (rows)"] == "train ?, test ?, sample_submission ?"  # unknown, not 0
    assert row["description"] == "Tiny sample competition" and row["tags"] == "demo, tiny"  # the YAML still speaks
    note = views.note("sample")
    assert note.startswith("sample: broken: Its sqlite database is missing (tried ")
    assert "datasets/sample/sample.sqlite" in note and "/srv/mdm-legacy/.mdm/datasets/sample/sample.sqlite" in note
    listed = views.listing["sample"]
    assert listed["status"] == "broken" and listed["problems"][0].startswith("Its sqlite database is missing")
    assert [t["row_count"] for t in listed["tables"]] == [None, None, None]
    info = views.info["sample"]
    assert "Status:           broken" in info and "Problem:          Its sqlite database is missing" in info
    assert "Columns of" not in info
    assert views.info_json["sample"]["status"] == "broken"
    message = load_error(home, "sample")
    assert message.startswith("Dataset 'sample' cannot be read: Its sqlite database is missing (tried ")
    for other in ("penguins", "penguins_raw", "weather"):
        assert views.row(other)["layout"] == "1.x"
    assert_the_others_work(home, legacy, "sample")
    removed = mdm(home, "dataset", "remove", "sample", "--force")  # a broken dataset can still be removed
    assert removed.returncode == 0, removed.stderr
    assert not (home / "config" / "datasets" / "sample.yaml").exists() and not (home / "datasets" / "sample").exists()
    assert_the_others_work(home, legacy, "sample")


def test_a_moved_home_reads_from_where_it_is_now(legacy, tmp_path):
    old = legacy / "home"
    # the YAML's absolute path points to where the home is now... and then the home moves
    edit_yaml(old, "penguins", lambda d: d["database"].update(path=str(old / "datasets/penguins/penguins.sqlite")))
    moved = tmp_path / "elsewhere" / "a folder with spaces" / "home"
    moved.parent.mkdir(parents=True)
    shutil.move(str(old), str(moved))
    assert not old.exists()
    views = Views(moved, "penguins", "weather")
    for name in NAMES:
        assert views.listing[name]["status"] == "ok", views.listing[name]["problems"]
    assert views.listing["penguins"]["store"]["path"] == "datasets/penguins/penguins.sqlite"
    assert views.listing["weather"]["store"]["path"] == "datasets/weather/weather.duckdb"
    assert str(tmp_path) not in json.dumps(views.listing)  # nothing absolute shown for the home's files
    assert_values(client(moved).load_dataset("penguins"), legacy / "data/penguins/train.csv", "penguins")
    assert_the_others_work(moved, legacy)


def test_a_stale_dataset_info_json_is_reported_and_the_yaml_wins(home, legacy):
    info_path = home / "datasets" / "penguins" / "dataset_info.json"
    info = json.loads(info_path.read_text())
    info.update(target_column="island", tags=["old"])
    info_path.write_text(json.dumps(info, indent=2))
    views = Views(home, "penguins")
    assert views.row("penguins")["target"] == "species" and views.row("penguins")["tags"] == "birds, classification"
    assert views.note("penguins") == ("penguins: note: datasets/penguins/dataset_info.json is stale (differs from "
                                      "the YAML in target_column, tags); the YAML is used.")
    assert "Target:           species" in views.info["penguins"]
    # without the YAML, the stale copy is all there is, and the user is told
    (home / "config" / "datasets" / "penguins.yaml").unlink()
    views = Views(home, "penguins")
    assert views.row("penguins")["target"] == "island" and views.row("penguins")["layout"] == "1.x (discovered)"
    assert "which may be stale" in views.note("penguins")
    assert_the_others_work(home, legacy)


def test_a_partial_feature_table_is_incomplete_and_never_served(home, legacy):
    database = home / "datasets" / "penguins" / "penguins.sqlite"
    with sqlite3.connect(database) as con:  # 1.x stopped writing train_features after 100 rows
        con.execute("DELETE FROM train_features WHERE rowid > 100")
    con.close()
    views = Views(home, "penguins")
    assert views.row("penguins")["tables (rows)"] == "train 272, test 72, sample_submission 72; +3 features (1 incomplete)"
    assert views.note("penguins") == ("penguins: note: Feature table 'train_features' has 100 of 272 rows of "
                                      "'train' (incomplete): not served; the migration regenerates it.")
    assert "│ train_features             │ features (incomplete: not served) │ 100  │" in views.info["penguins"]
    assert "│ test_features              │ features                          │ 72   │" in views.info["penguins"]
    assert views.listing["penguins"]["incomplete_tables"] == ["train_features"]
    tables = {t["name"]: t for t in views.info_json["penguins"]["tables"]}
    assert tables["train_features"]["complete"] is False and tables["test_features"]["complete"] is True
    message = load_error(home, "penguins", table="train_features")
    assert message == ("Table 'train_features' of MDM 1.x dataset 'penguins' is incomplete (1.x stopped writing "
                       "it) and is not served; migrate the dataset to regenerate its features.")
    reader = client(home)
    assert len(reader.load_dataset("penguins", table="test_features")) == 72
    assert_values(reader.load_dataset("penguins", table="train"), legacy / "data/penguins/train.csv", "train")
    assert_the_others_work(home, legacy)


@pytest.mark.parametrize(("garbage", "reason"), [
    ("name: penguins_raw\ntables: {data: [unclosed\n", "config/datasets/penguins_raw.yaml is not valid YAML at line"),
    ("- just\n- a list\n", "config/datasets/penguins_raw.yaml holds a list, not a dataset description."),
    ("\x00\x01\x02 binary", "config/datasets/penguins_raw.yaml"),
])
def test_garbage_yaml_is_broken_with_the_reason_and_the_others_still_work(home, legacy, garbage, reason):
    (home / "config" / "datasets" / "penguins_raw.yaml").write_text(garbage)
    views = Views(home, "penguins_raw")
    assert views.row("penguins_raw")["layout"] == "1.x BROKEN"
    note = views.note("penguins_raw")
    assert note.startswith(f"penguins_raw: broken: {reason}")
    assert views.listing["penguins_raw"]["status"] == "broken"
    assert "Status:           broken" in views.info["penguins_raw"]
    assert f"Problem:          {reason}" in views.info["penguins_raw"]
    assert load_error(home, "penguins_raw").startswith(f"Dataset 'penguins_raw' cannot be read: {reason}")
    for other in ("penguins", "sample", "weather"):
        assert views.listing[other]["status"] == "ok"
    assert views.table.strip().splitlines()[-1].startswith("4 MDM 1.x dataset(s)")
    assert_the_others_work(home, legacy, "penguins_raw")


def test_unknown_keys_and_an_odd_problem_type_are_read_leniently(home, legacy):
    def change(data):
        data["problem_type"] = "Multi-Class"
        data["owner"] = {"team": "birds", "since": 2019}
        data["database"]["compression"] = "zstd"
        data["metadata"]["lineage"] = ["kaggle"]
        data["version"] = "1.0.9-dev"

    edit_yaml(home, "penguins", change)
    views = Views(home, "penguins")
    assert views.listing["penguins"]["status"] == "ok"
    assert views.listing["penguins"]["problem_type"] == "Multi-Class"
    assert "problem_type 'Multi-Class' is not one MDM knows" in views.note("penguins")
    assert "owner" not in views.note("penguins") and "compression" not in views.note("penguins")
    assert "Problem type:     Multi-Class" in views.info["penguins"]
    assert_values(client(home).load_dataset("penguins"), legacy / "data/penguins/train.csv", "penguins")
    assert_the_others_work(home, legacy)


def test_naive_and_aware_timestamps_both_parse(home, legacy):
    def change(data):
        data["registered_at"] = "2024-01-02 03:04:05"  # naive (1.x used utcnow)
        data["last_updated_at"] = "2024-03-04T05:06:07+02:00"  # aware

    edit_yaml(home, "penguins", change)
    views = Views(home, "penguins")
    assert views.row("penguins")["registered"] == "2024-01-02"
    assert "Registered:       2024-01-02T03:04:05+00:00" in views.info["penguins"]
    info = client(home).get_dataset_info("penguins")
    assert info.registered_at == "2024-01-02T03:04:05+00:00"
    assert info.last_updated_at == "2024-03-04T05:06:07+02:00"
    assert views.listing["sample"]["last_updated_at"] == "2026-11-21T01:50:33.684647+00:00"  # the fixture's naive one
    assert_the_others_work(home, legacy)


def test_leftovers_of_1x_are_never_datasets(home, legacy):
    (home / "feature_flags.yaml").write_text("use_new_backend: false\n")
    (home / "migration_state.json").write_text("{}")
    (home / "rollback_history.json").write_text("[]")
    sqlite3.connect(home / "metrics.db").close()
    for folder in ("cache", "logs", "datasets/cache", "datasets/logs"):
        (home / folder).mkdir()
        (home / folder / "x.sqlite").write_bytes((home / "datasets/sample/sample.sqlite").read_bytes())
    (home / "config" / "datasets" / "feature_flags.yaml").write_text("a: 1\n")
    views = Views(home)
    assert list(views.listing) == list(NAMES)
    assert all(views.listing[n]["status"] == "ok" for n in NAMES)
    assert_the_others_work(home, legacy)
