"""MDM 1.x spellings in the ``mdm`` CLI (``mdm_core/cli/legacy_spellings.py``): with the
flag ``use_new_cli`` off they run as the new spelling with a one-line note on stderr; with
it on they are refused with exit code 2 and the new spelling; nothing valid is rewritten."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdm_core.cli.legacy_spellings import COMMANDS, SPELLINGS, rewrite
from mdm_core.cli.main import cli

OFF = {"MDM_FLAGS_USE_NEW_CLI": "0"}
ON = {"MDM_FLAGS_USE_NEW_CLI": "1"}
INFO_REG = ["dataset", "info", "reg", "--format", "json"]
REGISTER = ["dataset", "register", "reg", "{data}", "--no-features"]

#: (1.x argv, new argv, the 1.x spelling and the new one as the note shows them, an argv
#: whose output shows the effect). ``{data}``: the penguins folder; ``{out}``: a folder.
CASES = {
    "list --json": (["dataset", "list", "--json"], ["dataset", "list", "--format", "json"], "--json",
                    "--format json", None),
    "info --json": (["dataset", "info", "penguins", "--json"], ["dataset", "info", "penguins", "--format", "json"],
                    "--json", "--format json", None),
    "stats --json": (["dataset", "stats", "penguins", "--json"],
                     ["dataset", "stats", "penguins", "--format", "json"], "--json", "--format json", None),
    "search --json": (["dataset", "search", "peng", "--json"], ["dataset", "search", "peng", "--format", "json"],
                      "--json", "--format json", None),
    "register -f": ([*REGISTER, "-f"], [*REGISTER, "--force"], "-f", "--force", INFO_REG),
    "register -t": ([*REGISTER, "--force", "-t", "island"], [*REGISTER, "--force", "--target", "island"], "-t",
                    "--target", INFO_REG),
    "register -d": ([*REGISTER, "--force", "-d", "Palmer penguins"],
                    [*REGISTER, "--force", "--description", "Palmer penguins"], "-d", "--description", INFO_REG),
    "register --categorical-columns": (
        [*REGISTER, "--force", "--categorical-columns", "year,island"],
        [*REGISTER, "--force", "--type", "year=categorical", "--type", "island=categorical"],
        "--categorical-columns year,island", "--type year=categorical --type island=categorical", INFO_REG),
    "register --datetime-columns": ([*REGISTER, "--force", "--datetime-columns", "year"],
                                    [*REGISTER, "--force", "--type", "year=datetime"], "--datetime-columns year",
                                    "--type year=datetime", INFO_REG),
    "register --numeric-columns": ([*REGISTER, "--force", "--numeric-columns", "year"],
                                   [*REGISTER, "--force", "--type", "year=numeric"], "--numeric-columns year",
                                   "--type year=numeric", INFO_REG),
    "register --text-columns": ([*REGISTER, "--force", "--text-columns", "sex"],
                                [*REGISTER, "--force", "--type", "sex=text"], "--text-columns sex",
                                "--type sex=text", INFO_REG),
    "list --sort-by registration_date": (["dataset", "list", "--sort-by", "registration_date"],
                                         ["dataset", "list", "--sort-by", "registered"],
                                         "--sort-by registration_date", "--sort-by registered", None),
    "list --format text": (["dataset", "list", "--format", "text"], ["dataset", "list", "--format", "table"],
                           "--format text", "--format table", None),
    "list -f rich": (["dataset", "list", "-f", "rich"], ["dataset", "list", "--format", "table"], "-f rich",
                     "--format table", None),
    "list --filter-backend": (["dataset", "list", "--filter-backend", "sqlite"],
                              ["dataset", "list", "--backend", "sqlite"], "--filter-backend", "--backend", None),
    "list --all-backends": (["dataset", "list", "--all-backends"], ["dataset", "list"], "--all-backends",
                            "leave it out", None),
    "info --details": (["dataset", "info", "penguins", "--details"], ["dataset", "info", "penguins"], "--details",
                       "leave it out", None),
    "info -d": (["dataset", "info", "penguins", "-d"], ["dataset", "info", "penguins"], "-d", "leave it out", None),
    "info --show-columns": (["dataset", "info", "penguins", "--show-columns"], ["dataset", "info", "penguins"],
                            "--show-columns", "leave it out", None),
    "info --show-features": (["dataset", "info", "penguins", "--show-features"], ["dataset", "info", "penguins"],
                             "--show-features", "leave it out", None),
    "search --deep --pattern": (["dataset", "search", "pen*", "--deep", "--pattern"],
                                ["dataset", "search", "pen*"], "--deep", "leave it out", None),
    "stats --full": (["dataset", "stats", "penguins", "--full"], ["dataset", "stats", "penguins", "--extended"],
                     "--full", "--extended", None),
    "export --output-dir": (["dataset", "export", "penguins", "--output-dir", "{out}"],
                            ["dataset", "export", "penguins", "-o", "{out}"], "--output-dir", "-o", None),
    "export --no-include-features": (["dataset", "export", "penguins", "-o", "{out}", "--no-include-features"],
                                     ["dataset", "export", "penguins", "-o", "{out}", "--no-features"],
                                     "--no-include-features", "--no-features", None),
    "export --include-features": (["dataset", "export", "penguins", "-o", "{out}", "--include-features"],
                                  ["dataset", "export", "penguins", "-o", "{out}"], "--include-features",
                                  "leave it out", None),
    "export -f": (["dataset", "export", "penguins", "-o", "{out}", "-f", "parquet"],
                  ["dataset", "export", "penguins", "-o", "{out}", "--format", "parquet"], "-f", "--format", None),
    "batch export --output-dir": (["batch", "export", "penguins", "--output-dir", "{out}"],
                                  ["batch", "export", "penguins", "-o", "{out}"], "--output-dir", "-o", None),
    "batch export -f -c --parallel": (
        ["batch", "export", "penguins", "-o", "{out}", "-f", "csv", "-c", "gzip", "--parallel"],
        ["batch", "export", "penguins", "-o", "{out}", "--format", "csv", "--compression", "gzip"],
        "-c", "--compression", None),
    "batch stats --full": (["batch", "stats", "penguins", "--full"], ["batch", "stats", "penguins", "--extended"],
                           "--full", "--extended", None),
    "batch stats --export": (["batch", "stats", "penguins", "--export", "{out}"],
                             ["batch", "stats", "penguins", "-o", "{out}"], "--export", "-o", None),
    "remove -f": (["dataset", "remove", "penguins", "--dry-run", "-f"],
                  ["dataset", "remove", "penguins", "--dry-run", "--force"], "-f", "--force", None),
    "batch remove -f": (["batch", "remove", "penguins", "--dry-run", "-f"],
                        ["batch", "remove", "penguins", "--dry-run", "--force"], "-f", "--force", None),
}


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> dict[str, Path]:
    """A home with the penguins example registered as ``penguins`` (registered once for
    the module: every case reads it, the register cases write a dataset ``reg``)."""
    root = tmp_path_factory.mktemp("legacy_spellings")
    data = root / "penguins"
    shutil.copytree(Path(__file__).resolve().parents[1] / "examples" / "penguins", data)
    (root / "home").mkdir()
    mdm = Path(sys.executable).with_name("mdm")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MDM_")}
    done = subprocess.run([str(mdm), "dataset", "register", "penguins", str(data), "--no-features"], env={
        **env, "MDM_HOME_DIR": str(root / "home")}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return {"home": root / "home", "data": data, "out": root / "out"}


def _fill(argv: list[str], shared: dict[str, Path]) -> list[str]:
    return [a.format(data=shared["data"], out=shared["out"]) for a in argv]


def _same(text: str) -> str:
    """Output with what differs between two identical runs (times, store keys) taken out."""
    text = re.sub(r'"(registered_at|seconds|key|size_bytes)": [^,\n]*', r'"\1": _', text)
    return re.sub(r"\d+\.\d s$", "0.0 s", text, flags=re.MULTILINE)


@pytest.mark.parametrize("case", list(CASES))
def test_flag_off_the_1x_spelling_runs_as_the_new_one(case, run_mdm, shared):
    old, new, shown_old, shown_new, probe = CASES[case]
    env = {**OFF, "MDM_HOME_DIR": str(shared["home"])}
    outputs = []
    for argv in (old, new):
        done = run_mdm(*_fill(argv, shared), env=env)
        assert done.returncode == 0, done.stderr
        seen = run_mdm(*probe, env=env).stdout if probe else ""
        outputs.append((_same(done.stdout), _same(seen), done.stderr))
    (old_out, old_probe, old_err), (new_out, new_probe, new_err) = outputs
    assert old_out == new_out and old_out.strip()
    assert old_probe == new_probe
    assert new_err == ""
    notes = old_err.splitlines()
    assert all(line.startswith("Note: `") and "is the MDM 1.x spelling; " in line for line in notes)
    assert any(f"`{shown_old}`" in line and shown_new in line for line in notes), notes


@pytest.mark.parametrize("case", list(CASES))
def test_flag_on_the_1x_spelling_is_refused_with_the_new_one(case, run_mdm, shared):
    old, _, shown_old, shown_new, _ = CASES[case]
    done = run_mdm(*_fill(old, shared), env={**ON, "MDM_HOME_DIR": str(shared["home"])})
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("Error: ") and f"`{shown_old}`" in line and shown_new in line
    assert "use_new_cli is on" in line


def test_the_note_is_one_line_naming_both_spellings(run_mdm, home):
    assert run_mdm("flags", "set", "use_new_cli", "off").returncode == 0
    done = run_mdm("dataset", "list", "--json")
    assert done.returncode == 0 and json.loads(done.stdout) == []
    assert done.stderr == "Note: `--json` is the MDM 1.x spelling; use `--format json`.\n"
    on = run_mdm("dataset", "list", "--json", env=ON)
    assert (on.returncode, on.stderr) == (2, "Error: `--json` is the MDM 1.x spelling; use `--format json`. "
                                             "(1.x spellings are refused while the flag use_new_cli is on.)\n")


def test_a_new_home_refuses_1x_spellings(run_mdm, home):
    done = run_mdm("dataset", "stats", "penguins", "--full")
    assert done.returncode == 2 and "use `--extended`" in done.stderr


@pytest.mark.parametrize("env", [OFF, ON])
def test_a_value_that_looks_like_a_1x_option_is_kept(env, run_mdm, shared):
    home = {**env, "MDM_HOME_DIR": str(shared["home"])}
    done = run_mdm(*_fill(REGISTER, shared), "--force", "--description", "--json", "--tags", "-f", env=home)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    info = json.loads(run_mdm(*INFO_REG, env=home).stdout)
    assert (info["description"], info["tags"]) == ("--json", ["-f"])


def test_timeseries_split_runs_dataset_split(run_mdm, shared):
    env = {**OFF, "MDM_HOME_DIR": str(shared["home"])}
    args = ["split", "penguins", "--test-size", "0.25", "--into", "penguins_ts", "--no-features", "--force",
            "--format", "json"]
    old = run_mdm("timeseries", *args, env=env)
    assert old.returncode == 0, old.stderr
    assert old.stderr == "Note: `mdm timeseries split` is the MDM 1.x spelling; use `mdm dataset split`.\n"
    result = json.loads(old.stdout)
    assert result == json.loads(run_mdm("dataset", *args, env=env).stdout)
    assert (result["dataset"], result["source"], result["method"]) == ("penguins_ts", "penguins", "random")
    assert result["rows"] == {"train": 204, "test": 68}
    on = run_mdm("timeseries", *args, env={**ON, "MDM_HOME_DIR": str(shared["home"])})
    assert on.returncode == 2 and "use `mdm dataset split`" in on.stderr


def test_settings_that_cannot_load_count_as_flag_on(run_mdm, home):
    (home / "mdm.yaml").write_text("flags:\n  use_new_cli: perhaps\n")
    refused = run_mdm("dataset", "list", "--json")
    assert refused.returncode == 2 and "use `--format json`" in refused.stderr
    valid = run_mdm("dataset", "list", "--format", "json")
    assert valid.returncode == 1 and "use_new_cli" in valid.stderr


def test_rewrite_keeps_values_and_what_follows_double_dash():
    argv = ["dataset", "register", "x", "p", "--description", "--json", "-t", "-f", "--", "-f"]
    new, notes = rewrite(argv, cli)
    assert new == ["dataset", "register", "x", "p", "--description", "--json", "--target", "-f", "--", "-f"]
    assert [n.sentence for n in notes] == ["`-t` is the MDM 1.x spelling; use `--target`."]
    assert rewrite(["dataset", "list", "--sort-by=registration_date"], cli)[0] == [
        "dataset", "list", "--sort-by", "registered"]
    assert rewrite(["dataset", "list", "--sort-by", "name", "--format", "json"], cli) == (
        ["dataset", "list", "--sort-by", "name", "--format", "json"], [])


_LEGACY = {s.old for s in SPELLINGS} | {v for s in SPELLINGS for v in s.values} | {w for p in COMMANDS for w in p}
_WORDS = ["dataset", "batch", "timeseries", "list", "info", "register", "export", "stats", "--format", "json", "-o",
          "--force", "--description", "--target", "--type", "-v", "--debug", "--", "-h", "--help", "penguins"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_WORDS), st.text(max_size=12)), max_size=8))
def test_an_argv_without_1x_spellings_is_unchanged(argv):
    argv = [a for a in argv if a.partition("=")[0] not in _LEGACY]
    assert rewrite(argv, cli) == (argv, [])


def _valid_argv(path: tuple[str, ...]):
    """Valid argvs of the command at ``path``: its options in any order, the values of
    free-text options anything, 1.x option spellings included."""
    ctx = click.Context(cli, info_name="mdm")
    command = cli
    for name in path:
        ctx = click.Context(command.get_command(ctx, name), parent=ctx, info_name=name)
        command = ctx.command
    anything = st.one_of(st.sampled_from(sorted(_LEGACY)), st.text(max_size=10))
    options = []
    for param in command.params:
        if not isinstance(param, click.Option):
            continue
        if param.is_flag:
            options.append(st.just([param.opts[0]]))
        else:
            value = st.sampled_from(param.type.choices) if isinstance(param.type, click.Choice) else anything
            options.append(st.tuples(st.sampled_from(param.opts), value).map(list))
    names = [st.sampled_from(["penguins", "a,b", "x*"]) for p in command.params if isinstance(p, click.Argument)]
    return st.tuples(st.tuples(*names), st.lists(st.one_of(*options), max_size=6)).map(
        lambda parts: [*path, *parts[0], *(token for option in parts[1] for token in option)])


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([("dataset", "register"), ("dataset", "list"), ("dataset", "update"), ("dataset", "export"),
                        ("batch", "export"), ("dataset", "split")]).flatmap(_valid_argv))
def test_a_valid_argv_is_never_rewritten(argv):
    assert rewrite(argv, cli) == (argv, [])
