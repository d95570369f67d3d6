"""Migration of an MDM home between formats and engines, phase by phase."""

PHASES = ("config", "storage", "features", "dataset", "cli")
