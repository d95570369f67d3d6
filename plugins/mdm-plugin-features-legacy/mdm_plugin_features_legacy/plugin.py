"""Entry point of the legacy feature engine plugin: offers the ``legacy`` engine."""

from __future__ import annotations

from mdm_core import hookimpl
from mdm_core.hookspecs import Implementation


def _make_engine(settings):
    from mdm_plugin_features_legacy.engine import LegacyFeatureEngine

    return LegacyFeatureEngine(settings.feature_engineering)


@hookimpl
def mdm_feature_engines() -> list[Implementation]:
    return [
        Implementation(
            kind="features",
            name="legacy",
            generation="legacy",
            factory=_make_engine,
            description="MDM 1.x feature names; statistics fitted on the whole training table",
        )
    ]
