"""The everyday CLI as a user runs it: real console script, exit codes, JSON output."""

from __future__ import annotations

import json

from mdm_core.testing.distributions import install_distribution


def test_register_info_list_remove(run_mdm, home, penguins):
    reg = run_mdm("dataset", "register", "Penguins-Kaggle", str(penguins), "--no-features",
                  "--description", "Palmer penguins", "--tags", "birds,demo")
    assert reg.returncode == 0, reg.stderr
    assert "Registered dataset 'penguins_kaggle' on sqlite" in reg.stdout

    info = json.loads(run_mdm("dataset", "info", "penguins-kaggle", "--format", "json").stdout)
    for key in ("name", "display_name", "backend", "target_column", "problem_type", "id_columns",
                "tags", "description", "registered_at", "tables"):
        assert key in info
    assert info["display_name"] == "Penguins-Kaggle" and info["tags"] == ["birds", "demo"]
    train = next(t for t in info["tables"] if t["name"] == "train")
    assert train["kind"] == "data" and train["row_count"] > 0
    assert {"name": "species", "type": "categorical"}.items() <= train["columns"][1].items()

    listing = json.loads(run_mdm("dataset", "list", "--format", "json").stdout)
    assert [d["name"] for d in listing] == ["penguins_kaggle"]

    dry = run_mdm("dataset", "remove", "penguins_kaggle", "--dry-run")
    assert dry.returncode == 0 and "Would remove" in dry.stdout
    assert (home / "datasets" / "penguins_kaggle" / "dataset.yaml").exists()

    removed = run_mdm("dataset", "remove", "penguins_kaggle", "--force")
    assert removed.returncode == 0
    assert not (home / "datasets" / "penguins_kaggle").exists()
    assert json.loads(run_mdm("dataset", "list", "--format", "json").stdout) == []


def test_errors_are_one_line_exit_1_and_traceback_only_with_debug(run_mdm, tmp_path):
    missing = run_mdm("dataset", "register", "x", str(tmp_path / "nope.csv"))
    assert missing.returncode == 1
    assert missing.stderr.strip().count("\n") == 0
    assert missing.stderr.startswith("Error: Path ") and "does not exist" in missing.stderr
    debug = run_mdm("--debug", "dataset", "register", "x", str(tmp_path / "nope.csv"))
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_unknown_dataset(run_mdm):
    result = run_mdm("dataset", "info", "ghost")
    assert result.returncode == 1
    assert "Dataset 'ghost' not found" in result.stderr


def test_remove_asks_for_confirmation(cli, client, penguins):
    client.register_dataset("p", penguins, generate_features=False)
    answer_no = cli("dataset", "remove", "p", input="n\n")
    assert "Nothing removed" in answer_no.stdout and client.dataset_exists("p")
    cli("dataset", "remove", "p", input="y\n")
    assert not client.dataset_exists("p")


def test_register_type_override_and_id_columns(cli, client, tmp_path):
    (tmp_path / "t.csv").write_text("k,n,label\na,1,x\nb,2,y\n")
    result = cli("dataset", "register", "t", str(tmp_path / "t.csv"), "--no-features", "--id-columns", "k",
                 "--type", "n=categorical", "--target", "label", "--problem-type", "classification", "--format", "json")
    data = json.loads(result.stdout)
    assert data["id_columns"] == ["k"] and data["problem_type"] == "multiclass_classification"
    assert data["tables"][0]["columns"][1] == {"name": "n", "type": "categorical", "arrow_type": "int64"}


def test_version_and_migrate_entry_point(run_mdm):
    out = run_mdm("version", "--format", "json")
    assert json.loads(out.stdout)["mdm_core"]


def test_unexpected_failures_are_one_line_too(home, tmp_path):
    """An exception MDM did not anticipate (here: a plugin whose backend factory raises)
    still reaches the user as one line and exit 1; --debug shows the traceback."""
    import os
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    site = tmp_path / "site"
    site.mkdir()
    (site / "mdm_crashing.py").write_text(textwrap.dedent('''
        from mdm_core import hookimpl
        from mdm_core.hookspecs import Implementation

        def _factory(settings):
            raise RuntimeError("engine exploded")

        @hookimpl
        def mdm_storage_backends():
            return [Implementation(kind="storage", name="crashing", generation="new", factory=_factory)]
    '''))
    install_distribution(site, "mdm-crashing", "mdm_crashing = mdm_crashing")
    (tmp_path / "d.csv").write_text("a\n1\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    mdm = str(Path(sys.executable).with_name("mdm"))
    args = [mdm, "dataset", "register", "d", str(tmp_path / "d.csv"), "--backend", "crashing"]
    result = subprocess.run(args, capture_output=True, text=True, env=env)
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: unexpected RuntimeError: engine exploded (run with --debug for the traceback)."
    debug = subprocess.run([mdm, "--debug", *args[1:]], capture_output=True, text=True, env=env)
    assert debug.returncode == 1 and "Traceback" in debug.stderr
    assert not (home / "datasets" / "d").exists()


def test_table_cells_are_plain_text(run_mdm, client, penguins):
    """A value that looks like rich markup or an emoji code is printed as typed."""
    client.register_dataset("marked", penguins, generate_features=False, description="[bold]x[/bold] :smile: [red]")
    out = run_mdm("dataset", "list", env={"COLUMNS": "250"})
    assert out.returncode == 0, out.stderr
    assert "[bold]x[/bold] :smile: [red]" in out.stdout
