"""Feature column names: ``<column>__<feature>`` normally; with the flag
``feature_compatibility_mode`` on, the MDM 1.x name wherever the feature has one."""

from __future__ import annotations

import attrs

from mdm_core.features.contract import FeatureSpec


@attrs.frozen
class Namer:
    compat: bool

    def name(self, column: str, feature: str, legacy: str | None = None) -> str:
        if self.compat and legacy is not None:
            return f"{column}_{legacy}"
        return f"{column}__{feature}"

    def spec(self, family: str, column: str, feature: str, legacy: str | None, dtype: str) -> FeatureSpec:
        return FeatureSpec(self.name(column, feature, legacy), family, (column,), dtype)
