"""Settings owned by plugins: a third-party backend's section works like the host's own.

The third-party plugin is a real installed distribution (dist-info with an ``mdm`` entry
point on PYTHONPATH) run through the real ``mdm`` script, as a user would have it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from mdm_core.testing.distributions import install_plugin_module

MDM = str(Path(sys.executable).with_name("mdm"))

MYSTORE = '''
import attrs
from mdm_core import hookimpl
from mdm_core.hookspecs import Implementation
from mdm_core.secrets import secret_repr


@attrs.frozen
class RetrySettings:
    attempts: int = 3


@attrs.frozen
class MyStoreSettings:
    """database.mystore: a third-party backend's section."""

    flush_interval_ms: int = 500
    root_dir: str | None = None
    compress: bool = False
    auth: str | None = attrs.field(default=None, repr=secret_repr)
    retry: RetrySettings = attrs.Factory(RetrySettings)


def _factory(settings):
    from mdm_plugin_sqlite.backend import SQLiteBackend

    backend = SQLiteBackend(settings.database.sqlite)
    backend.name = "mystore"
    backend.flush_interval_ms = settings.database.mystore.flush_interval_ms
    return backend


@hookimpl
def mdm_storage_backends():
    return [Implementation(kind="storage", name="mystore", generation="new", factory=_factory,
                           settings_section="database.mystore", settings_class=MyStoreSettings)]
'''

KEY = "database.mystore.flush_interval_ms"
ENV = "MDM_DATABASE_MYSTORE_FLUSH_INTERVAL_MS"


@pytest.fixture
def mystore(home, tmp_path):
    """Run ``mdm`` with the mystore plugin installed: ``run(*args, **env)``."""
    site = install_plugin_module(tmp_path / "site", "mdm-mystore", "mdm_mystore", MYSTORE)
    base = {k: v for k, v in os.environ.items() if not k.startswith("MDM_")}
    base.update(MDM_HOME_DIR=str(home), PYTHONPATH=str(site))

    def run(*args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([MDM, *args], capture_output=True, text=True, env={**base, **env}, timeout=120)

    run.python = lambda code, **env: subprocess.run(  # type: ignore[attr-defined]
        [sys.executable, "-c", code], capture_output=True, text=True, env={**base, **env}, timeout=120)
    return run


def _show(run, **env) -> dict:
    result = run("config", "show", "--sources", "--format", "json", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_third_party_section_default_yaml_and_env(mystore, home):
    data = _show(mystore)
    assert data["values"][KEY] == 500 and data["sources"][KEY] == "default"
    assert data["values"]["database.mystore.retry.attempts"] == 3

    (home / "mdm.yaml").write_text("database:\n  mystore:\n    flush_interval_ms: 250\n    retry:\n      attempts: 5\n")
    data = _show(mystore)
    assert data["values"][KEY] == 250 and data["sources"][KEY] == str(home / "mdm.yaml")
    assert data["values"]["database.mystore.retry.attempts"] == 5

    data = _show(mystore, **{ENV: "75", "MDM_DATABASE_MYSTORE_RETRY_ATTEMPTS": "9"})
    assert data["values"][KEY] == 75 and data["sources"][KEY] == f"env {ENV}"
    assert data["values"]["database.mystore.retry.attempts"] == 9

    table = mystore("config", "show", "--sources", **{ENV: "75", "COLUMNS": "250"})
    line = next(row for row in table.stdout.splitlines() if KEY in row)
    assert "75" in line and ENV in line

    assert mystore("config", "validate", **{ENV: "75"}).returncode == 0


def test_the_factory_reads_its_section_from_the_settings(mystore, home):
    code = ("from mdm_core.config import load_settings\nfrom mdm_core.backends import get_backend\n"
            "s = load_settings().settings\nprint(get_backend('mystore', s).flush_interval_ms, "
            "s.database.mystore.compress, s.database.sqlite.journal_mode)")
    (home / "mdm.yaml").write_text("database:\n  mystore:\n    compress: yes\n")
    result = mystore.python(code, **{ENV: "125"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["125", "True", "WAL"]


@pytest.mark.parametrize(("where", "value", "named"), [
    ("yaml", "soon", "mdm.yaml"),
    ("env", "soon", ENV),
])
def test_validate_names_a_wrongly_typed_key(mystore, home, where, value, named):
    env = {}
    if where == "yaml":
        (home / "mdm.yaml").write_text(f"database:\n  mystore:\n    flush_interval_ms: {value}\n")
    else:
        env[ENV] = value
    result = mystore("config", "validate", **env)
    assert result.returncode == 1
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert KEY in message and "integer" in message and named in message


def test_unknown_keys_under_a_plugin_section_are_named(mystore, home):
    (home / "mdm.yaml").write_text(
        "database:\n  mystore:\n    flush_intervl_ms: 5\n    retry:\n      attemps: 2\n"
        "something_from_1x:\n  x: 1\n"
    )
    validate = mystore("config", "validate")
    assert validate.returncode == 1
    message = validate.stderr
    assert "database.mystore.flush_intervl_ms" in message and "database.mystore.retry.attemps" in message
    assert "mdm_mystore" in message and "flush_interval_ms" in message  # the keys it does know
    assert "something_from_1x" not in message  # unknown keys elsewhere are tolerated (1.x)

    show = mystore("config", "show", "--format", "json")
    assert show.returncode == 0, show.stderr
    assert "Warning" in show.stderr and "database.mystore.flush_intervl_ms" in show.stderr
    assert json.loads(show.stdout)["unknown_keys"] == ["database.mystore.flush_intervl_ms",
                                                       "database.mystore.retry.attemps"]


def test_unknown_key_under_a_builtin_plugin_section(cli, home):
    (home / "mdm.yaml").write_text("database:\n  sqlite:\n    journal_mod: WAL\n")
    result = cli("config", "validate")
    assert result.exit_code == 1
    assert "'database.sqlite.journal_mod'" in result.stderr and "plugin 'sqlite'" in result.stderr


def test_a_secret_of_a_third_party_section_is_masked(mystore, home):
    secret = "opensesame-4242"
    (home / "mdm.yaml").write_text(f"database:\n  mystore:\n    auth: {secret}\n")
    data = _show(mystore)
    assert data["values"]["database.mystore.auth"] == "***"
    code = "from mdm_core.config import load_settings\ns = load_settings().settings\nprint(repr(s)); print(s.database.mystore.auth)"
    result = mystore.python(code)
    assert result.returncode == 0, result.stderr
    shown, real = result.stdout.strip().splitlines()
    assert secret not in shown and "auth='***'" in shown and real == secret
    bad = mystore("config", "validate", MDM_DATABASE_MYSTORE_FLUSH_INTERVAL_MS=f"x{secret}")
    assert bad.returncode == 1 and secret not in bad.stderr


BROKEN = {
    "not_attrs": ("class S:\n    flush_interval_ms = 5\n", "database.broken", "not an attrs class"),
    "no_default": ("@attrs.frozen\nclass S:\n    flush_interval_ms: int\n", "database.broken", "has no default"),
    "bad_default": ("@attrs.frozen\nclass S:\n    flush_interval_ms: int = 'soon'\n", "database.broken",
                    "default of S.flush_interval_ms"),
    "unsupported_type": ("@attrs.frozen\nclass S:\n    opts: dict = attrs.Factory(dict)\n", "database.broken",
                         "has type"),
    "failing_factory": ("@attrs.frozen\nclass S:\n    n: int = attrs.Factory(lambda: 1 // 0)\n", "database.broken",
                        "ZeroDivisionError"),
    "not_a_host_section": ("@attrs.frozen\nclass S:\n    n: int = 1\n", "nowhere.broken", "not a section of the host"),
    "host_key": ("@attrs.frozen\nclass S:\n    n: int = 1\n", "database.default_backend", "already a key of the host"),
    "taken_by_another_plugin": ("@attrs.frozen\nclass S:\n    journal_mode: str = 'WAL'\n", "database.sqlite",
                                "plugin 'sqlite' already declares 'database.sqlite'"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_settings_class_fails_the_plugin_not_mdm(home, tmp_path, case):
    body, section, reason = BROKEN[case]
    source = (
        "import attrs\nfrom mdm_core import hookimpl\nfrom mdm_core.hookspecs import Implementation\n\n"
        f"{body}\n\n"
        "@hookimpl\ndef mdm_storage_backends():\n"
        "    return [Implementation(kind='storage', name='broken', generation='new', factory=print,\n"
        f"                           settings_section={section!r}, settings_class=S)]\n"
    )
    site = install_plugin_module(tmp_path / "site", "mdm-broken-settings", "mdm_broken_settings", source)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MDM_")}
    env.update(MDM_HOME_DIR=str(home), PYTHONPATH=str(site))
    listing = subprocess.run([MDM, "plugins", "list", "--format", "json"], capture_output=True, text=True, env=env)
    assert listing.returncode == 0, listing.stderr
    data = json.loads(listing.stdout)
    record = next(p for p in data["plugins"] if p["name"] == "mdm_broken_settings")
    assert record["status"] == "failed", record
    assert reason in record["error"] and "\n" not in record["error"]
    assert all(w["plugin"] != "mdm_broken_settings" for w in data["winners"])
    sqlite = next(p for p in data["plugins"] if p["name"] == "sqlite")
    assert sqlite["status"] == "loaded"
    show = subprocess.run([MDM, "config", "show", "--format", "json"], capture_output=True, text=True, env=env)
    assert show.returncode == 0, show.stderr
    assert json.loads(show.stdout)["values"]["database.sqlite.journal_mode"] == "WAL"
    strict = subprocess.run([MDM, "config", "show"], capture_output=True, text=True,
                            env={**env, "MDM_STRICT_PLUGINS": "1"})
    assert strict.returncode == 1 and reason in strict.stderr and "Traceback" not in strict.stderr


def test_settings_classes_import_no_driver(home):
    code = ("import sys\nimport mdm_plugin_sqlite.settings, mdm_plugin_duckdb.settings, mdm_plugin_postgresql.settings\n"
            "print([m for m in ('duckdb', 'psycopg', 'adbc_driver_sqlite', 'adbc_driver_postgresql', 'pyarrow') "
            "if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_composed_settings_are_plain_attrs(home):
    from mdm_plugin_postgresql.settings import PostgreSQLSettings

    from mdm_core.config import load_settings
    from mdm_core.config.composed import DatabaseSettings, Settings
    from mdm_core.config.model import converter
    from mdm_core.config.settings import Settings as HostSettings

    settings = load_settings().settings
    assert isinstance(settings, Settings) and isinstance(settings, HostSettings)
    assert isinstance(settings.database, DatabaseSettings)
    assert [f.name for f in attrs.fields(type(settings))][:2] == ["home", "database"]  # host order kept
    database = attrs.evolve(DatabaseSettings(), postgresql=PostgreSQLSettings(password="hunter2-hunter2"))
    built = Settings(home=home, database=database)
    assert built.database.sqlite.journal_mode == "WAL" and built.database.connection_timeout == 30
    assert "hunter2" not in repr(built)
    plain = converter.unstructure(built)
    assert plain["database"]["sqlite"]["journal_mode"] == "WAL"
    assert converter.structure(plain, Settings) == built


def test_sections_are_checked_before_composing():
    from mdm_core.config.sections import Section, check_section, check_settings_class, compose

    @attrs.frozen
    class Good:
        size: int = 1
        names: list[str] = attrs.Factory(list)
        ratio: float = 0
        path: str | None = None

    check_settings_class(Good)
    composed = compose([Section("feature_engineering.myengine", Good, "p"), Section("myplugin", Good, "p")])
    settings = composed.settings(home=Path("/tmp"))
    assert settings.feature_engineering.myengine == Good() and settings.myplugin == Good()
    assert settings.feature_engineering.temporal.enabled is True
    with pytest.raises(ValueError, match="already declares"):
        check_section(Section("myplugin", type("Other", (Good,), {}), "q"), [Section("myplugin", Good, "p")])
    with pytest.raises(ValueError, match="lower-case"):
        check_section(Section("database.My-Store", Good, "p"), [])
