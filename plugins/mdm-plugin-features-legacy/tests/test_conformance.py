"""The ``legacy`` (MDM 1.x) engine against the feature-engine conformance suite."""

from __future__ import annotations

import pytest
from mdm_plugin_features_legacy.engine import LegacyFeatureEngine

from mdm_core.config.settings import FeatureEngineeringSettings
from mdm_core.testing.feature_conformance import FeatureEngineConformance


class TestLegacyEngineConformance(FeatureEngineConformance):
    @pytest.fixture
    def engine(self) -> LegacyFeatureEngine:
        return LegacyFeatureEngine(FeatureEngineeringSettings())
