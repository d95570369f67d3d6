"""Plugin manager: lazy loading, status records, failures reported not fatal, disabling."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mdm_core.testing.distributions import install_plugin_module


def _fake_distribution(root: Path, dist: str, module: str, source: str) -> Path:
    return install_plugin_module(root, dist, module, source, version="1.2.3")


def _python(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def _env(home: Path, extra_path: Path | None = None, **values: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MDM_")}
    env["MDM_HOME_DIR"] = str(home)
    if extra_path:
        env["PYTHONPATH"] = str(extra_path)
    env.update(values)
    return env


def test_import_mdm_core_scans_no_plugins_and_no_drivers(home):
    code = (
        "import sys, mdm_core\n"
        "bad = [m for m in ('mdm_plugin_sqlite', 'duckdb', 'psycopg', 'pandas', 'pyarrow') if m in sys.modules]\n"
        "print(bad)"
    )
    result = _python(code, _env(home))
    assert result.stdout.strip() == "[]", result.stderr


def test_cli_help_does_not_import_drivers(home):
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom mdm_core.cli.main import cli\n"
        "r = CliRunner().invoke(cli, ['plugins', 'list', '--format', 'json'])\nassert r.exit_code == 0, r.output\n"
        "print([m for m in ('duckdb', 'psycopg', 'adbc_driver_sqlite', 'pyarrow', 'pandas') if m in sys.modules])"
    )
    result = _python(code, _env(home))
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stderr


def test_records_show_distribution_version_and_hooks(cli):
    data = json.loads(cli("plugins", "list", "--format", "json").stdout)
    sqlite = next(p for p in data["plugins"] if p["name"] == "sqlite")
    assert sqlite["distribution"] == "mdm-plugin-sqlite"
    assert sqlite["status"] == "loaded"
    assert sqlite["hooks"] == ["mdm_storage_backends"]
    winner = next(w for w in data["winners"] if w["hook"] == "storage" and w["name"] == "sqlite")
    assert winner["plugin"] == "sqlite" and "use_new_storage" in winner["reason"]


def test_broken_plugin_is_reported_not_fatal(home, tmp_path, penguins):
    site = _fake_distribution(tmp_path / "site", "mdm-broken", "mdm_broken", "raise ImportError('no such thing')\n")
    mdm = str(Path(sys.executable).with_name("mdm"))
    env = _env(home, site)
    listing = subprocess.run([mdm, "plugins", "list", "--format", "json"], capture_output=True, text=True, env=env)
    assert listing.returncode == 0, listing.stderr
    record = next(p for p in json.loads(listing.stdout)["plugins"] if p["name"] == "mdm_broken")
    assert record["status"] == "failed"
    assert record["distribution"] == "mdm-broken" and record["version"] == "1.2.3"
    assert "no such thing" in record["error"]
    registered = subprocess.run([mdm, "dataset", "register", "p", str(penguins), "--no-features"],
                                capture_output=True, text=True, env=env)
    assert registered.returncode == 0, registered.stderr


def test_strict_mode_makes_a_broken_plugin_fatal(home, tmp_path):
    site = _fake_distribution(tmp_path / "site", "mdm-broken", "mdm_broken", "raise ImportError('no such thing')\n")
    mdm = str(Path(sys.executable).with_name("mdm"))
    result = subprocess.run([mdm, "plugins", "list"], capture_output=True, text=True,
                            env=_env(home, site, MDM_STRICT_PLUGINS="1"))
    assert result.returncode == 1
    assert "mdm_broken" in result.stderr and "no such thing" in result.stderr
    assert "Traceback" not in result.stderr


def test_disabled_plugin_is_not_loaded(home, penguins):
    mdm = str(Path(sys.executable).with_name("mdm"))
    env = _env(home, MDM_DISABLE_PLUGINS="sqlite")
    listing = subprocess.run([mdm, "plugins", "list", "--format", "json"], capture_output=True, text=True, env=env)
    record = next(p for p in json.loads(listing.stdout)["plugins"] if p["name"] == "sqlite")
    assert record["status"] == "disabled"
    result = subprocess.run([mdm, "dataset", "register", "p", str(penguins), "--no-features"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 1
    assert "No storage plugin provides 'sqlite'" in result.stderr
    assert not (home / "datasets" / "p").exists()


def test_third_party_plugin_adds_a_backend(home, tmp_path, penguins):
    source = '''
    from mdm_core import hookimpl
    from mdm_core.hookspecs import Implementation

    def _factory(settings):
        from mdm_plugin_sqlite.backend import SQLiteBackend
        backend = SQLiteBackend(settings.database.sqlite)
        backend.name = "mysqlite"
        return backend

    @hookimpl
    def mdm_storage_backends():
        return [Implementation(kind="storage", name="mysqlite", generation="new", factory=_factory)]
    '''
    site = _fake_distribution(tmp_path / "site", "mdm-mysqlite", "mdm_mysqlite", source)
    mdm = str(Path(sys.executable).with_name("mdm"))
    env = _env(home, site)
    result = subprocess.run([mdm, "dataset", "register", "p", str(penguins), "--backend", "mysqlite", "--no-features",
                             "--format", "json"], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["backend"] == "mysqlite"


BROKEN_PLUGINS = {
    "bad_signature": ('''
        from mdm_core import hookimpl

        @hookimpl
        def mdm_storage_backends(settings):
            return []
        ''', "mdm_storage_backends"),
    "misspelled_hook": ('''
        from mdm_core import hookimpl

        @hookimpl
        def mdm_storage_backend():
            return []
        ''', "did you mean mdm_storage_backends?"),
    "raises_in_hook": ('''
        from mdm_core import hookimpl

        @hookimpl
        def mdm_feature_engines():
            raise RuntimeError("engine registry exploded")
        ''', "engine registry exploded"),
    "wrong_kind": ('''
        from mdm_core import hookimpl
        from mdm_core.hookspecs import Implementation

        @hookimpl
        def mdm_storage_backends():
            return [Implementation(kind="features", name="sqlite", generation="new", factory=print)]
        ''', "not a storage Implementation"),
    "not_a_list": ('''
        from mdm_core import hookimpl

        @hookimpl
        def mdm_custom_features():
            return 42
        ''', "returned int, not a list"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_PLUGINS))
def test_every_kind_of_broken_plugin_is_failed_not_fatal(home, tmp_path, penguins, case):
    source, reason = BROKEN_PLUGINS[case]
    module = f"mdm_{case}"
    site = _fake_distribution(tmp_path / "site", f"mdm-{case.replace('_', '-')}", module, source)
    mdm = str(Path(sys.executable).with_name("mdm"))
    env = _env(home, site)
    listing = subprocess.run([mdm, "plugins", "list", "--format", "json"], capture_output=True, text=True, env=env)
    assert listing.returncode == 0, listing.stderr
    data = json.loads(listing.stdout)
    record = next(p for p in data["plugins"] if p["name"] == module)
    assert record["status"] == "failed", record
    assert reason in record["error"] and "\n" not in record["error"]
    assert all(w["plugin"] != module for w in data["winners"])
    registered = subprocess.run([mdm, "dataset", "register", "p", str(penguins)],
                                capture_output=True, text=True, env=env)
    assert registered.returncode == 0, registered.stderr
    assert len(subprocess.run([mdm, "dataset", "info", "p", "--format", "json"], capture_output=True, text=True,
                              env=env).stdout) > 0

    strict = subprocess.run([mdm, "plugins", "list"], capture_output=True, text=True,
                            env={**env, "MDM_STRICT_PLUGINS": "1"})
    assert strict.returncode == 1
    assert module in strict.stderr and reason in strict.stderr and "Traceback" not in strict.stderr


def test_every_hook_is_documented():
    from mdm_core.plugins import HOOK_NAMES

    reference = (Path(__file__).resolve().parents[1] / "docs" / "hooks.md").read_text()
    assert HOOK_NAMES and [h for h in HOOK_NAMES if f"`{h}(" not in reference] == []


def test_plugin_command_clashing_with_a_builtin_is_failed(home, tmp_path):
    source = '''
    import click
    from mdm_core import hookimpl

    @click.command("dataset")
    def hijack():
        click.echo("hijacked")

    @click.command("hello")
    def hello():
        click.echo("hi")

    @hookimpl
    def mdm_cli_commands():
        return [hijack, hello]
    '''
    site = _fake_distribution(tmp_path / "site", "mdm-clash", "mdm_clash", source)
    mdm = str(Path(sys.executable).with_name("mdm"))
    env = _env(home, site)
    assert "hijacked" not in subprocess.run([mdm, "dataset", "list"], capture_output=True, text=True, env=env).stdout
    listing = json.loads(subprocess.run([mdm, "plugins", "list", "--format", "json"], capture_output=True, text=True,
                                        env=env).stdout)
    record = next(p for p in listing["plugins"] if p["name"] == "mdm_clash")
    assert record["status"] == "failed" and "no built-in command has" in record["error"]
