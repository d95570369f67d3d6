"""Entry point of the new feature engine plugin: offers the ``new`` engine."""

from __future__ import annotations

from mdm_core import hookimpl
from mdm_core.hookspecs import Implementation


def _make_engine(settings):
    from mdm_plugin_features_new.engine import NewFeatureEngine

    return NewFeatureEngine(settings.feature_engineering, compat=settings.flags.feature_compatibility_mode)


@hookimpl
def mdm_feature_engines() -> list[Implementation]:
    return [
        Implementation(
            kind="features",
            name="new",
            generation="new",
            factory=_make_engine,
            description="configurable families (feature_engineering.*), exact streamed statistics",
        )
    ]
