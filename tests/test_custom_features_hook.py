"""The ``mdm_custom_features(settings, dataset)`` hook from the host's side: implementations
name only the arguments they use (the original no-argument form keeps working), a
``CustomOperation`` runs for the dataset it was returned for, and a per-dataset file that
needs MDM 1.x's ``mdm`` package, when no plugin serves it, gets one sentence naming
mdm-plugin-legacy (a warning, or the error when ``skip_on_error`` is off)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from structlog.testing import capture_logs

from mdm_core import hookimpl
from mdm_core.features import CustomOperation, custom_feature
from mdm_core.plugins import get_plugin_manager, reset_plugin_manager


@pytest.fixture
def manager(home):
    reset_plugin_manager()
    manager = get_plugin_manager()
    manager.strict = False
    yield manager
    reset_plugin_manager()


def _settings(**feature_engineering):
    import attrs

    from mdm_core.config import load_settings

    settings = load_settings().settings
    return attrs.evolve(
        settings, feature_engineering=attrs.evolve(settings.feature_engineering, **feature_engineering)
    )


@custom_feature(name="mass_kg", input_columns=["body_mass_g"])
def mass_kg(df):
    return df["body_mass_g"] / 1000


class NoArguments:
    @hookimpl
    def mdm_custom_features(self):
        return [mass_kg]


class DatasetOnly:
    def __init__(self) -> None:
        self.calls: list = []

    @hookimpl
    def mdm_custom_features(self, dataset):
        self.calls.append(dataset)
        if dataset != "penguins":
            return []
        return [CustomOperation("bill_area", lambda df: {"bill_area": df["bill_length_mm"] * df["bill_depth_mm"]},
                                description="bill length times depth")]


class Both:
    def __init__(self) -> None:
        self.calls: list = []

    @hookimpl
    def mdm_custom_features(self, settings, dataset):
        self.calls.append((type(settings).__name__, settings.feature_engineering.custom, dataset))
        return []


def test_implementations_get_the_arguments_they_name(manager):
    from mdm_core.features.discovery import plugin_custom_features

    dataset_only, both = DatasetOnly(), Both()
    manager.register_plugin(NoArguments(), "no-arguments")
    manager.register_plugin(dataset_only, "dataset-only")
    manager.register_plugin(both, "both")
    settings = _settings()

    found = plugin_custom_features(settings, "penguins")
    assert [(plugin, f.name, f.source) for plugin, f in found.features] == [("no-arguments", "mass_kg", "no-arguments")]
    assert [(plugin, op.name, op.source) for plugin, op in found.operations] == [
        ("dataset-only", "bill_area", "dataset-only")]
    listed = plugin_custom_features()  # listing: settings loaded, no dataset
    assert [f.name for _, f in listed.features] == ["mass_kg"] and listed.operations == []
    assert dataset_only.calls == ["penguins", None]
    assert both.calls == [("Settings", True, "penguins"), ("Settings", True, None)]
    records = {r.name: r.status for r in manager.records}
    assert records["no-arguments"] == records["dataset-only"] == records["both"] == "loaded"


def test_an_operation_runs_for_its_dataset_only(manager, client, penguins):
    manager.register_plugin(NoArguments(), "no-arguments")
    manager.register_plugin(DatasetOnly(), "dataset-only")
    info = client.register_dataset("penguins", penguins, target="species", id_columns=["id"])
    columns = {t.name: [c.name for c in t.columns] for t in info.tables}
    assert {"mass_kg", "bill_area"} <= set(columns["train_features"])
    assert {"mass_kg", "bill_area"} <= set(columns["test_features"])
    stored = client.load_arrow("penguins", "test_features", columns=["bill_area", "mass_kg"]).to_pandas()
    source = pd.read_csv(penguins / "test.csv")
    np.testing.assert_allclose(stored["bill_area"], source["bill_length_mm"] * source["bill_depth_mm"])
    np.testing.assert_allclose(stored["mass_kg"], source["body_mass_g"] / 1000)

    other = client.register_dataset("birds", penguins, target="species", id_columns=["id"])
    names = [c.name for t in other.tables if t.name == "train_features" for c in t.columns]
    assert "mass_kg" in names and "bill_area" not in names


def test_an_operation_of_the_wrong_kind_fails_its_plugin(manager):
    from mdm_core.features.discovery import plugin_custom_features

    class Wrong:
        @hookimpl
        def mdm_custom_features(self, dataset):
            return [lambda df: {}]

    manager.register_plugin(Wrong(), "wrong")
    found = plugin_custom_features(_settings(), "penguins")
    assert found.operations == [] and any("wrong" in p and "CustomOperation" in p for p in found.problems)


MDM1_FILE = """
from mdm.features.custom.base import BaseDomainFeatures

class PenguinsFeatures(BaseDomainFeatures):
    def _register_operations(self):
        self._operation_registry = {"bill_ratio": self.bill_ratio}

    def bill_ratio(self, df):
        return {"bill_ratio": df["bill_length_mm"] / df["bill_depth_mm"]}
"""


@pytest.fixture
def without_legacy_plugin(manager):
    """The plugin manager as if mdm-plugin-legacy were not installed."""
    if manager.pm.get_plugin("legacy") is not None:
        manager.pm.unregister(name="legacy")
    manager.records[:] = [r for r in manager.records if r.distribution != "mdm-plugin-legacy"]
    return manager


def test_an_unserved_1x_file_is_one_warning_naming_the_plugin(home, without_legacy_plugin):
    from mdm_core.features.discovery import custom_producers

    folder = home / "config" / "custom_features"
    folder.mkdir(parents=True)
    (folder / "penguins.py").write_text(MDM1_FILE)
    with capture_logs() as logs:
        assert custom_producers(_settings(), "penguins") == []
    warnings = [e for e in logs if e["log_level"] in ("warning", "error")]
    assert len(warnings) == 1, warnings
    sentence = warnings[0]["event"]
    assert sentence == (f"Custom features file {folder / 'penguins.py'} is an MDM 1.x custom-feature file; "
                        "install mdm-plugin-legacy to run it.")


def test_an_unserved_1x_file_is_the_error_without_skip_on_error(home, without_legacy_plugin):
    from mdm_core.features.discovery import custom_producers
    from mdm_core.features.producers import CustomFeatureLoadError

    folder = home / "config" / "custom_features"
    folder.mkdir(parents=True)
    (folder / "penguins.py").write_text(MDM1_FILE)
    with capture_logs() as logs, pytest.raises(CustomFeatureLoadError) as info:
        custom_producers(_settings(skip_on_error=False), "penguins")
    assert "MDM 1.x custom-feature file; install mdm-plugin-legacy" in str(info.value)
    assert "ModuleNotFoundError" not in str(info.value) and info.value.__cause__ is None
    assert not [e for e in logs if e["log_level"] in ("warning", "error")]  # said once, by the error


def test_a_new_style_file_that_fails_for_another_missing_module_is_reported_as_such(home, without_legacy_plugin):
    from mdm_core.features.discovery import custom_producers

    folder = home / "config" / "custom_features"
    folder.mkdir(parents=True)
    (folder / "penguins.py").write_text("import mdm_nowhere_to_be_found\n")
    with capture_logs() as logs:
        assert custom_producers(_settings(), "penguins") == []
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert len(warnings) == 1 and "mdm_nowhere_to_be_found" in warnings[0]["error"]
    assert "1.x" not in str(warnings[0])
