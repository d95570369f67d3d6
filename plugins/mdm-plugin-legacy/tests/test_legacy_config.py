"""The legacy-generation config loader and 1.x home detection, through the real CLI.

A copy of the real MDM 1.0.6 home (``shared/fixtures/legacy-mdm-1.0.6/home``) and of the
flat ``config.yaml`` (``shared/fixtures/legacy-config``) is used as ``MDM_HOME_DIR`` of a
fresh ``mdm`` process; after every command the home is checked byte for byte (the hash of
every file, and no file or folder added or removed). Library-level cases (notes, lenient
values, detection on damaged homes) call the functions in this process.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mdm_plugin_legacy import config_loader
from mdm_plugin_legacy.config_loader import load_legacy_config, unmigrated_reasons

from mdm_core.config import load_settings
from mdm_core.errors import ConfigError

FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures"
LEGACY_FLAGS = ("use_new_config", "use_new_dataset", "use_new_storage", "use_new_cli")
DETECTED = "1.x home detected: 4 MDM 1.x datasets in config/datasets"


def tree(root: Path) -> dict[str, str]:
    """Every file and folder under ``root``: relative path -> sha256 (``dir`` for folders)."""
    return {
        str(p.relative_to(root)): "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def home_1x(home, legacy) -> Path:
    """A writable copy of the 1.0.6 home (its ``data/`` sibling holds the sources); the
    caller's MDM_* variables are removed (``home``)."""
    return legacy / "home"


@pytest.fixture
def flat_home(tmp_path) -> Path:
    """A home holding only the flat ``config.yaml`` of the oldest MDM."""
    target = tmp_path / "flat"
    target.mkdir()
    shutil.copy(FIXTURES / "legacy-config" / "config.yaml", target / "config.yaml")
    (target / "config.yaml").chmod(0o644)
    return target


@pytest.fixture
def mdm(mdm_subprocess):
    """``mdm(home, *args, env=...)``: run the real CLI on ``home`` and check that it left
    every byte of ``home`` as it was. Returns the CompletedProcess."""

    def run(home: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        before = tree(home)
        result = mdm_subprocess(list(args), env={"MDM_HOME_DIR": str(home), **(env or {})})
        assert tree(home) == before, f"mdm {' '.join(args)} changed the home"
        assert "Traceback" not in result.stderr, result.stderr
        return result

    return run


def _json(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# -- flags ----------------------------------------------------------------------------


def test_a_1x_home_starts_on_the_legacy_generation(mdm, home_1x):
    flags = _json(mdm(home_1x, "flags", "list", "--format", "json"))
    for name in LEGACY_FLAGS:
        assert flags[name] == {"value": False, "source": DETECTED}
    assert flags["use_new_features"] == {"value": True, "source": "default"}
    assert flags["feature_compatibility_mode"] == {"value": False, "source": "default"}


def test_a_flag_the_user_set_is_kept(mdm, home_1x):
    flags = _json(mdm(home_1x, "flags", "list", "--format", "json", env={"MDM_FLAGS_USE_NEW_STORAGE": "1"}))
    assert flags["use_new_storage"] == {"value": True, "source": "env MDM_FLAGS_USE_NEW_STORAGE"}
    assert flags["use_new_config"]["source"].startswith("1.x home detected")
    assert flags["use_new_dataset"]["source"].startswith("1.x home detected")


def test_flags_in_a_1x_mdm_yaml_still_work(mdm, home_1x):
    config = home_1x / "mdm.yaml"
    config.write_text(config.read_text() + "flags:\n  use_new_dataset: on\n  use_new_features: false\n")
    flags = _json(mdm(home_1x, "flags", "list", "--format", "json"))
    assert flags["use_new_dataset"] == {"value": True, "source": str(config)}
    assert flags["use_new_features"] == {"value": False, "source": str(config)}
    assert flags["use_new_config"] == {"value": False, "source": DETECTED}


def test_a_new_home_keeps_the_new_defaults(mdm, home):
    flags = _json(mdm(home, "flags", "list", "--format", "json"))
    for name in (*LEGACY_FLAGS, "use_new_features"):
        assert flags[name] == {"value": True, "source": "default"}
    report = _json(mdm(home, "plugins", "list", "--format", "json"))
    winner = next(w for w in report["winners"] if w["hook"] == "config" and w["name"] == "home")
    assert winner["generation"] == "new"
    assert winner["reason"] == "use_new_config=on selects the new generation"


# -- plugins list ---------------------------------------------------------------------


def test_plugins_list_shows_the_legacy_config_loader_winning(mdm, home_1x):
    report = _json(mdm(home_1x, "plugins", "list", "--format", "json"))
    legacy = next(p for p in report["plugins"] if p["name"] == "legacy")
    assert legacy["status"] == "loaded", legacy["error"]
    assert {"mdm_config_loaders", "mdm_unmigrated_home"} <= set(legacy["hooks"])
    winner = next(w for w in report["winners"] if w["hook"] == "config" and w["name"] == "home")
    assert (winner["plugin"], winner["generation"]) == ("legacy", "legacy")
    assert "use_new_config=off" in winner["reason"]
    assert "legacy (legacy)" in winner["candidates"]


# -- config show / validate -----------------------------------------------------------


def test_config_show_reads_the_1x_mdm_yaml(mdm, home_1x):
    shown = _json(mdm(home_1x, "config", "show", "--sources", "--format", "json"))
    config = str(home_1x / "mdm.yaml")
    assert shown["loader"] == "legacy"
    assert (shown["values"]["performance.batch_size"], shown["sources"]["performance.batch_size"]) == (5000, config)
    assert (shown["values"]["database.default_backend"], shown["sources"]["database.default_backend"]) == (
        "sqlite", config)
    assert (shown["values"]["logging.level"], shown["sources"]["logging.level"]) == ("WARNING", config)
    assert shown["sources"]["flags.use_new_config"] == DETECTED
    assert "unknown_keys" not in shown


def test_config_validate_passes_on_a_1x_home(mdm, home_1x):
    result = mdm(home_1x, "config", "validate")
    assert result.returncode == 0, result.stderr
    assert f"Configuration is valid ({home_1x / 'mdm.yaml'})" in result.stdout


def test_flat_config_yaml_and_legacy_variables(mdm, flat_home):
    shown = _json(mdm(flat_home, "config", "show", "--sources", "--format", "json", env={"MDM_BACKEND": "duckdb"}))
    flat = str(flat_home / "config.yaml")
    values, sources = shown["values"], shown["sources"]
    assert shown["loader"] == "legacy"
    assert (values["database.default_backend"], sources["database.default_backend"]) == ("duckdb", "env MDM_BACKEND")
    expected = {
        "performance.batch_size": 2000, "logging.level": "DEBUG", "paths.datasets_path": "datasets/",
        "database.duckdb.memory_limit": "2GB", "database.sqlite.journal_mode": "WAL",
        "database.postgresql.host": "localhost", "database.postgresql.port": 5432,
        "database.postgresql.user": "mdm", "feature_engineering.enabled": True,
    }
    for key, value in expected.items():
        assert (values[key], sources[key]) == (value, flat), key
    assert sources["flags.use_new_config"] == "1.x home detected: MDM 1.x flat settings in config.yaml"


def test_legacy_variables_and_precedence(mdm, flat_home):
    env = {"MDM_BATCH_SIZE": "3000", "MDM_LOG_LEVEL": "error", "MDM_BACKEND": "sqlite",
           "MDM_DATABASE_DEFAULT_BACKEND": "postgresql", "MDM_DATABASE_SQLITE_BUSY_TIMEOUT": "1234"}
    shown = _json(mdm(flat_home, "config", "show", "--sources", "--format", "json", env=env))
    values, sources = shown["values"], shown["sources"]
    assert (values["performance.batch_size"], sources["performance.batch_size"]) == (3000, "env MDM_BATCH_SIZE")
    assert (values["logging.level"], sources["logging.level"]) == ("error", "env MDM_LOG_LEVEL")
    # the nested variable wins over the flat one
    assert (values["database.default_backend"], sources["database.default_backend"]) == (
        "postgresql", "env MDM_DATABASE_DEFAULT_BACKEND")
    # a plugin's multi-word key, which 1.x itself ignored
    assert (values["database.sqlite.busy_timeout"], sources["database.sqlite.busy_timeout"]) == (
        1234, "env MDM_DATABASE_SQLITE_BUSY_TIMEOUT")


def test_nested_mdm_yaml_wins_over_the_flat_file_key_by_key(mdm, home_1x, flat_home):
    shutil.copy(flat_home / "config.yaml", home_1x / "config.yaml")
    shown = _json(mdm(home_1x, "config", "show", "--sources", "--format", "json"))
    values, sources = shown["values"], shown["sources"]
    assert (values["database.default_backend"], sources["database.default_backend"]) == (
        "sqlite", str(home_1x / "mdm.yaml"))
    assert (values["database.duckdb.memory_limit"], sources["database.duckdb.memory_limit"]) == (
        "2GB", str(home_1x / "config.yaml"))
    flags = _json(mdm(home_1x, "flags", "list", "--format", "json"))
    assert flags["use_new_config"]["source"] == f"{DETECTED}; MDM 1.x flat settings in config.yaml"


ONLY_1X = """\
database:
  default_backend: duckdb
  postgresql:
    host: db.example
    port: "5433"
    password: s3cret-1x-pw
    database: mdm_main
    database_prefix: mdm_
  sqlalchemy:
    echo: false
performance:
  batch_size: "4000"
  max_workers: 4
  max_concurrent_operations: 3
logging:
  level: INFO
  file: mdm.log
  max_bytes: 1000
export:
  default_format: parquet
paths:
  configs_path: config/datasets/
feature_engineering:
"""


def test_keys_this_mdm_does_not_have_never_fail_a_1x_home(mdm, home_1x):
    (home_1x / "mdm.yaml").write_text(ONLY_1X)
    result = mdm(home_1x, "config", "validate")
    assert result.returncode == 0, result.stderr
    shown = mdm(home_1x, "config", "show", "--sources", "--format", "json")
    data = _json(shown)
    assert "unknown_keys" not in data
    assert data["values"]["database.default_backend"] == "duckdb"
    assert data["values"]["database.postgresql.port"] == 5433  # "5433" read as 1.x read it
    assert data["values"]["performance.batch_size"] == 4000
    assert data["values"]["logging.file"] is None  # would log into the 1.x home
    assert data["values"]["database.postgresql.password"] == "***"
    assert "s3cret-1x-pw" not in shown.stdout + shown.stderr + result.stdout + result.stderr


def test_notes_name_the_keys_left_out(home_1x, monkeypatch):
    (home_1x / "mdm.yaml").write_text(ONLY_1X + "  unheard_of: 1\n")
    monkeypatch.setenv("MDM_PERFORMANCE_CHUNK_SIZE", "10")
    monkeypatch.setenv("MDM_DATABASE_NO_SUCH_KEY", "x")
    loaded = load_settings(home_1x)
    assert loaded.loader == "legacy" and loaded.unknown == ()
    config = home_1x / "mdm.yaml"
    notes = "\n".join(loaded.notes)
    for key in ("database.postgresql.database", "database.postgresql.database_prefix", "database.sqlalchemy.echo",
                "performance.max_concurrent_operations", "export.default_format"):
        assert f"'{key}'" in notes, key
    for key in ("performance.max_workers", "logging.max_bytes"):  # keys of this MDM too: used
        assert f"'{key}'" not in notes and loaded.sources[key] == str(config), key
    assert loaded.settings.performance.max_workers == 4 and loaded.settings.logging.max_bytes == 1000
    assert f"{config}: MDM 1.x keys " in notes and "mdm-migrate plan" in notes
    assert f"{config}: unknown key 'feature_engineering.unheard_of' is ignored" in notes
    assert f"{config}: logging.file 'mdm.log' would write into the MDM 1.x home" in notes
    assert "env MDM_PERFORMANCE_CHUNK_SIZE: MDM 1.x key 'performance.chunk_size'" in notes
    assert "MDM_DATABASE_NO_SUCH_KEY names no setting; ignored" in notes
    assert "configs_path" not in notes  # still read (by the 1.x catalog)
    assert len(loaded.notes) == 5


def test_logging_file_outside_the_home_or_from_the_environment_is_used(home_1x, tmp_path, monkeypatch):
    outside = tmp_path / "elsewhere" / "mdm.log"
    (home_1x / "mdm.yaml").write_text(f"logging:\n  file: {outside}\n")
    assert load_settings(home_1x).settings.logging.file == str(outside)
    monkeypatch.setenv("MDM_LOGGING_FILE", "mine.log")
    loaded = load_settings(home_1x)
    assert (loaded.settings.logging.file, loaded.sources["logging.file"]) == ("mine.log", "env MDM_LOGGING_FILE")


def test_the_loader_gives_only_keys_of_the_model(home_1x):
    from mdm_core.config.model import leaves

    (home_1x / "mdm.yaml").write_text(ONLY_1X)
    loaded = load_legacy_config(home_1x)
    assert set(loaded.sources) <= set(leaves())
    assert loaded.files == (str(home_1x / "mdm.yaml"),)


def test_a_value_that_does_not_convert_is_one_sentence_naming_file_and_key(mdm, home_1x):
    (home_1x / "mdm.yaml").write_text("performance:\n  batch_size: lots\n")
    result = mdm(home_1x, "config", "validate")
    assert result.returncode == 1
    assert result.stderr.strip() == (f"Error: {home_1x / 'mdm.yaml'} line 2: key 'performance.batch_size' must be "
                                     "an integer, got 'lots'.")


@pytest.mark.parametrize("content", ["database: [\n  bad", "- just\n- a list\n", "\xff\xfe"])
@pytest.mark.parametrize("command", [("config", "show"), ("config", "validate"), ("flags", "list"),
                                     ("plugins", "list")])
def test_a_garbage_1x_mdm_yaml_is_one_sentence(mdm, home_1x, content, command):
    (home_1x / "mdm.yaml").write_bytes(content.encode("latin-1"))
    result = mdm(home_1x, *command)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {home_1x / 'mdm.yaml'}: "), result.stderr


def test_a_garbage_flat_config_yaml_is_one_sentence(mdm, home_1x):
    (home_1x / "config.yaml").write_text("backend: [sqlite\n")
    result = mdm(home_1x, "config", "show")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {home_1x / 'config.yaml'}: invalid YAML"), result.stderr


# -- detection ------------------------------------------------------------------------


def test_detection_counts_1x_datasets(home_1x):
    assert unmigrated_reasons(home_1x) == ["4 MDM 1.x datasets in config/datasets"]
    (home_1x / "config" / "datasets" / "weather.yaml").unlink()
    assert unmigrated_reasons(home_1x) == [
        "3 MDM 1.x datasets in config/datasets",
        "1 MDM 1.x dataset folder without a dataset YAML in datasets",
    ]
    (home_1x / "datasets" / "weather" / "dataset_info.json").unlink()
    assert len(unmigrated_reasons(home_1x)) == 2  # found from its database file
    shutil.rmtree(home_1x / "config")
    assert unmigrated_reasons(home_1x) == ["4 MDM 1.x dataset folders without a dataset YAML in datasets"]


def test_detection_follows_the_configured_paths(home_1x, tmp_path):
    moved = tmp_path / "elsewhere"
    shutil.move(home_1x / "config" / "datasets", moved)
    (home_1x / "mdm.yaml").write_text(f"paths:\n  configs_path: {moved}\n")
    assert unmigrated_reasons(home_1x) == [f"4 MDM 1.x datasets in {moved}"]


def test_a_garbage_config_does_not_stop_detection(home_1x):
    (home_1x / "mdm.yaml").write_text("paths: [\n")
    assert unmigrated_reasons(home_1x) == ["4 MDM 1.x datasets in config/datasets"]
    with pytest.raises(ConfigError, match="mdm.yaml: invalid YAML"):
        load_legacy_config(home_1x)


def test_homes_without_1x_data(tmp_path):
    new = tmp_path / "new"
    (new / "datasets" / "iris").mkdir(parents=True)
    (new / "datasets" / "iris" / "dataset.yaml").write_text("name: iris\n")
    (new / "datasets" / "iris" / "iris.sqlite").write_bytes(b"")
    (new / "config" / "datasets").mkdir(parents=True)
    (new / "config" / "datasets" / "feature_flags.yaml").write_text("{}\n")  # a 1.x leftover
    for leftover in ("logs", "cache"):
        (new / "datasets" / leftover).mkdir()
        (new / "datasets" / leftover / "x.db").write_bytes(b"")
    (new / "datasets" / "notes").mkdir()  # a folder with no 1.x dataset in it
    (new / "mdm.yaml").write_text("performance:\n  batch_size: 100\n")
    assert unmigrated_reasons(new) == []
    assert unmigrated_reasons(tmp_path / "missing") == []
    (tmp_path / "a-file").write_text("x")
    assert unmigrated_reasons(tmp_path / "a-file") == []


def test_detection_never_raises(home_1x, monkeypatch):
    def broken(*_args, **_kwargs):
        raise PermissionError("denied")

    monkeypatch.setattr(Path, "iterdir", broken)
    assert unmigrated_reasons(home_1x) == []


def test_detection_knows_the_catalog_names():
    from mdm_plugin_legacy import catalog_1x

    assert config_loader.LEFTOVERS == catalog_1x.LEFTOVERS
    assert config_loader.INFO_FILE == catalog_1x.INFO_FILE
    assert config_loader.NEW_LAYOUT_FILE == catalog_1x.NEW_LAYOUT_FILE


def test_hooks_are_cheap(home_1x):
    """The plugin module and detection import no driver, Arrow or pandas."""
    code = (
        "import sys\n"
        "from mdm_plugin_legacy import plugin\n"
        "plugin.mdm_config_loaders()\n"
        f"print(plugin.mdm_unmigrated_home({str(home_1x)!r}))\n"
        "print(sorted(m for m in ('duckdb', 'psycopg', 'pyarrow', 'pandas', 'adbc_driver_sqlite') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["['4 MDM 1.x datasets in config/datasets']", "[]"]
