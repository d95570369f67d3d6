"""Finding the feature engine to run and the custom features to add.

The engine name comes from ``--engine`` or, by default, from the flag
``use_new_features`` (``new`` when on, ``legacy`` when off); :func:`mdm_core.flags.choose`
then picks the implementation of that name. Custom features come from every plugin's
``mdm_custom_features`` hook, from :func:`~mdm_core.features.custom.register_feature` (this
process) and from ``<custom_features_dir>/<dataset>.py``; a per-dataset
file the host cannot run because it imports MDM 1.x's ``mdm`` package is left to plugins
(``mdm-plugin-legacy``), and reported in one sentence when none served it.
:func:`discover_custom_features` lists them all with their status.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from mdm_core.errors import PluginError
from mdm_core.features.custom import CustomFeature, CustomOperation, registered_features
from mdm_core.features.producers import (
    CustomFeatureLoadError,
    MDM1FileError,
    Producer,
    dataset_file,
    from_custom_feature,
    from_custom_operation,
    load_dataset_file,
)
from mdm_core.flags import Choice, choose
from mdm_core.logging import configure_logging, get_logger, is_configured

log = get_logger(__name__)

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
    """Items of the ``mdm_custom_features`` hook, each with its plugin: ``features``
    (:class:`CustomFeature`) and ``operations`` (:class:`CustomOperation`); ``problems``
    names the plugins whose hook failed. An item's ``source`` is the plugin's name unless
    the plugin set one (the file it read)."""

    features: list[tuple[str, CustomFeature]]
    problems: list[str]
    operations: list[tuple[str, CustomOperation]] = attrs.field(factory=list)

    def serve(self, path: Path) -> bool:
        """Whether some item came from the per-dataset file ``path``."""
        prefix = f"{path}:"
        return any(
            item.source == str(path) or item.source.startswith(prefix)
            for _, item in [*self.features, *self.operations]
        )


def plugin_custom_features(settings: Any = None, dataset: str | None = None) -> PluginFeatures:
    """Every item of the ``mdm_custom_features`` hook, called with ``settings`` (loaded
    when not given) and ``dataset`` (``None``: features are listed, not generated). A
    plugin whose hook fails or offers anything else is marked failed by the plugin
    manager and listed in ``problems``."""
    from mdm_core.plugins import get_plugin_manager

    if settings is None:
        from mdm_core.config import load_settings

        settings = load_settings().settings
    manager = get_plugin_manager()
    found = manager.collect(
        "mdm_custom_features",
        accept=lambda item: isinstance(item, (CustomFeature, CustomOperation)),
        expected="a CustomFeature or CustomOperation",
        arguments={"settings": settings, "dataset": dataset},
    )
    problems = [
        f"plugin '{r.name}': {r.error}" for r in manager.records
        if r.status == "failed" and "mdm_custom_features" in (r.error or "")
    ]
    found = [(plugin, item if item.source else attrs.evolve(item, source=plugin)) for plugin, item in found]
    log.debug("custom features of plugins", dataset=dataset, items=[f"{i.name} ({p})" for p, i in found],
              problems=problems)
    return PluginFeatures(
        [(p, i) for p, i in found if isinstance(i, CustomFeature)],
        problems,
        [(p, i) for p, i in found if isinstance(i, CustomOperation)],
    )


def custom_producers(settings: Any, dataset: str) -> list[Producer]:
    """Producers for ``dataset``: plugin items, then the dataset's own file.

    A file that fails to load is skipped with a warning when
    ``feature_engineering.skip_on_error`` is on and fatal otherwise; a plugin that served
    the file (see :meth:`PluginFeatures.serve`) reports its problems itself. An MDM 1.x
    file no plugin served gets one sentence naming mdm-plugin-legacy.
    """
    if not settings.feature_engineering.custom:
        return []
    found = plugin_custom_features(settings, dataset)
    producers = [from_custom_feature(f, f.source, "plugin") for _, f in found.features]
    producers += [from_custom_operation(op, op.source, "plugin") for _, op in found.operations]
    producers += [_registered_producer(item) for item in registered_features()]
    log.debug("custom features found", dataset=dataset, features=[f"{p.name} ({p.source})" for p in producers])
    path = dataset_file(settings.custom_features_dir, dataset)
    if path.is_file():
        try:
            producers.extend(load_dataset_file(path, dataset))
        except CustomFeatureLoadError as exc:
            if found.serve(path):
                log.debug("custom features file served by a plugin", file=str(path), error=str(exc))
                return producers
            if isinstance(exc, MDM1FileError):
                sentence = _mdm1_sentence(path)
                if not settings.feature_engineering.skip_on_error:
                    raise CustomFeatureLoadError(sentence) from None
                log.warning(sentence)
                return producers
            if not settings.feature_engineering.skip_on_error:
                raise
            log.warning("custom features file skipped", file=str(path), error=str(exc))
    return producers


def _registered_producer(item: CustomFeature | CustomOperation) -> Producer:
    if isinstance(item, CustomFeature):
        return from_custom_feature(item, item.source, "registered")
    return from_custom_operation(item, item.source, "registered")


@attrs.frozen
class DiscoveredFeature:
    """One custom feature as :func:`discover_custom_features` found it. ``module`` is where
    it comes from (the file's path, the plugin, or ``register_feature(<module.function>)``);
    ``origin`` is ``file``, ``plugin`` or ``registered``; ``dataset`` the dataset a
    per-dataset file belongs to; ``status`` is ``ok`` or ``failed`` (then ``error`` says why
    and ``name`` is the file's dataset name)."""

    name: str
    module: str
    origin: str
    status: str = "ok"
    dataset: str | None = None
    input_columns: tuple[str, ...] | None = None
    error: str | None = None


def discover_custom_features(settings: Any = None) -> list[DiscoveredFeature]:
    """Every custom feature this process would run: the plugins' (``mdm_custom_features``),
    the registered ones (:func:`~mdm_core.features.custom.register_feature`), and those of
    each ``<custom_features_dir>/<dataset>.py`` of the home, each file loaded (a file that
    fails is one ``failed`` entry naming the error; an MDM 1.x file is listed with what
    the plugin serving it offers). ``settings`` defaults to the home's; logging, if not set
    up yet, is set up from them (``feature_engineering.debug`` logs what is found)."""
    if settings is None:
        from mdm_core.config import load_settings

        settings = load_settings().settings
    if not is_configured():  # a script's first MDM call: quiet, as MDMClient sets it up
        configure_logging("quiet", settings=settings)
    found: list[DiscoveredFeature] = []
    listed = plugin_custom_features(settings)
    for plugin, item in [*listed.features, *listed.operations]:
        found.append(_discovered(item.name, item.source or plugin, "plugin", item))
    for item in registered_features():
        found.append(_discovered(item.name, item.source, "registered", item))
    folder = settings.custom_features_dir
    files = sorted(p for p in folder.glob("*.py") if p.name != "__init__.py") if folder.is_dir() else []
    for path in files:
        dataset = path.stem
        try:
            producers = load_dataset_file(path, dataset)
        except CustomFeatureLoadError as exc:
            items = served_items(settings, path)
            if items:
                found += [_discovered(i.name, i.source, "file", i, dataset) for i in items]
                continue
            error = _mdm1_sentence(path) if isinstance(exc, MDM1FileError) else str(exc)
            found.append(DiscoveredFeature(dataset, str(path), "file", "failed", dataset, error=error))
            continue
        found += [DiscoveredFeature(p.name, p.source, "file", "ok", dataset, p.input_columns) for p in producers]
    log.debug("custom features discovered", folder=str(folder),
              features=[f"{f.name} ({f.module}): {f.status}" for f in found])
    return found


def served_items(settings: Any, path: Path) -> list[Any]:
    """The items a plugin's ``mdm_custom_features`` serves from the per-dataset file
    ``path`` (their ``source`` names it), asked for the dataset ``path`` is named after."""
    served = plugin_custom_features(settings, path.stem)
    return [i for _, i in [*served.features, *served.operations]
            if i.source == str(path) or i.source.startswith(f"{path}:")]


def file_load_error(settings: Any, path: Path) -> str | None:
    """Why the per-dataset custom-feature file ``path`` fails to load, as
    ``"<ExceptionType>: <message>"`` on one line, or None when it loads: the host's own
    loader first, then any plugin serving the file (an MDM 1.x file, through
    mdm-plugin-legacy), whose item carries its ``load_error``."""
    try:
        load_dataset_file(path, path.stem)
        return None
    except CustomFeatureLoadError as exc:
        items = served_items(settings, path)
        if items:
            return next((e for i in items if (e := getattr(i, "load_error", ""))), None)
        cause = exc.__cause__ or exc
        return f"{type(cause).__name__}: {' '.join(str(cause).split())}"


def _discovered(name: str, module: str, origin: str, item: Any, dataset: str | None = None) -> DiscoveredFeature:
    inputs = item.input_columns if isinstance(item, CustomFeature) else None
    return DiscoveredFeature(name, module, origin, "ok", dataset, inputs)


LEGACY_PLUGIN = "mdm-plugin-legacy"


def _mdm1_sentence(path: Path) -> str:
    """The one sentence about a 1.x file no plugin served, by the state of the plugin
    that runs such files."""
    from mdm_core.plugins import get_plugin_manager

    record = next((r for r in get_plugin_manager().records if r.distribution == LEGACY_PLUGIN), None)
    start = f"Custom features file {path} is an MDM 1.x custom-feature file"
    if record is None:
        return f"{start}; install {LEGACY_PLUGIN} to run it."
    if record.status == "disabled":
        return f"{start}; {LEGACY_PLUGIN} runs such files but is disabled (remove '{record.name}' from MDM_DISABLE_PLUGINS)."
    if record.status == "failed":
        return f"{start}; {LEGACY_PLUGIN} runs such files but failed ({record.error})."
    return f"{start}, and {LEGACY_PLUGIN} found no 1.x operations in it."
