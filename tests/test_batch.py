"""``mdm batch export|stats|remove``: patterns, one failure not stopping the rest, exit
codes, JSON reports, and the exported files and statistics checked against the data."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from mdm_core.datasets.batch import normalize_pattern, resolve_patterns, run_each
from mdm_core.errors import DatasetError, error_sentence

NAMES = ["penguins", "penguins_raw", "sales_a", "sales_b", "weather"]


# -- patterns and the runner --------------------------------------------------------------
@pytest.mark.parametrize(("patterns", "matched", "unmatched"), [
    (["sales_*"], ["sales_a", "sales_b"], []),
    (["sales_*,Penguins-Raw", "WEATHER"], ["penguins_raw", "sales_a", "sales_b", "weather"], []),
    (["weather", "penguins"], ["penguins", "weather"], []),  # catalog order, not argument order
    (["sales_a", "sales_*", "SALES_A"], ["sales_a", "sales_b"], []),  # no repeats
    (["sales_?", "nope*", "x"], ["sales_a", "sales_b"], ["nope*", "x"]),
    (["Sales-[a-a]", "penguins*raw"], ["penguins_raw", "sales_a"], []),  # a range keeps its '-'
    (["penguin"], [], ["penguin"]),  # a plain name matches exactly, not as a prefix
    ([" , ", ""], [], []),
])
def test_resolve_patterns(patterns, matched, unmatched):
    assert resolve_patterns(NAMES, patterns) == (matched, unmatched)


def test_normalize_pattern_keeps_glob_characters():
    assert normalize_pattern("  Sales-[a-c]*?-X ") == "sales_[a-c]*?_x"


def test_run_each_goes_on_past_a_failure_and_masks_secrets():
    from mdm_core.secrets import MASK

    def action(name: str) -> int:
        if name == "b":
            raise DatasetError("cannot reach postgresql://user:hunter22@db/x\nsecond line")
        if name == "c":
            raise KeyError("k")
        return len(name)

    seen = []
    outcomes = run_each(["a", "b", "c", "dd"], action, seen.append)
    assert seen == outcomes
    assert [(o.name, o.ok, o.result) for o in outcomes] == [("a", True, 1), ("b", False, None), ("c", False, None),
                                                           ("dd", True, 2)]
    assert outcomes[1].error == f"cannot reach postgresql://user:{MASK}@db/x second line"
    assert outcomes[2].error == "unexpected KeyError: 'k'"
    assert all(o.seconds >= 0 for o in outcomes)


def test_run_each_stops_on_keyboard_interrupt():
    def action(name: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_each(["a", "b"], action)


def test_a_long_error_is_cut_to_one_line():
    sentence = error_sentence(DatasetError("word " * 200))
    assert len(sentence) <= 303 and sentence.endswith("...") and "\n" not in sentence


# -- datasets -----------------------------------------------------------------------------
@pytest.fixture
def three(client, penguins):
    """penguins (with feature tables), sales_a (train.csv) and sales_b (test.csv), on SQLite."""
    client.register_dataset("penguins", penguins)
    client.register_dataset("sales_a", penguins / "train.csv", generate_features=False)
    client.register_dataset("sales_b", penguins / "test.csv", generate_features=False)
    return client


def _break(client, name: str) -> None:
    """Delete the dataset's database file: reading it fails, its metadata stays."""
    (client.catalog.folder(name) / client.get_dataset_info(name).store["file"]).unlink()


def _json(done) -> dict:
    return json.loads(done.stdout)


def test_export_goes_on_past_a_broken_dataset(three, tmp_path, run_mdm):
    _break(three, "sales_a")
    out = tmp_path / "out"
    done = run_mdm("batch", "export", "sales_*,Penguins", "-o", str(out), "--format", "parquet",
                   "--output-format", "json")
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: 1 of 3 datasets failed (sales_a)."
    report = _json(done)
    assert report["command"] == "export" and report["dry_run"] is False
    assert report["unmatched"] == []
    assert report["summary"] == {"ok": 2, "failed": 1}
    assert [d["name"] for d in report["datasets"]] == ["penguins", "sales_a", "sales_b"]
    by_name = {d["name"]: d for d in report["datasets"]}
    broken = by_name["sales_a"]
    assert broken["status"] == "failed"
    assert broken["error"] == f"SQLite database {three.catalog.folder('sales_a') / 'dataset.sqlite'} does not exist."
    assert (broken["files"], broken["skipped"], broken["rows"], broken["folder"]) == ([], [], None, None)
    assert not (out / "sales_a").exists()
    for name, tables in [("penguins", ["train", "test", "sample_submission", "train_features", "test_features"]),
                         ("sales_b", ["data"])]:
        entry = by_name[name]
        assert entry["status"] == "ok" and entry["error"] is None
        assert entry["folder"] == str(out / name)
        assert [f["table"] for f in entry["files"]] == tables
        assert entry["skipped"] == []
        for f in entry["files"]:
            path = Path(f["path"])
            assert path == out / name / f"{name}_{f['table']}.parquet"
            assert f["bytes"] == path.stat().st_size
            back, stored = pq.read_table(path), three.load_arrow(name, f["table"])
            assert back.equals(stored)
            assert f["rows"] == stored.num_rows
        assert entry["rows"] == sum(f["rows"] for f in entry["files"])
    assert sorted(p.name for p in out.iterdir()) == ["penguins", "sales_b"]


def test_export_text_lines_and_summary(three, tmp_path, run_mdm):
    _break(three, "sales_a")
    done = run_mdm("batch", "export", "sales_a", "sales_b", "-o", str(tmp_path / "o"))
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0] == (f"FAILED  sales_a  SQLite database {three.catalog.folder('sales_a') / 'dataset.sqlite'} "
                        "does not exist.")
    assert lines[1].startswith("ok      sales_b  1 file, 72 rows  ") and lines[1].endswith(" s")
    assert lines[2:] == ["1 exported, 1 failed."]
    assert pd.read_csv(tmp_path / "o" / "sales_b" / "sales_b_data.csv").shape == (72, 8)


def test_export_dry_run_writes_nothing(three, tmp_path, cli):
    out = tmp_path / "out"
    done = cli("batch", "export", "penguins", "sales_b", "-o", str(out), "--no-features", "--dry-run",
               "--format", "jsonl", "--compression", "gzip", "--output-format", "json")
    assert done.exit_code == 0
    report = json.loads(done.stdout)
    assert report["dry_run"] is True and report["summary"] == {"ok": 2, "failed": 0}
    penguins, sales_b = report["datasets"]
    assert [(f["table"], f["rows"], f["bytes"], f["path"]) for f in penguins["files"]] == [
        (t, rows, None, str(out / "penguins" / f"penguins_{t}.jsonl.gz"))
        for t, rows in [("train", 272), ("test", 72), ("sample_submission", 72)]]
    assert (penguins["rows"], sales_b["rows"]) == (416, 72)
    assert not out.exists()
    text = cli("batch", "export", "sales_*", "-o", str(out), "--dry-run")
    assert [re.split(r"\s{2,}", line)[:3] for line in text.stdout.splitlines()[:2]] == [
        ["ok", "sales_a", "1 table, 272 rows -> " + str(out / "sales_a")],
        ["ok", "sales_b", "1 table, 72 rows -> " + str(out / "sales_b")]]
    assert text.stdout.splitlines()[2] == "2 would be exported, 0 failed."
    assert not out.exists()


def test_unmatched_patterns_are_named_and_the_rest_is_done(three, tmp_path, run_mdm):
    done = run_mdm("batch", "export", "sales_b,nope*", "ghost", "-o", str(tmp_path / "o"), "--output-format", "json")
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: no dataset matches 'nope*', 'ghost'."
    report = _json(done)
    assert report["unmatched"] == ["nope*", "ghost"] and report["summary"] == {"ok": 1, "failed": 0}
    assert (tmp_path / "o" / "sales_b" / "sales_b_data.csv").is_file()


def test_nothing_matched_is_one_sentence(three, tmp_path, run_mdm):
    done = run_mdm("batch", "stats", "nope*,ghost")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip() == "Error: No dataset matches 'nope*', 'ghost' (known: penguins, sales_a, sales_b)."
    bad = run_mdm("batch", "export", "sales_b", "--format", "csv", "--compression", "snappy")
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.strip() == "Error: csv files compress with gzip, zstd or none, not 'snappy' (snappy compresses " \
                                 "Parquet files only)."


def _pandas_tables(penguins: Path) -> dict[str, list[pd.DataFrame]]:
    return {"penguins": [pd.read_csv(penguins / f) for f in ("train.csv", "test.csv", "sample_submission.csv")],
            "sales_b": [pd.read_csv(penguins / "test.csv")]}


def test_stats_equal_pandas_and_write_files(three, penguins, tmp_path, run_mdm):
    out = tmp_path / "stats"
    done = run_mdm("batch", "stats", "penguins,sales_b", "-o", str(out), "--format", "json")
    assert done.returncode == 0, done.stderr
    report = _json(done)
    assert report["command"] == "stats" and report["summary"] == {"ok": 2, "failed": 0}
    for entry, (name, frames) in zip(report["datasets"], _pandas_tables(penguins).items(), strict=True):
        assert entry["name"] == name and entry["status"] == "ok" and entry["error"] is None
        assert [t["table"] for t in entry["tables"]] == [t.name for t in three.get_dataset_info(name).data_tables]
        for table, df in zip(entry["tables"], frames, strict=True):
            assert table["rows"] == len(df)
            assert list(table["columns"]) == list(df.columns)
            for column, s in table["columns"].items():
                assert s["count"] == df[column].notna().sum(), column
                assert s["nulls"] == df[column].isna().sum(), column
                if pd.api.types.is_numeric_dtype(df[column]) and s["mean"] is not None:
                    assert abs(s["mean"] - df[column].mean()) <= 1e-9, column
        cells = sum(df.size for df in frames)
        nulls = sum(int(df.isna().sum().sum()) for df in frames)
        assert entry["totals"] == {"tables": len(frames), "rows": sum(len(df) for df in frames),
                                   "columns": sum(df.shape[1] for df in frames), "cells": cells, "nulls": nulls,
                                   "completeness": pytest.approx(1 - nulls / cells, abs=1e-12)}
        written = out / f"{name}_stats.json"
        assert entry["file"] == str(written)
        assert json.loads(written.read_text()) == {"dataset": name, "tables": entry["tables"],
                                                   "totals": entry["totals"]}
    assert sorted(p.name for p in out.iterdir()) == ["penguins_stats.json", "sales_b_stats.json"]  # no temp files


def test_stats_text_goes_on_past_a_broken_dataset(three, penguins, run_mdm):
    _break(three, "penguins")
    done = run_mdm("batch", "stats", "*")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].startswith("FAILED  penguins  SQLite database ")
    train = pd.read_csv(penguins / "train.csv")
    complete = 1 - train.isna().sum().sum() / train.size
    assert complete < 1
    assert lines[1].startswith(f"ok      sales_a   1 table, 272 rows, 9 columns, {complete:.2%} complete  ")
    assert lines[2].startswith("ok      sales_b   1 table, 72 rows, 8 columns, 100.00% complete  ")
    assert lines[3:] == ["2 described, 1 failed."]
    assert done.stderr.strip() == "Error: 1 of 3 datasets failed (penguins)."


def _folders(home: Path) -> dict[str, set[str]]:
    root = home / "datasets"
    return {p.name: {f.name for f in p.iterdir()} for p in root.iterdir() if not p.name.startswith(".")}


def test_remove_dry_run_changes_nothing(three, home, run_mdm):
    before = _folders(home)
    done = run_mdm("batch", "remove", "sales_*", "--dry-run", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = _json(done)
    assert report["dry_run"] is True and report["summary"] == {"ok": 2, "failed": 0}
    for entry, rows in zip(report["datasets"], (272, 72), strict=True):
        folder = three.catalog.folder(entry["name"])
        assert (entry["backend"], entry["tables"], entry["rows"]) == ("sqlite", ["data"], rows)
        assert entry["bytes"] == sum(f.stat().st_size for f in folder.iterdir())
    text = run_mdm("batch", "remove", "sales_*", "--dry-run")
    assert text.stdout.splitlines()[0].startswith("Would remove 2 datasets, ")
    assert text.stdout.splitlines()[-1] == "2 would be removed, 0 failed."
    assert _folders(home) == before
    assert [i.name for i in three.list_datasets()] == ["penguins", "sales_a", "sales_b"]


def test_remove_force_removes_exactly_the_matched(three, home, run_mdm):
    done = run_mdm("batch", "remove", "sales_*", "--force", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = _json(done)
    assert [(d["name"], d["status"]) for d in report["datasets"]] == [("sales_a", "ok"), ("sales_b", "ok")]
    assert [i.name for i in three.list_datasets()] == ["penguins"]
    assert set(_folders(home)) == {"penguins"}
    assert three.load_arrow("penguins").num_rows == 272


def test_remove_asks_once_and_json_needs_force(three, cli):
    refused = cli("batch", "remove", "sales_*", "--format", "json")
    assert refused.exit_code == 1 and refused.stdout == ""
    assert refused.stderr.strip() == ("Error: `mdm batch remove --format json` cannot ask for confirmation: add "
                                      "--force (or --dry-run to see what would be removed).")
    declined = cli("batch", "remove", "sales_*", input="n\n")
    assert declined.exit_code == 0 and declined.stdout.splitlines()[-1] == "Nothing removed."
    assert len(three.list_datasets()) == 3
    accepted = cli("batch", "remove", "sales_a,penguins", input="y\n")
    assert accepted.exit_code == 0
    assert "Remove these 2 datasets? [y/N]: " in accepted.stdout
    assert accepted.stdout.splitlines()[-1] == "2 removed, 0 failed."
    assert [i.name for i in three.list_datasets()] == ["sales_b"]


def test_export_and_stats_on_each_backend(any_backend, client, penguins, tmp_path, cli):
    client.register_dataset("penguins", penguins)
    client.register_dataset("sales_b", penguins / "test.csv", generate_features=False)
    assert {i.backend for i in client.list_datasets()} == {any_backend.name}
    out = tmp_path / "out"
    done = cli("batch", "export", "*", "-o", str(out), "--format", "parquet", "--output-format", "json")
    assert done.exit_code == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["summary"] == {"ok": 2, "failed": 0}
    for entry in report["datasets"]:
        assert len(entry["files"]) == (5 if entry["name"] == "penguins" else 1)
        for f in entry["files"]:
            assert pq.read_table(f["path"]).equals(client.load_arrow(entry["name"], f["table"]))
    stats = cli("batch", "stats", "penguins,sales_b", "--format", "json")
    assert stats.exit_code == 0, stats.stderr
    frames = _pandas_tables(penguins)
    for entry in json.loads(stats.stdout)["datasets"]:
        for table, df in zip(entry["tables"], frames[entry["name"]], strict=True):
            assert table["rows"] == len(df)
            for column, s in table["columns"].items():
                assert (s["count"], s["nulls"]) == (df[column].notna().sum(), df[column].isna().sum())
    removed = cli("batch", "remove", "*", "--force", "--format", "json")
    assert removed.exit_code == 0 and client.list_datasets() == []
    assert any_backend.schemas() == []


def test_a_1x_home_exports_and_describes(legacy_fixture, monkeypatch, tmp_path, run_mdm):
    for key in list(os.environ):
        if key.startswith("MDM_") and key not in {"MDM_TEST_POSTGRES_DSN", "MDM_STRICT_PLUGINS"}:
            monkeypatch.delenv(key)
    monkeypatch.setenv("MDM_HOME_DIR", str(legacy_fixture / "home"))
    done = run_mdm("batch", "export", "weather,penguins", "-o", str(tmp_path / "o"), "--output-format", "json")
    assert done.returncode == 0, done.stderr
    weather = {d["name"]: d for d in _json(done)["datasets"]}["weather"]
    assert [f["table"] for f in weather["files"]] == ["data"] and weather["rows"] == 26115
    assert weather["skipped"] == [{"table": "data_features", "reason": "incomplete feature table (1.x), not exported"}]
    stats = run_mdm("batch", "stats", "weather", "--format", "json")
    assert stats.returncode == 0, stats.stderr
    assert _json(stats)["datasets"][0]["totals"]["rows"] == 26115
    preview = run_mdm("batch", "remove", "weather", "--dry-run", "--format", "json")
    assert _json(preview)["datasets"][0]["bytes"] is None  # a 1.x store: size not known
