"""Entry point of the MDM 1.x compatibility plugin.

It runs 1.x per-dataset custom-feature files through ``mdm_custom_features``, offers the
legacy generation of the config loader (``mdm_config_loaders``), tells the host when a
home holds unmigrated 1.x data (``mdm_unmigrated_home``), and the legacy generations of
the dataset catalog and storage. Every hook imports its module when called, so loading
the plugin stays cheap.
"""

from __future__ import annotations

from typing import Any

from mdm_core import hookimpl


@hookimpl
def mdm_custom_features(settings: Any, dataset: str | None) -> list[Any]:
    """The operations of ``dataset``'s 1.x custom-feature file, if it has one."""
    from mdm_plugin_legacy.custom_features import dataset_items

    return dataset_items(settings, dataset)


def _load_config(home: Any) -> Any:
    from mdm_plugin_legacy.config_loader import load_legacy_config

    return load_legacy_config(home)


@hookimpl
def mdm_config_loaders() -> list[Any]:
    """The legacy config loader: a 1.x home's mdm.yaml, config.yaml and legacy variables."""
    from mdm_core.hookspecs import Implementation

    return [Implementation(kind="config", name="home", generation="legacy", factory=_load_config,
                           description="MDM 1.x nested mdm.yaml, flat config.yaml, MDM_BACKEND/"
                                       "MDM_BATCH_SIZE/MDM_LOG_LEVEL and MDM_<SECTION>_<KEY>")]


@hookimpl
def mdm_unmigrated_home(home: Any) -> list[str]:
    """Why ``home`` holds unmigrated MDM 1.x data (directory listings only; never raises)."""
    from mdm_plugin_legacy.config_loader import unmigrated_reasons

    return unmigrated_reasons(home)


def _catalog(settings: Any) -> Any:
    from mdm_plugin_legacy.catalog import LegacyCatalog

    return LegacyCatalog(settings)


@hookimpl
def mdm_dataset_catalogs() -> list[Any]:
    """The legacy catalog: the new layout's datasets plus the home's 1.x datasets."""
    from mdm_core.hookspecs import Implementation

    return [Implementation(kind="catalog", name="home", generation="legacy", factory=_catalog,
                           description="new-layout datasets plus MDM 1.x datasets read in place")]


def _storage(name: str) -> Any:
    """The factory of the legacy ``name`` backend: it wraps the installed new one."""

    def factory(settings: Any) -> Any:
        from mdm_core.plugins import get_plugin_manager
        from mdm_plugin_legacy.storage import LegacyStorage

        new = [impl for _, impl in get_plugin_manager().implementations("storage")
               if impl.name == name and impl.generation == "new"]
        return LegacyStorage(name, settings, new[0].factory(settings) if new else None)

    return factory


@hookimpl
def mdm_storage_backends() -> list[Any]:
    """Legacy generations of the three engines: the new backend, plus 1.x databases read in place."""
    from mdm_core.hookspecs import Implementation

    return [
        Implementation(kind="storage", name=name, generation="legacy", factory=_storage(name),
                       description=f"new {name} stores, and MDM 1.x {name} databases read-only in place")
        for name in ("sqlite", "duckdb", "postgresql")
    ]


@hookimpl
def mdm_migration_steps() -> list[Any]:
    """The steps moving a 1.x home to the new layout, one per phase: ``legacy-config``,
    ``legacy-storage``, ``legacy-features``, ``legacy-dataset``, ``legacy-cli`` (imported when
    a migration uses them: listing plugins stays light)."""
    from mdm_core.migration.step import LazyStep

    return [
        LazyStep("legacy-config", "config", "mdm_plugin_legacy.migrate_config:LegacyConfigStep"),
        LazyStep("legacy-storage", "storage", "mdm_plugin_legacy.migrate_storage:LegacyStorageStep"),
        LazyStep("legacy-features", "features", "mdm_plugin_legacy.migrate_features:LegacyFeaturesStep"),
        LazyStep("legacy-dataset", "dataset", "mdm_plugin_legacy.migrate_dataset:LegacyDatasetStep"),
        LazyStep("legacy-cli", "cli", "mdm_plugin_legacy.migrate_cli:LegacyCliStep"),
    ]
