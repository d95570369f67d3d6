"""The ``legacy-cli`` migration step (phase ``cli``): the rewriter of MDM 1.x usage in
scripts (:mod:`mdm_plugin_legacy.script_rewrite_1x`), rule by rule, and the step driven
through the real orchestrator on a folder of 1.x-style scripts, whose rewrite then runs
against the migrated copy of the MDM 1.0.6 fixture home."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mdm_plugin_legacy.migrate_cli import LegacyCliStep
from mdm_plugin_legacy.script_rewrite_1x import LEGACY_VARIABLES, rewrite_notebook, rewrite_text

from mdm_core.config import load_settings
from mdm_core.config.model import leaves
from mdm_core.errors import MigrationError
from mdm_core.migration.orchestrator import Migration
from mdm_core.migration.step import RunOptions, StepContext


def rewritten(text: str) -> str:
    return rewrite_text(text).text


def cannot(text: str) -> list[tuple[int, str]]:
    return [(f.line, f.old) for f in rewrite_text(text).cannot]


# -- the rewriter, rule by rule ------------------------------------------------------------------
@pytest.mark.parametrize(("old", "new"), [
    ("export MDM_BACKEND=duckdb", "export MDM_DATABASE_DEFAULT_BACKEND=duckdb"),
    ("echo ${MDM_BATCH_SIZE} $MDM_LOG_LEVEL", "echo ${MDM_PERFORMANCE_BATCH_SIZE} $MDM_LOGGING_LEVEL"),
    ('os.environ["MDM_LOG_FILE"] = "x"', 'os.environ["MDM_LOGGING_FILE"] = "x"'),
    ("MDM_SQLITE_JOURNAL_MODE=WAL mdm info", "MDM_DATABASE_SQLITE_JOURNAL_MODE=WAL mdm info"),
    ("MDM_POSTGRES_HOST=db", "MDM_DATABASE_POSTGRESQL_HOST=db"),
])
def test_legacy_variables_get_their_new_names(old, new):
    assert rewritten(old) == new


@pytest.mark.parametrize("text", [
    "export MDM_BACKEND_URL=http://x", "MY_MDM_BACKEND=1", "export MDM_DATABASE_DEFAULT_BACKEND=duckdb",
    "MDM_HOME_DIR=/data mdm info", "echo $MDM_LOG_LEVELS",
])
def test_other_variables_are_left_alone(text):
    assert rewrite_text(text).findings == ()


def test_every_legacy_variable_gets_a_name_the_new_settings_read():
    new_names = {leaf.env_var for leaf in leaves().values()}
    assert {"MDM_BACKEND", "MDM_BATCH_SIZE", "MDM_LOG_LEVEL"} <= set(LEGACY_VARIABLES)
    assert not set(LEGACY_VARIABLES) & new_names
    assert set(LEGACY_VARIABLES.values()) <= new_names
    for old, new in LEGACY_VARIABLES.items():
        assert rewritten(f"{old}=1") == f"{new}=1"


@pytest.mark.parametrize(("old", "new"), [
    ("mdm dataset list --json", "mdm dataset list --format json"),
    ("mdm dataset list -f json", "mdm dataset list --format json"),
    ("mdm dataset list --format text --limit 3", "mdm dataset list --limit 3"),
    ("mdm dataset list --sort-by registration_date --reverse", "mdm dataset list --sort-by registered --reverse"),
    ("mdm dataset list --filter-backend duckdb --all-backends", "mdm dataset list --backend duckdb"),
    ("mdm dataset info penguins --json", "mdm dataset info penguins --format json"),
    ("mdm dataset info penguins --details --show-columns --show-features -d",
     "mdm dataset info penguins"),
    ('mdm dataset register penguins "$DATA" -t species -f', 'mdm dataset register penguins "$DATA" --target species'
                                                            ' --force'),
    ("mdm dataset register p d -d 'Penguins' --force", "mdm dataset register p d --description 'Penguins' --force"),
    ("mdm dataset register p d --categorical-columns island,sex",
     "mdm dataset register p d --type island=categorical --type sex=categorical"),
    ('mdm dataset register p d --datetime-columns="day" --numeric-columns a --text-columns b,c',
     "mdm dataset register p d --type day=datetime --type a=numeric --type b=text --type c=text"),
    ("mdm dataset search --pattern 'sales_*' --deep --case-sensitive", "mdm dataset search 'sales_*'"),
    ("mdm dataset stats penguins --full --json", "mdm dataset stats penguins --extended --format json"),
    ("mdm dataset export penguins --output-dir out -f parquet", "mdm dataset export penguins -o out --format parquet"),
    ("mdm dataset export penguins -o out --no-include-features", "mdm dataset export penguins -o out --no-features"),
    ("mdm dataset remove penguins -f --dry-run", "mdm dataset remove penguins --force --dry-run"),
    ("mdm batch export a,b --output-dir=D -f csv -c gzip", "mdm batch export a,b -o=D --format csv --compression gzip"),
    ("mdm batch stats 's_*' --full --export D", "mdm batch stats 's_*' --extended -o D"),
    ("mdm batch remove 'tmp_*' -f", "mdm batch remove 'tmp_*' --force"),
    ("mdm timeseries split sales --test-days 7", "mdm dataset split sales --test-days 7"),
    ("mdm --version", "mdm version"),
    ("  .venv/bin/mdm dataset list --json | jq .", "  .venv/bin/mdm dataset list --format json | jq ."),
    ("mdm dataset register p d \\\n    -t species \\\n    -f", "mdm dataset register p d \\\n    --target species"
                                                               " \\\n    --force"),
    ('os.system("mdm dataset info penguins --json")', 'os.system("mdm dataset info penguins --format json")'),
    ("\tmdm dataset list --json && mdm dataset remove x -f", "\tmdm dataset list --format json && "
                                                             "mdm dataset remove x --force"),
])
def test_commands_and_options_get_their_new_spelling(old, new):
    result = rewrite_text(old)
    assert result.text == new
    assert result.rewrites and not result.cannot
    assert rewritten(new) == new  # a rewrite rewrites to itself


@pytest.mark.parametrize("text", [
    "curl --json '{}' https://x", "jq --json . f", "summdm dataset list --json", "mdm-migrate plan --format json",
    "cat ~/.mdm/mdm.yaml", "cp mdm.yaml mdm.yaml.bak -f", "ls mdm/ -t", "echo mdm is -f fine",
    'mdm dataset register p d --description "use -t and -f here"', "mdm dataset list --format json",
])
def test_unrelated_text_is_left_alone(text):
    assert rewrite_text(text).findings == ()


def test_the_same_short_option_means_what_each_1x_command_meant():
    assert rewritten("mdm dataset register p d -f") == "mdm dataset register p d --force"
    assert rewritten("mdm dataset export p -f csv") == "mdm dataset export p --format csv"
    assert rewritten("mdm dataset info p -d") == "mdm dataset info p"
    assert rewritten("mdm dataset register p d -d x") == "mdm dataset register p d --description x"
    assert rewritten("mdm dataset search x -f") == "mdm dataset search x -f"  # no 1.x -f there


@pytest.mark.parametrize(("text", "old"), [
    ("mdm stats --performance", "--performance"),
    ("mdm batch export a --parallel", "--parallel"),
    ("mdm dataset export p --metadata-only", "--metadata-only"),
    ("mdm dataset export p --no-header", "--no-header"),
    ("mdm dataset export p --format excel", "--format excel"),
    ("mdm dataset export p -f excel", "--format excel"),
    ("mdm timeseries analyze sales", "timeseries analyze"),
    ("mdm timeseries split sales --test-size 0.2", "timeseries"),
    ("mdm dataset list --filter problem_type=regression", "--filter"),
    ('mdm dataset register p d --categorical-columns "$COLS"', '--categorical-columns "$COLS"'),
    ("mdm dataset register p --no-auto --train a.csv", "--no-auto"),
    ("mdm --config ~/x.yaml dataset list", "--config"),
    ("from mdm.migration import ConfigMigrator", "from mdm.migration"),
    ("from mdm.adapters import get_adapter", "mdm.adapters"),
    ("import mdm", "import mdm"),
    ("from mdm import MDMClient, load_dataset", "from mdm import"),
    ("from mdm import MDMClient\nclient.load_dataset_files('p')", ".load_dataset_files("),
    ("from mdm import MDMClient\nMDMClient().split_time_series('p')", ".split_time_series("),
])
def test_what_cannot_be_rewritten_is_reported_with_its_line(text, old):
    found = rewrite_text(text).cannot
    assert found and found[0].old == old and found[0].reason
    assert found[0].line == text.count("\n") + 1 or old in text.splitlines()[found[0].line - 1]


@pytest.mark.parametrize("text", [
    "mdm stats --system", "mdm stats --operations --format json", "mdm stats show -n 5", "mdm stats summary", "mdm stats",
    "mdm stats dataset penguins", "mdm stats logs --tail 20 --level ERROR --grep penguins",
    "mdm stats logs -n 5 -l INFO -g x", "mdm stats cleanup --days 7", "mdm stats cleanup -d 7", "mdm stats dashboard",
    "mdm stats dashboard --output d.html --no-open", "mdm stats dashboard -o d.html --open",
])
def test_stats_spellings_this_mdm_has_are_kept(text):
    assert rewrite_text(text).findings == ()


def test_the_line_of_a_finding_is_its_line_in_the_file():
    text = "#!/bin/bash\nset -e\n\nmdm dataset list --json\nmdm stats --performance\n"
    assert [(f.line, f.new) for f in rewrite_text(text).findings] == [(4, "--format json"), (5, None)]


@pytest.mark.parametrize(("old", "new"), [
    ("from mdm import MDMClient", "from mdm_core.datasets.client import MDMClient"),
    ("from mdm import MDMClient as C", "from mdm_core.datasets.client import MDMClient as C"),
    ("MDMClient\ninfo = client.get_dataset('p')", "MDMClient\ninfo = client.get_dataset_info('p')"),
    ("MDMClient\nclient.query_dataset('p', sql)", "MDMClient\nclient.query('p', sql)"),
    ("MDMClient\nclient.get_statistics('p', full=True)", "MDMClient\nclient.get_statistics('p', extended=True)"),
    ("MDMClient\nMDMClient().compute_statistics('p')", "MDMClient\nMDMClient().get_statistics('p')"),
])
def test_python_imports_and_calls(old, new):
    assert rewritten(old) == new


@pytest.mark.parametrize("text", [
    "import mdm_core", "from mdm_core.datasets.client import MDMClient", "x = store.get_dataset('p')",
    "db.query_dataset(q)", "model.compute_statistics()", "from mdmx import MDMClient", "import mdm2",
])
def test_other_python_is_left_alone(text):
    assert rewrite_text(text).findings == ()


def test_notebook_code_cells_are_rewritten_and_the_rest_kept():
    notebook = {"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["Run `mdm dataset list --json`\n"]},
        {"cell_type": "code", "execution_count": 1, "metadata": {"tags": ["ü"]}, "outputs": [],
         "source": ["from mdm import MDMClient\n", "client = MDMClient()"]},
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
         "source": "info = client.get_dataset('penguins')\n!mdm stats --performance"},
    ], "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    result = rewrite_notebook(text)
    new = json.loads(result.text)
    assert new["cells"][0] == notebook["cells"][0]
    assert new["cells"][1]["source"] == ["from mdm_core.datasets.client import MDMClient\n", "client = MDMClient()"]
    assert new["cells"][2]["source"] == "info = client.get_dataset_info('penguins')\n!mdm stats --performance"
    assert {k: v for k, v in new.items() if k != "cells"} == {k: v for k, v in notebook.items() if k != "cells"}
    assert result.text == json.dumps(new, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    assert [(f.cell, f.line, f.new is None) for f in result.findings] == [(2, 1, False), (3, 1, False), (3, 2, True)]
    assert rewrite_notebook(result.text).text == result.text


def test_a_notebook_without_1x_usage_is_returned_byte_for_byte():
    text = '{"cells": [{"cell_type": "code", "source": ["print(1)"]}], "nbformat": 4}'
    assert rewrite_notebook(text).text == text


# text that cannot hold 1.x usage: no "mdm" in any case
_PLAIN = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300).filter(lambda t: "mdm" not in t.lower())
_NEAR_MISSES = st.sampled_from([
    "MDM_BACKEND_URL", "summdm", "--json", "-f", "-t", "mdm.yaml", "mdm-migrate", "~/.mdm", "mdm_core", "$MDM_HOME_DIR",
    "get_dataset(", "from mdm_core.datasets.client import MDMClient", "mdm/",
    "MDM_DATABASE_DEFAULT_BACKEND", "'mdm'", "mdm info", "mdm version",
])


@given(_PLAIN)
def test_text_without_mdm_is_returned_unchanged(text):
    assert rewrite_text(text).text == text
    assert rewrite_text(text).findings == ()


@given(st.lists(st.one_of(_NEAR_MISSES, _PLAIN), max_size=12), st.sampled_from([" ", "\n", "; ", " | ", "\t"]))
def test_text_without_1x_usage_is_returned_unchanged(parts, separator):
    text = separator.join(parts)
    assert rewrite_text(text).text == text


# -- the step, through the orchestrator, on the MDM 1.0.6 fixture home ---------------------------
REGISTER_SH = """\
#!/bin/bash
# MDM 1.x: register the penguins again and list the datasets as JSON
set -euo pipefail
export MDM_BACKEND=sqlite
mdm dataset register penguins "$DATA/penguins" -t species -f --no-features
mdm dataset list --json
"""
REPORT_PY = """\
\"\"\"MDM 1.x: the penguins' target, row count and extended statistics.\"\"\"
from mdm import MDMClient

client = MDMClient()
info = client.get_dataset("penguins")
rows = client.query_dataset("penguins", "SELECT COUNT(*) AS n FROM train")
stats = client.get_statistics("penguins", full=True)
print(info.name, info.target_column, int(rows["n"][0]), stats["rows"])
"""
MAKEFILE = """\
.PHONY: list stats dashboard monitor perf

list:
\tmdm dataset list --json > datasets.json

stats:
\tmdm dataset stats penguins --full

dashboard:
\tmdm stats dashboard -o dashboard.html --no-open

monitor:
\tmdm stats --system --format json

perf:
\tmdm stats --performance
"""
CI_YAML = """\
name: data
on: [push]
jobs:
  export:
    runs-on: ubuntu-latest
    env:
      MDM_LOG_LEVEL: DEBUG
    steps:
      - run: mdm dataset info penguins --json
      - run: |
          mdm batch export "penguins*" --output-dir out -f parquet
          mdm dataset export penguins --format excel
"""
NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Penguins (MDM 1.x)"]},
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
         "source": ["from mdm import MDMClient\n", "client = MDMClient()"]},
        {"cell_type": "code", "execution_count": 2, "metadata": {}, "outputs": [],
         "source": ["print(client.get_dataset(\"penguins\").target_column)"]},
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5,
}
CLEAN_SH = "#!/bin/sh\nrm -rf out datasets.json\n"


def write_1x_scripts(folder: Path) -> Path:
    """A folder of 1.x-style scripts: bash, Python, notebook, Makefile, CI YAML, one
    script without 1.x usage and a README (not scanned)."""
    (folder / ".github" / "workflows").mkdir(parents=True)
    for name, text in {"register.sh": REGISTER_SH, "report.py": REPORT_PY, "Makefile": MAKEFILE,
                       ".github/workflows/data.yml": CI_YAML, "clean": CLEAN_SH, "README.md": "mdm dataset list --json\n",
                       "explore.ipynb": json.dumps(NOTEBOOK, indent=1, sort_keys=True, ensure_ascii=False) + "\n"}.items():
        (folder / name).write_text(text)
    for name in ("register.sh", "clean"):
        (folder / name).chmod(0o755)
    return folder


def tree_state(root: Path) -> dict[str, tuple[str, int]]:
    """relative path -> (sha256, permission bits) of every file under ``root``."""
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), stat.S_IMODE(p.stat().st_mode))
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def home_1x(legacy, use_home) -> Path:
    """The fixture's 1.x home, as MDM_HOME_DIR, nothing else of the caller's MDM_* set."""
    return use_home(legacy / "home")


@pytest.fixture
def scripts(tmp_path) -> Path:
    return write_1x_scripts(tmp_path / "scripts")


def run_in(home: Path, command: list[str], **env: str) -> subprocess.CompletedProcess:
    """``command`` in a fresh process on ``home`` with the venv's bin first on PATH."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("MDM_") or k == "MDM_STRICT_PLUGINS"}
    full.update({"MDM_HOME_DIR": str(home), "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **env})
    return subprocess.run(command, capture_output=True, text=True, env=full, timeout=300, cwd=home.parent)


BIN = Path(sys.executable).parent


def cli_step_plan(plan):
    return next(s.plan for p in plan.phases for s in p.steps if s.step.name == "legacy-cli")


def test_without_scripts_the_step_has_nothing_to_do(home_1x):
    assert cli_step_plan(Migration(home_1x).plan()).summary == "no scripts given (--scripts PATH)"


def test_plan_writes_nothing_and_shows_diffs_and_what_it_cannot_rewrite(home_1x, scripts):
    before = tree_state(home_1x), tree_state(scripts)
    plan = cli_step_plan(Migration(home_1x, RunOptions(scripts=(str(scripts),))).plan())
    assert sorted(u.id for u in plan.units) == sorted(str(scripts / n) for n in (
        "register.sh", "report.py", "Makefile", ".github/workflows/data.yml", "explore.ipynb"))
    assert {Path(u.id).name: u.detail for u in plan.units}["Makefile"] == "2 rewrites, 1 line it cannot rewrite"
    assert f"{scripts / 'Makefile'}:16: --performance: use `mdm benchmark`" in " ".join(plan.notes)
    # `mdm stats dashboard -o dashboard.html --no-open` and `mdm stats --system` are kept
    assert not any(f":{n}:" in note for n in (10, 13) for note in plan.notes if "Makefile" in note)
    assert any(n.startswith(f"{scripts / '.github/workflows/data.yml'}:12: --format excel: ") for n in plan.notes)
    diff = plan.details["diffs"][str(scripts / "register.sh")]
    assert "\n-mdm dataset list --json\n" in diff and "\n+mdm dataset list --format json\n" in diff
    for unit in plan.units:
        assert unit.data["sha256_before"] == hashlib.sha256(Path(unit.id).read_bytes()).hexdigest()
    cli = run_in(home_1x, [str(BIN / "mdm-migrate"), "plan", "--phase", "cli", "--scripts", str(scripts),
                           "--format", "json"])
    assert cli.returncode == 0, cli.stderr
    step = next(s for p in json.loads(cli.stdout)["phases"] if p["phase"] == "cli" for s in p["steps"])
    assert "+from mdm_core.datasets.client import MDMClient" in step["details"]["diffs"][str(scripts / "report.py")]
    assert (tree_state(home_1x), tree_state(scripts)) == before


def test_run_rewrites_the_scripts_and_they_run_against_the_migrated_home(home_1x, legacy, scripts):
    originals = tree_state(scripts)
    report = Migration(home_1x, RunOptions(scripts=(str(scripts),))).run()
    assert report.exit_code == 0
    assert {o.record.unit for o in report.outcomes if o.record.step == "legacy-cli" and o.record.state == "done"} == {
        str(scripts / n) for n in ("register.sh", "report.py", "Makefile", ".github/workflows/data.yml",
                                   "explore.ipynb")}
    assert load_settings(home_1x, fresh=True).settings.flags.use_new_cli
    after = tree_state(scripts)
    assert {n for n in after if after[n] != originals[n]} == {
        "register.sh", "report.py", "Makefile", ".github/workflows/data.yml", "explore.ipynb"}
    assert after["register.sh"][1] == 0o755 and after["clean"] == originals["clean"]

    bash = run_in(home_1x, ["bash", str(scripts / "register.sh")], DATA=str(legacy / "data"))
    assert bash.returncode == 0, bash.stderr
    listed = json.loads(bash.stdout[bash.stdout.index("\n[") + 1:])
    assert "penguins" in {d["name"] for d in listed}
    python = run_in(home_1x, [sys.executable, str(scripts / "report.py")])
    assert python.returncode == 0, python.stderr
    assert python.stdout.split() == ["penguins", "species", "272", "272"]
    notebook = json.loads((scripts / "explore.ipynb").read_text())
    code = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    cells = run_in(home_1x, [sys.executable, "-c", code])
    assert cells.returncode == 0 and cells.stdout.strip() == "species", cells.stderr
    assert notebook["cells"][0] == NOTEBOOK["cells"][0] and notebook["metadata"] == NOTEBOOK["metadata"]
    make = run_in(home_1x, ["make", "-s", "-C", str(scripts), "list"])
    assert make.returncode == 0, make.stderr
    assert "penguins" in {d["name"] for d in json.loads((scripts / "datasets.json").read_text())}
    monitor = run_in(home_1x, ["make", "-s", "-C", str(scripts), "monitor"])
    assert monitor.returncode == 0, monitor.stderr
    assert 0 <= json.loads(monitor.stdout)["system"]["cpu_percent"] <= 100
    dashboard = run_in(home_1x, ["make", "-s", "-C", str(scripts), "dashboard"])
    assert dashboard.returncode == 0, dashboard.stderr
    assert "<h1>MDM Dashboard</h1>" in (scripts / "dashboard.html").read_text()
    assert "mdm dataset info penguins --format json" in (scripts / ".github/workflows/data.yml").read_text()


def test_rollback_restores_every_script_byte_for_byte(home_1x, scripts):
    originals = tree_state(scripts)
    assert Migration(home_1x, RunOptions(scripts=(str(scripts),))).run().exit_code == 0
    assert tree_state(scripts) != originals
    Migration(home_1x).rollback()
    assert tree_state(scripts) == originals  # content and executable bits
    assert not list(scripts.rglob(".*.mdm-migrating"))


def test_rollback_refuses_a_script_edited_since(home_1x, scripts):
    assert Migration(home_1x, RunOptions(scripts=(str(scripts),))).run().exit_code == 0
    edited = scripts / "report.py"
    edited.write_text(edited.read_text() + "print('mine')\n")
    with pytest.raises(MigrationError, match=re.escape(str(edited))):
        Migration(home_1x).rollback("cli")
    assert edited.read_text().endswith("print('mine')\n")


def test_cleanup_deletes_the_backups(home_1x, scripts):
    assert Migration(home_1x, RunOptions(scripts=(str(scripts),))).run().exit_code == 0
    backups = list((home_1x / ".migration" / "backups" / "cli").rglob("*"))
    assert any(p.name == "register.sh" for p in backups)
    removed = Migration(home_1x).cleanup()
    assert str(next(p for p in backups if p.name == "register.sh")) in removed
    assert not (home_1x / ".migration" / "backups" / "cli").exists()


def test_an_interrupted_apply_is_redone_or_rolled_back(home_1x, scripts, tmp_path):
    """``apply`` after an attempt that wrote the file but was not recorded; ``rollback``
    without a result puts the original back."""
    step = LegacyCliStep()
    ctx = StepContext(home=home_1x, settings=None, options=RunOptions(scripts=(str(scripts),)),
                      backup_dir=tmp_path / "backups" / "cli")
    unit = next(u for u in step.plan(ctx).units if u.id.endswith("register.sh"))
    original = (scripts / "register.sh").read_bytes()
    step.apply(ctx, unit)
    result = step.apply(ctx, unit)
    assert step.verify(ctx, unit, result).ok
    step.rollback(StepContext(home=home_1x, settings=None, options=RunOptions(),
                              backup_dir=tmp_path / "backups" / "cli"), unit, None)
    assert (scripts / "register.sh").read_bytes() == original
