"""Every table MDM prints stays readable in an 80-column terminal: no line is wider, and no
name (plugin, distribution, engine, config key, flag, dataset, check) is split across lines."""

from __future__ import annotations

import json
import re

import pytest

from mdm_core.cli.output import emit_table

WIDTH = 80


def _run(run_mdm, *args: str) -> str:
    result = run_mdm(*args, env={"COLUMNS": str(WIDTH)})
    assert result.returncode == 0, result.stderr
    return result.stdout


def _json(run_mdm, *args: str):
    return json.loads(_run(run_mdm, *args, "--format", "json"))


def _unbreakable(line: str) -> bool:
    """A ``label: value`` line whose value is one word (a long path): no layout can fold it."""
    label, _, value = line.partition(": ")
    return bool(value) and " " not in label.strip() and not any(ch.isspace() for ch in value.strip())


def _assert_readable(output: str, words: set[str]) -> None:
    too_wide = [line for line in output.splitlines() if len(line) > WIDTH and not _unbreakable(line)]
    assert not too_wide, f"lines wider than {WIDTH}: {too_wide[:3]}"
    tokens = set(re.split(r"[\s│┃,()]+", output))
    split = sorted(word for word in words if word and word not in tokens)
    assert not split, f"split or missing in the {WIDTH}-column output: {split}"


@pytest.fixture
def registered(client, penguins):
    client.register_dataset("penguins", penguins, target="species")
    return "penguins"


def test_plugins_and_features_lists_keep_every_name_whole(run_mdm, home):
    plugins = _json(run_mdm, "plugins", "list")
    names = {r["name"] for r in plugins["plugins"]} | {r["distribution"] for r in plugins["plugins"]}
    assert "features-legacy" in names
    _assert_readable(_run(run_mdm, "plugins", "list"), names)

    features = _json(run_mdm, "features", "list")
    engine_words = {e["plugin"] for e in features["engines"]} | {
        family["name"] for e in features["engines"] for family in e["families"]}
    _assert_readable(_run(run_mdm, "features", "list"), engine_words | {"features-legacy", "features-new"})


def test_config_flags_and_dataset_tables(run_mdm, home, registered):
    shown = _json(run_mdm, "config", "show", "--sources")
    keys = set(shown["values"])
    _assert_readable(_run(run_mdm, "config", "show"), keys)
    _assert_readable(_run(run_mdm, "config", "show", "--sources"), keys)
    flags = _json(run_mdm, "flags", "list")
    _assert_readable(_run(run_mdm, "flags", "list"), set(flags))
    _assert_readable(_run(run_mdm, "dataset", "list"), {registered, "sqlite"})


@pytest.mark.slow
def test_storage_test_table(run_mdm, home):
    checks = _json(run_mdm, "storage", "test", "--backend", "sqlite")
    words = {word for row in checks["checks"] for word in row["name"].split()}
    assert words
    _assert_readable(_run(run_mdm, "storage", "test", "--backend", "sqlite"), words)


def test_emit_table_wraps_text_between_words_and_moves_rows_below_when_too_wide(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    text = "a sentence long enough to need several lines in any eighty column terminal " * 2
    emit_table("Fits", ["name", "text"], [("features-legacy", text)])
    fits = capsys.readouterr().out
    assert "┃ name" in fits  # still a table
    _assert_readable(fits, {"features-legacy", "sentence", "eighty", "terminal"})

    wide = "mdm-plugin-with-a-really-quite-long-distribution-name"
    emit_table("Too wide", ["name", "distribution", "path"],
               [("features-legacy", wide, "/a/very/long/path/without/any/space/in/it/at/all")])
    below = capsys.readouterr().out
    assert below.splitlines()[:2] == ["Too wide", "name: features-legacy"]
    _assert_readable(below, {"features-legacy", wide, "/a/very/long/path/without/any/space/in/it/at/all"})
