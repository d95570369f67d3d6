"""Finding the feature engine to run and the custom features to add.

The engine name comes from ``--engine`` or, by default, from the flag
``use_new_features`` (``new`` when on, ``legacy`` when off); :func:`mdm_core.flags.choose`
then picks the implementation of that name. Custom features come from every plugin's
``mdm_custom_features`` hook and from ``<custom_features_dir>/<dataset>.py``.
"""

from __future__ import annotations

from typing import Any

import attrs

from mdm_core.errors import PluginError
from mdm_core.features.custom import CustomFeature
from mdm_core.features.producers import (
    CustomFeatureLoadError,
    Producer,
    dataset_file,
    from_custom_feature,
    load_dataset_file,
)
from mdm_core.flags import Choice, choose
from mdm_core.logging import get_logger

log = get_logger(__name__)

ENGINE_NAMES = ("legacy", "new")


def default_engine_name(settings: Any) -> str:
    """``new`` when ``use_new_features`` is on, else ``legacy``."""
    return "new" if settings.flags.use_new_features else "legacy"


def engine_offers() -> list[tuple[str, Any]]:
    from mdm_core.plugins import get_plugin_manager

    return get_plugin_manager().implementations("features")


def select_engine(settings: Any, engine_name: str | None = None) -> tuple[Choice, Any]:
    """The chosen engine's Choice and a built engine; PluginError when not installed."""
    name = engine_name or default_engine_name(settings)
    offered = engine_offers()
    if not any(impl.name == name for _, impl in offered):
        installed = ", ".join(sorted({impl.name for _, impl in offered})) or "none"
        raise PluginError(
            f"Feature engine '{name}' is not installed (installed: {installed}); "
            f"install mdm-plugin-features-{name} or pick another with --engine."
        )
    choice = choose("features", name, offered, settings.flags)
    return choice, choice.winner.factory(settings)


@attrs.frozen
class PluginFeatures:
    """Custom features offered by plugins, plus the plugins whose hook failed."""

    features: list[tuple[str, CustomFeature]]
    problems: list[str]


def plugin_custom_features() -> PluginFeatures:
    """Every ``CustomFeature`` from the ``mdm_custom_features`` hook, with its plugin; a
    plugin whose hook fails or offers anything else is marked failed by the plugin
    manager and listed in ``problems``."""
    from mdm_core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    found = manager.collect(
        "mdm_custom_features", accept=lambda item: isinstance(item, CustomFeature), expected="a CustomFeature"
    )
    problems = [
        f"plugin '{r.name}': {r.error}" for r in manager.records
        if r.status == "failed" and "mdm_custom_features" in (r.error or "")
    ]
    return PluginFeatures([(plugin, attrs.evolve(f, source=plugin)) for plugin, f in found], problems)


def custom_producers(settings: Any, dataset: str) -> list[Producer]:
    """Producers for ``dataset``: plugin features, then the dataset's own file.

    A file that fails to load is skipped with a warning when
    ``feature_engineering.skip_on_error`` is on and fatal otherwise.
    """
    if not settings.feature_engineering.custom:
        return []
    producers = [from_custom_feature(f, plugin, "plugin") for plugin, f in plugin_custom_features().features]
    path = dataset_file(settings.custom_features_dir, dataset)
    if path.is_file():
        try:
            producers.extend(load_dataset_file(path, dataset))
        except CustomFeatureLoadError as exc:
            if not settings.feature_engineering.skip_on_error:
                raise
            log.warning("custom features file skipped", file=str(path), error=str(exc))
    return producers
