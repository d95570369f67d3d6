"""The ``new`` engine against the feature-engine conformance suite, with its defaults and
with every family switched on."""

from __future__ import annotations

import attrs
import pytest
from mdm_plugin_features_new.engine import NewFeatureEngine

from mdm_core.config.settings import FeatureEngineeringSettings, NumericFeatureSettings
from mdm_core.testing.feature_conformance import FeatureEngineConformance


class TestNewEngineConformance(FeatureEngineConformance):
    @pytest.fixture
    def engine(self) -> NewFeatureEngine:
        return NewFeatureEngine(FeatureEngineeringSettings())


class TestNewEngineEverythingOnConformance(FeatureEngineConformance):
    @pytest.fixture
    def engine(self) -> NewFeatureEngine:
        numeric = NumericFeatureSettings(sqrt=True, zscore=True, percentile=True, div_mean=True)
        return NewFeatureEngine(attrs.evolve(FeatureEngineeringSettings(), numeric=numeric), compat=True)
