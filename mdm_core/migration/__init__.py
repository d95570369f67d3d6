"""Migration of an MDM home between formats and engines, phase by phase."""

PHASES = ("config", "storage", "features", "dataset", "cli")

#: The flag each phase flips when all its units are done and verified.
PHASE_FLAGS = {
    "config": "use_new_config",
    "storage": "use_new_storage",
    "features": "use_new_features",
    "dataset": "use_new_dataset",
    "cli": "use_new_cli",
}

#: The guide's Python API (:mod:`mdm_core.migration.api`), imported on first use so that
#: ``import mdm_core.migration`` stays light.
_API = ("ConfigMigrator", "StorageMigrator", "DataValidator", "RollbackManager", "DatasetDiscovery",
        "MigrationCleanup", "MigrationResult", "ValidationReport")
#: The same, from the report and readiness modules, and the legacy-vs-new tools of
#: :mod:`mdm_core.testing` (full module names).
_MODULES = {**dict.fromkeys(_API, "api"), "MigrationMonitor": "report", "MigrationTestSuite": "readiness",
            "StorageComparisonTester": "mdm_core.testing.storage_comparison",
            "IntegrationTestFramework": "mdm_core.testing.selftest"}

__all__ = ["PHASES", "PHASE_FLAGS", *_MODULES]


def __getattr__(name: str):
    if name in _MODULES:
        import importlib

        module = _MODULES[name]
        return getattr(importlib.import_module(module if "." in module else f"{__name__}.{module}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
