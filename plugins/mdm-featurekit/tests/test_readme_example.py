"""The engine in the README works: it passes the host's feature-engine conformance suite."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mdm_core.config.settings import FeatureEngineeringSettings
from mdm_core.testing.feature_conformance import FeatureEngineConformance

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_engine():
    code = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)[0]
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    return namespace["MyEngine"]


class TestReadmeEngineConformance(FeatureEngineConformance):
    @pytest.fixture
    def engine(self):
        return _readme_engine()(FeatureEngineeringSettings())
