"""The migration guide's Python API (mdm_core.migration, feature_flags, adapters) on a copy
of the 1.x fixture and on new-layout datasets: thin layers over the orchestrator."""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mdm_core.testing.home import snapshot

FIXTURE_DATASETS = ["penguins", "penguins_raw", "sample", "weather"]


@pytest.fixture
def legacy_home(legacy_fixture, monkeypatch, use_home) -> Path:
    monkeypatch.chdir(legacy_fixture)
    return use_home(legacy_fixture / "home")


def test_imports_stay_light():
    code = ("import sys, mdm_core, mdm_core.migration, mdm_core.feature_flags, mdm_core.adapters\n"
            "from mdm_core.migration import PHASES, PHASE_FLAGS\n"
            "heavy = [m for m in ('pyarrow', 'pandas', 'duckdb', 'psycopg', 'mdm_core.migration.api') if m in sys.modules]\n"
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_config_backup_migrate_validate_restore(legacy_home, tmp_path):
    from mdm_core.migration import ConfigMigrator

    migrator = ConfigMigrator()
    original = (legacy_home / "mdm.yaml").read_bytes()
    copy = migrator.backup_config()
    assert copy.parent == legacy_home / ".migration" / "backups" / "manual" and copy.read_bytes() == original
    outside = migrator.backup_config(tmp_path)
    assert outside == tmp_path / "mdm.yaml" and outside.read_bytes() == original

    result = migrator.migrate_config()
    assert result.success and result.error is None, result.error
    assert (legacy_home / "mdm.yaml").read_bytes() != original
    assert migrator.validate_config().valid
    bad = migrator.validate_config({"performance": {"batch_size": "many"}, "logging": {"level": "loud"}})
    assert not bad.valid and "batch_size" in bad.errors[0]

    migrator.restore_config(outside)
    assert (legacy_home / "mdm.yaml").read_bytes() == original


def test_storage_migrator_moves_one_dataset_and_rolls_it_back(home, penguins):
    from mdm_core.datasets.client import MDMClient
    from mdm_core.migration import StorageMigrator

    MDMClient().register_dataset("penguins", penguins, backend="sqlite")
    MDMClient().register_dataset("other", penguins, backend="duckdb", generate_features=False)
    yaml = home / "datasets" / "penguins" / "dataset.yaml"
    before = yaml.read_bytes()
    migrator = StorageMigrator(["sqlite", "duckdb"])
    assert migrator.list_datasets() == ["penguins"]  # "other" is already on duckdb

    result = migrator.migrate_dataset("penguins", verify=True)
    assert result.success and result.error is None and result.datasets == ("penguins",)
    assert result.rows >= 272
    client = MDMClient()
    assert client.get_dataset_info("penguins").backend == "duckdb"
    assert client.load_dataset("penguins").shape[0] == 272

    assert migrator.rollback_dataset("penguins")
    assert yaml.read_bytes() == before
    assert MDMClient().get_dataset_info("penguins").backend == "sqlite"
    assert MDMClient().load_dataset("penguins").shape[0] == 272
    assert not list(yaml.parent.glob("*.duckdb"))
    assert migrator.rollback_dataset("penguins") == []  # nothing left to undo

    failed = migrator.migrate_dataset("ghost")
    assert not failed.success and "ghost" in failed.error


def test_full_migration_validates_and_rolls_back_byte_for_byte(legacy_home):
    from mdm_core.migration import (
        DatasetDiscovery,
        DataValidator,
        MigrationCleanup,
        RollbackManager,
        StorageMigrator,
    )

    hashes = snapshot(legacy_home, files_only=True)
    assert StorageMigrator().list_datasets() == FIXTURE_DATASETS
    assert DatasetDiscovery().scan_and_register_datasets() == FIXTURE_DATASETS
    report = DataValidator().validate_all_datasets(deep=True)
    assert report.checked > 0 and not report.has_errors(), report.errors

    [store] = [p for p in (legacy_home / "datasets" / "sample").glob("*.sqlite") if p.name != "sample.sqlite"]
    with sqlite3.connect(store) as db:  # the new store, not the 1.x one
        db.execute('DELETE FROM "train" WHERE rowid IN (SELECT rowid FROM "train" LIMIT 3)')
    broken = DataValidator().validate_all_datasets()
    assert broken.has_errors() and any("sample/train" in e for e in broken.errors)
    with pytest.raises(Exception, match="no longer verify"):
        MigrationCleanup().remove_backups()

    assert {"config", "storage", "dataset"} <= set(RollbackManager().rollback_all())
    assert snapshot(legacy_home, files_only=True) == hashes


def test_cleanup_and_optimize_after_a_verified_run(legacy_home):
    from mdm_core.migration import DatasetDiscovery, MigrationCleanup, RollbackManager

    DatasetDiscovery().scan_and_register_datasets()
    cleanup = MigrationCleanup()
    assert cleanup.optimize_storage() == FIXTURE_DATASETS
    removed = cleanup.remove_legacy_configs()
    assert removed and not (legacy_home / "config" / "datasets" / "penguins.yaml").exists()
    assert not (legacy_home / ".migration" / "backups").exists()
    assert cleanup.remove_backups() == []  # cleaned already
    with pytest.raises(Exception, match="cleaned up"):
        RollbackManager().rollback_storage()


def test_rollback_storage_leaves_the_config_phase(legacy_home):
    from mdm_core.migration import ConfigMigrator, RollbackManager, StorageMigrator

    assert ConfigMigrator().migrate_config().success
    config = (legacy_home / "mdm.yaml").read_bytes()
    assert StorageMigrator().migrate_dataset("weather").success
    assert RollbackManager().rollback_storage() == ["storage"]
    assert (legacy_home / "mdm.yaml").read_bytes() == config
    assert RollbackManager().rollback_config() == ["config"]


def test_feature_flags(home):
    from mdm_core import feature_flags
    from mdm_core.errors import ConfigError

    assert feature_flags.get("use_new_storage") is True
    feature_flags.set("use_new_storage", False)  # no mdm.yaml yet: nothing to back up
    assert feature_flags.get("use_new_storage") is False
    assert not (home / ".migration").exists()
    first = (home / "mdm.yaml").read_bytes()
    feature_flags.disable_all_new_features()
    assert [p.read_bytes() for p in (home / ".migration" / "backups" / "flags").iterdir()] == [first]
    assert not any(feature_flags.get(n) for n in feature_flags.NEW_FEATURE_FLAGS)
    assert feature_flags.get("feature_compatibility_mode") is False
    feature_flags.enable_all_new_features()
    assert all(feature_flags.get(n) for n in feature_flags.NEW_FEATURE_FLAGS)
    saved = sorted((home / ".migration" / "backups" / "flags").iterdir())
    assert len(saved) == 2 and b"use_new_dataset: false" in saved[-1].read_bytes()
    with pytest.raises(ConfigError, match="use_new_cli"):
        feature_flags.get("use_new_everything")
    with pytest.raises(ConfigError, match="True or False"):
        feature_flags.set("use_new_cli", "yes")


def test_storage_backend_registrar_and_config_manager(home, penguins):
    from mdm_core.adapters import get_config_manager, get_dataset_registrar, get_storage_backend
    from mdm_core.errors import ConfigError

    assert get_storage_backend("sqlite").name == "sqlite"
    info = get_dataset_registrar().register_dataset(name="pg", path=penguins / "train.csv", target_column="species",
                                                    problem_type="multiclass_classification", backend="duckdb")
    assert info.target_column == "species" and info.backend == "duckdb"

    manager = get_config_manager()
    manager.update_config({"performance": {"batch_size": 1234}, "database.default_backend": "duckdb"})
    assert manager.config.performance.batch_size == 1234 and manager.config.database.default_backend == "duckdb"
    first = (home / "mdm.yaml").read_bytes()
    manager.update_config({"logging.level": "ERROR"})
    assert [p.read_bytes() for p in (home / ".migration" / "backups" / "settings").iterdir()] == [first]
    written = (home / "mdm.yaml").read_bytes()
    for bad in ({"performance.batch_size": "lots"}, {"logging": {"level": "loud"}}, {"nope.key": 1}):
        with pytest.raises(ConfigError):
            manager.update_config(bad)
        assert (home / "mdm.yaml").read_bytes() == written


def test_feature_generator_on_a_frame_and_with_a_dataset(home, penguins):
    import pandas as pd

    from mdm_core.adapters import get_feature_generator
    from mdm_core.datasets.client import MDMClient

    generator = get_feature_generator()
    frame = pd.DataFrame({"size": [1.0, 2.5, 3.0, 4.5, 10.0, 7.0], "color": ["a", "b", "a", "c", "b", "a"]})
    out = generator.generate_features(df=frame, column_types={"size": "numeric", "color": "categorical"})
    assert len(out) == len(frame) and list(out.columns[:2]) == ["size", "color"] and len(out.columns) > 2

    client = MDMClient()
    client.register_dataset("penguins", penguins, target="species")
    rows = client.load_dataset("penguins", "train", limit=25)
    stored = client.load_dataset("penguins", "train_features", limit=25)
    made = generator.generate_features(df=rows.drop(columns=["species"]), dataset="penguins")
    features = [c for c in stored.columns if c not in rows.columns]
    assert features and list(made.columns) == [c for c in stored.columns if c != "species"]
    for column in features:
        for got, want in zip(made[column], stored[column], strict=True):
            if isinstance(want, float) and not pd.isna(want):
                assert math.isclose(got, want, rel_tol=0, abs_tol=1e-9), column
            else:
                assert (pd.isna(got) and pd.isna(want)) or got == want, column
