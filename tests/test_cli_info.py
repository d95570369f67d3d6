"""``mdm info``: version, home, default backend, plugins, datasets, disk used; metadata only."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mdm_core import __version__


def _summary(run_mdm, **env):
    result = run_mdm("info", "--format", "json", env=env or None)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _files_size(folder) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def test_empty_home(run_mdm, home):
    data = _summary(run_mdm)
    assert data["version"] == __version__
    assert data["home"] == str(home)
    assert data["default_backend"] == "sqlite"
    assert data["plugins"]["loaded"] >= 5 and data["plugins"]["failed"] == 0
    assert data["datasets"] == {"total": 0, "legacy": 0}
    assert data["disk_used_bytes"] == _files_size(home)


def test_counts_datasets_and_disk_on_every_backend(run_mdm, any_backend, home, penguins, tmp_path):
    (tmp_path / "tiny.csv").write_text("a,b\n1,x\n2,y\n")
    for name, path in (("penguins", penguins), ("tiny", tmp_path / "tiny.csv")):
        reg = run_mdm("dataset", "register", name, str(path), "--no-features")
        assert reg.returncode == 0, reg.stderr
    data = _summary(run_mdm)
    assert data["default_backend"] == any_backend.name
    assert data["datasets"] == {"total": 2, "legacy": 0}
    assert data["disk_used_bytes"] == _files_size(home) > 0

    text = run_mdm("info", env={"COLUMNS": "200"})
    assert text.returncode == 0, text.stderr
    for word in (__version__, str(home), any_backend.name, "loaded", "datasets"):
        assert word in text.stdout


def test_default_backend_from_config(run_mdm, home):
    (home / "mdm.yaml").write_text("database:\n  default_backend: duckdb\n")
    assert _summary(run_mdm)["default_backend"] == "duckdb"


def test_legacy_home(run_mdm, legacy_fixture):
    home = legacy_fixture / "home"
    data = _summary(run_mdm, MDM_HOME_DIR=str(home))
    assert data["home"] == str(home)
    assert data["datasets"] == {"total": 4, "legacy": 4}
    assert data["disk_used_bytes"] == _files_size(home)
    text = run_mdm("info", env={"MDM_HOME_DIR": str(home), "COLUMNS": "200"})
    assert "4 (4 MDM 1.x, read-only until migrated)" in text.stdout


def test_a_failing_plugin_is_counted(run_mdm, home, tmp_path):
    """A plugin that fails to import is counted as failed; the rest still load (strict
    mode off: under MDM_STRICT_PLUGINS, as in CI, the failure is fatal by design)."""
    from mdm_core.testing.distributions import install_plugin_module

    site = install_plugin_module(tmp_path / "site", "mdm-broken", "mdm_broken_plugin", "raise ImportError('nope')\n")
    baseline = _summary(run_mdm)["plugins"]
    data = _summary(run_mdm, PYTHONPATH=str(site), MDM_STRICT_PLUGINS="")
    assert data["plugins"] == {**baseline, "failed": baseline["failed"] + 1}
    text = run_mdm("info", env={"PYTHONPATH": str(site), "COLUMNS": "200", "MDM_STRICT_PLUGINS": ""})
    assert "1 failed (see `mdm plugins list`)" in text.stdout


@pytest.mark.parametrize("command", [["info"], ["dataset", "list", "--sort-by", "size"], ["dataset", "search", "P"], ["dataset", "info", "P"],
                                     ["dataset", "update", "p", "--description", "d"]])
def test_metadata_commands_import_no_data_stack(home, penguins, command):
    """Metadata commands on a new-layout home read metadata only: no pyarrow, pandas or
    driver is imported."""
    from mdm_core.datasets.client import MDMClient

    MDMClient().register_dataset("p", penguins, generate_features=False)
    code = (f"import sys\nfrom mdm_core.cli.main import main\nsys.argv=['mdm', *{command!r}, '--format', 'json']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "bad=[m for m in ('pyarrow','pandas','duckdb','psycopg','sqlalchemy') if m in sys.modules]\n"
            "print('LOADED', bad, file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "LOADED []" in result.stderr, result.stderr
    assert json.loads(result.stdout)  # a non-empty answer: the dataset was read


def test_staging_folder_name_matches_the_journal():
    from mdm_core.datasets import journal, metadata_ops

    assert metadata_ops._STAGING_DIR == journal.STAGING_DIR
