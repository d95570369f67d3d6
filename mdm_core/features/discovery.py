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
    """Every ``CustomFeature`` from the ``mdm_custom_features`` hook, with its plugin."""
    from mdm_core.plugins import get_plugin_manager

    found: list[tuple[str, CustomFeature]] = []
    problems: list[str] = []
    for impl in get_plugin_manager().pm.hook.mdm_custom_features.get_hookimpls():
        try:
            items = list(impl.function() or ())
        except Exception as exc:  # a third-party hook failing must not stop MDM
            problems.append(f"plugin '{impl.plugin_name}': {type(exc).__name__}: {exc}")
            continue
        for item in items:
            if isinstance(item, CustomFeature):
                found.append((impl.plugin_name, attrs.evolve(item, source=impl.plugin_name)))
            else:
                problems.append(f"plugin '{impl.plugin_name}' returned {type(item).__name__}, not a custom feature")
    for problem in problems:
        log.warning("custom feature problem", problem=problem)
    return PluginFeatures(found, problems)


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
