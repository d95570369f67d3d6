"""The ``legacy-features`` migration step, driven by the real orchestrator through every
phase on a copy of the MDM 1.0.6 fixture home: partial 1.x feature tables regenerated
complete, compatibility mode reproducing 1.x's columns, the custom feature carried over,
the compatibility report, rollback of the phase, and an interrupted apply."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from mdm_plugin_legacy.migrate_features import KEPT_SUFFIX, compatibility_report
from mdm_plugin_legacy.migration_1x import new_backend, store_key

from mdm_core.config import load_settings
from mdm_core.migration.orchestrator import Migration
from mdm_core.storage import StoreRef

#: 1.x fitted the Box-Cox lambda with Brent's method to a relative tolerance of 1.48e-8 on a
#: likelihood flat to rounding near its maximum: the lambda is reproduced when the
#: arithmetic's rounding is (same numpy/scipy builds), else only to that tolerance.
BOXCOX_TOLERANCE = 1e-6


@pytest.fixture
def home(legacy, use_home) -> Path:
    """The fixture's 1.x home, as MDM_HOME_DIR, nothing else of the caller's MDM_* set."""
    return use_home(legacy / "home")


def open_new_store(home: Path, name: str, backend: str):
    settings = load_settings(home, fresh=True).settings
    return new_backend(backend, settings).open_store(
        StoreRef(store_key(settings.home, name), settings.datasets_dir / name), read_only=True)


def table_state(home: Path, name: str, backend: str) -> dict[str, tuple[int, str]]:
    with open_new_store(home, name, backend) as store:
        return {t: (store.row_count(t), store.checksum(t)) for t in store.list_tables() if t.endswith("_features")}


def test_every_phase_regenerates_features_compatible_with_1x(home, monkeypatch):
    monkeypatch.setenv("MDM_FLAGS_FEATURE_COMPATIBILITY_MODE", "1")
    migration = Migration(home)
    plan = migration.plan("features")
    units = {u.id: u for p in plan.phases for s, u in p.units if s.step.name == "legacy-features"}
    assert units["weather/data_features"].detail == "partial in 1.x: 5,000 of 26,115 rows"
    assert units["penguins/train_features"].detail == "complete in 1.x: regenerated to verify"
    assert units["sample/train_features"].detail == "absent"
    assert "penguins/sample_submission_features" not in units  # a submission template gets no features

    report = migration.run()
    assert report.exit_code == 0, [o.record.error for o in report.outcomes if o.record.error]
    assert report.phases_done == ["config", "storage", "features", "dataset", "cli"]
    assert yaml.safe_load((home / "mdm.yaml").read_text())["flags"]["use_new_features"] is True

    with open_new_store(home, "weather", "duckdb") as store:
        assert store.row_count("data_features") == store.row_count("data") == 26_115

    with open_new_store(home, "penguins", "sqlite") as store:
        old = store.read_table("train_features" + KEPT_SUFFIX, batch_size=10_000).read_all()
        new = store.read_table("train_features", batch_size=10_000).read_all()
    assert "bill_ratio" in new.column_names
    for column in old.column_names:
        assert column in new.column_names, column
        a = old.column(column).to_numpy(zero_copy_only=False)
        b = new.column(column).to_numpy(zero_copy_only=False)
        if a.dtype.kind in "fiub" and b.dtype.kind in "fiub":
            tolerance = BOXCOX_TOLERANCE if column.endswith("_boxcox") else 1e-9
            np.testing.assert_allclose(b.astype(float), a.astype(float), rtol=tolerance, err_msg=column)
        else:
            assert list(a) == list(b), column

    compatibility = compatibility_report(home, "penguins")["train_features"]
    assert compatibility["engine"] == "legacy" and compatibility["chunks"] == 1
    assert set(compatibility["columns"]) == set(old.column_names)
    assert compatibility["counts"]["missing"] == 0
    differing = {c: s for c, s in compatibility["columns"].items() if s["verdict"] != "exact"}
    assert all(c.endswith("_boxcox") and s["max_rel"] < BOXCOX_TOLERANCE for c, s in differing.items()), differing
    weather = compatibility_report(home, "weather")["data_features"]
    assert weather["chunks"] == 6 and "per chunk" in weather["note"]
    test = compatibility_report(home, "penguins")["test_features"]
    assert test["chunks"] == 1 and "on test itself" in test["note"]


def test_rollback_of_the_features_phase_restores_the_copied_1x_tables(home):
    migration = Migration(home)
    migration.run("storage")
    before = table_state(home, "penguins", "sqlite")
    assert set(before) == {"train_features", "test_features", "sample_submission_features"}
    assert migration.run("features").exit_code == 0
    assert table_state(home, "penguins", "sqlite")["train_features"] != before["train_features"]
    migration.rollback("features")
    assert table_state(home, "penguins", "sqlite") == before
    with open_new_store(home, "weather", "duckdb") as store:
        assert "data_features" not in store.list_tables()  # partial in 1.x: never copied


def test_an_interrupted_apply_keeps_the_previous_table_and_a_rerun_completes(home, monkeypatch):
    from mdm_plugin_legacy import migrate_features

    migration = Migration(home)
    migration.run("storage")
    before = table_state(home, "penguins", "sqlite")["train_features"]
    real = migrate_features.generate_features

    def killed_before_rename(store, job, *args, **kwargs):
        original = store.rename_table

        def rename(old, new):
            if old.endswith("__tmp"):
                raise OSError("killed before the rename")
            original(old, new)

        store.rename_table = rename
        return real(store, job, *args, **kwargs)

    monkeypatch.setattr(migrate_features, "generate_features", killed_before_rename)
    report = migration.run("features")
    assert report.exit_code != 0
    state = table_state(home, "penguins", "sqlite")
    assert state["train_features"] == before  # the 1.x table is still the feature table
    monkeypatch.setattr(migrate_features, "generate_features", real)
    assert migration.run("features").exit_code == 0
    with open_new_store(home, "penguins", "sqlite") as store:
        assert store.row_count("train_features") == store.row_count("train")
        assert not [t for t in store.list_tables() if t.endswith("__tmp")]
