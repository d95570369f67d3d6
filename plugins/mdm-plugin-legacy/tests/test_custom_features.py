"""MDM 1.x per-dataset custom-feature files, run for their dataset through the
``mdm_custom_features`` hook: registration with the plugin (values checked against the
source CSVs), the one sentence without it, what the hook returns, files that fail, files
mixing both styles, and files written for this MDM (left to the host, run once)."""

from __future__ import annotations

import json
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from structlog.testing import capture_logs

from mdm_core.errors import MDMError

SENTENCE = "is an MDM 1.x custom-feature file"
BILL_COLUMNS = ["bill_length_mm", "bill_depth_mm", "bill_ratio"]


def _settings(**feature_engineering):
    import attrs

    from mdm_core.config import load_settings

    settings = load_settings().settings
    return attrs.evolve(
        settings, feature_engineering=attrs.evolve(settings.feature_engineering, **feature_engineering)
    )


def _write(home, dataset: str, source: str):
    folder = home / "config" / "custom_features"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{dataset}.py"
    path.write_text(textwrap.dedent(source))
    return path


@pytest.mark.parametrize("engine", ["default", "legacy"])
def test_1x_file_adds_its_features_at_registration(client, penguins_1x, engine):
    info = client.register_dataset("penguins", penguins_1x, target="species", id_columns=["id"])
    if engine != "default":
        info = client.regenerate_features("penguins", engine=engine)
        assert info.feature_engine == engine

    columns = {t.name: [c.name for c in t.columns] for t in info.tables}
    assert "bill_ratio" in columns["train_features"] and "bill_ratio" in columns["test_features"]
    assert [c for c in columns["train_features"] if c != "species"] == columns["test_features"]
    assert "sample_submission_features" not in columns
    for table in ("train", "test"):
        stored = client.load_arrow("penguins", f"{table}_features", columns=["id", *BILL_COLUMNS]).to_pandas()
        source = pd.read_csv(penguins_1x / f"{table}.csv")
        assert stored["id"].tolist() == source["id"].tolist()
        expected = source["bill_length_mm"] / source["bill_depth_mm"]
        np.testing.assert_allclose(stored["bill_ratio"].to_numpy(float), expected.to_numpy(float), rtol=1e-12)
        assert stored["bill_ratio"].isna().tolist() == expected.isna().tolist()  # missing bills stay missing
    assert "mdm" not in sys.modules  # the stand-in leaves nothing behind


def test_hook_offers_one_operation_per_1x_operation_for_its_dataset_only(home, penguins_1x):
    from mdm_core.features.discovery import plugin_custom_features

    path = home / "config" / "custom_features" / "penguins.py"
    settings = _settings()
    found = plugin_custom_features(settings, "penguins")
    assert [(plugin, op.name, op.source) for plugin, op in found.operations] == [
        ("legacy", "bill_ratio", f"{path}:PenguinsFeatures")
    ]
    assert found.serve(path)
    assert plugin_custom_features(settings, None).operations == []  # listing: nothing per dataset
    assert plugin_custom_features(settings, "weather").operations == []  # no file for it
    assert "mdm" not in sys.modules


def _register_cli(mdm_subprocess, folder, **env):
    return mdm_subprocess(["dataset", "register", "penguins", str(folder), "--target", "species",
                           "--id-columns", "id", "--format", "json"], env=env)


def test_without_the_plugin_one_sentence_and_registration_goes_on(home, penguins_1x, mdm_subprocess):
    result = _register_cli(mdm_subprocess, penguins_1x, MDM_DISABLE_PLUGINS="legacy")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count(SENTENCE) == 1, result.stderr
    line = next(line for line in result.stderr.splitlines() if SENTENCE in line)
    assert "penguins.py" in line and "mdm-plugin-legacy" in line and "MDM_DISABLE_PLUGINS" in line
    assert "Traceback" not in result.stderr

    info = mdm_subprocess(["dataset", "info", "penguins", "--format", "json"])
    assert info.returncode == 0, info.stderr
    assert "bill_ratio" not in info.stdout and "train_features" in info.stdout


def test_without_the_plugin_and_skip_on_error_off_registration_fails_cleanly(home, penguins_1x, mdm_subprocess):
    result = _register_cli(mdm_subprocess, penguins_1x, MDM_DISABLE_PLUGINS="legacy",
                           MDM_FEATURE_ENGINEERING_SKIP_ON_ERROR="false")
    assert result.returncode == 1
    assert result.stderr.count(SENTENCE) == 1 and result.stderr.count("mdm-plugin-legacy") == 1, result.stderr
    assert "Traceback" not in result.stderr
    listing = mdm_subprocess(["dataset", "list", "--format", "json"])
    assert listing.returncode == 0, listing.stderr
    assert "penguins" not in listing.stdout
    assert not (home / "datasets" / "penguins").exists()


BROKEN = """
    from mdm.features.custom.base import BaseDomainFeatures

    RATIO = 1 / 0

    class Broken(BaseDomainFeatures):
        def _register_operations(self):
            self._operation_registry = {}
"""


def test_a_failing_1x_file_is_reported_once_and_skipped(home, penguins_1x, client):
    from mdm_core.features.discovery import custom_producers

    path = _write(home, "penguins", BROKEN)
    assert [p.name for p in custom_producers(_settings(), "penguins")] == ["penguins.py"]  # raises when run
    with capture_logs() as logs:
        info = client.register_dataset("penguins", penguins_1x, target="species", id_columns=["id"])
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert len(warnings) == 1, warnings
    said = json.dumps(warnings[0], default=str)
    assert str(path) in said and "ZeroDivisionError" in said
    assert "train_features" in [t.name for t in info.tables]
    assert "mdm" not in sys.modules


def test_a_failing_1x_file_stops_registration_without_skip_on_error(home, penguins_1x, monkeypatch):
    from mdm_core.datasets.client import MDMClient

    _write(home, "penguins", BROKEN)
    monkeypatch.setenv("MDM_FEATURE_ENGINEERING_SKIP_ON_ERROR", "false")
    client = MDMClient()
    with pytest.raises(MDMError, match=r"penguins\.py.*ZeroDivisionError"):
        client.register_dataset("penguins", penguins_1x, target="species", id_columns=["id"])
    assert not client.dataset_exists("penguins")


MIXED = """
    from mdm.features.custom.base import BaseDomainFeatures
    from mdm_core.features import custom_feature

    @custom_feature(name="mass_kg", input_columns=["body_mass_g"])
    def mass_kg(df):
        return df["body_mass_g"] / 1000

    class Features(BaseDomainFeatures):
        def _register_operations(self):
            self._operation_registry = {"flipper_cm": self.flipper_cm, "both": self.both}

        def flipper_cm(self, df):
            \"\"\"Flipper length in centimetres.\"\"\"
            return {"flipper_cm": df["flipper_length_mm"] / 10}

        def both(self, df):
            return {"is_heavy": df["body_mass_g"] > 4000, "island_upper": df["island"].str.upper()}
"""


def test_a_file_mixing_both_styles_gives_all_its_features(home, penguins_1x, client):
    path = _write(home, "penguins", MIXED)
    from mdm_core.features.discovery import custom_producers

    producers = {p.name: p for p in custom_producers(_settings(), "penguins")}
    assert set(producers) == {"mass_kg", "flipper_cm", "both"}
    assert producers["mass_kg"].source == str(path) and producers["mass_kg"].input_columns == ("body_mass_g",)
    assert producers["flipper_cm"].source == f"{path}:Features"
    assert producers["flipper_cm"].description == "Flipper length in centimetres."

    client.register_dataset("penguins", penguins_1x, target="species", id_columns=["id"])
    test = client.load_arrow("penguins", "test_features").to_pandas()
    source = pd.read_csv(penguins_1x / "test.csv")
    np.testing.assert_allclose(test["mass_kg"], source["body_mass_g"] / 1000)
    np.testing.assert_allclose(test["flipper_cm"], source["flipper_length_mm"] / 10)
    heavy = source["body_mass_g"] > 4000
    assert test["is_heavy"].tolist() == heavy.astype(int).tolist()  # booleans stored as 0/1
    assert test["island_upper"].tolist() == source["island"].str.upper().tolist()


NEW_STYLE = """
    from pathlib import Path
    from mdm_core.features import custom_feature

    with open(Path(__file__).with_suffix(".runs"), "a") as marker:
        marker.write("ran\\n")

    @custom_feature(name="mass_kg", input_columns=["body_mass_g"])
    def mass_kg(df):
        return df["body_mass_g"] / 1000
"""


def test_a_file_written_for_this_mdm_is_left_to_the_host_and_run_once(home):
    from mdm_plugin_legacy.custom_features import dataset_items, imports_legacy_package

    from mdm_core.features.discovery import custom_producers, plugin_custom_features

    path = _write(home, "flights", NEW_STYLE)
    settings = _settings()
    assert not imports_legacy_package(path)
    assert dataset_items(settings, "flights") == []
    assert not plugin_custom_features(settings, "flights").serve(path)
    producers = custom_producers(settings, "flights")
    assert [(p.name, p.origin, p.source) for p in producers] == [("mass_kg", "file", str(path))]
    assert path.with_suffix(".runs").read_text() == "ran\n"


@pytest.mark.parametrize("line", [
    "import mdm", "import mdm.features.custom.base as base", "from mdm import features",
    "from mdm.features.custom.base import BaseDomainFeatures", "if False:\n    import mdm.utils",
])
def test_imports_of_the_1x_package_are_recognised(tmp_path, line):
    from mdm_plugin_legacy.custom_features import imports_legacy_package

    path = tmp_path / "x.py"
    path.write_text(line + "\n")
    assert imports_legacy_package(path)


@pytest.mark.parametrize("line", ["import mdm_core", "from mdm_core.features import custom_feature",
                                  "from . import mdm", "import mdmx", "this is not python ("])
def test_other_imports_are_not_the_plugins(tmp_path, line):
    from mdm_plugin_legacy.custom_features import imports_legacy_package

    path = tmp_path / "x.py"
    path.write_text(line + "\n")
    assert not imports_legacy_package(path)
