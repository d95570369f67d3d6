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
