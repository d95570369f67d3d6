"""Operating MDM: system metrics and the operations history (``monitor``), the benchmark
(``benchmark``) and the settings tuner (``tuner``). Loaded lazily: importing this package
imports none of them."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "get_monitor": "mdm_core.performance.monitor",
    "PerformanceMonitor": "mdm_core.performance.monitor",
    "PerformanceBenchmark": "mdm_core.performance.benchmark",
    "PerformanceTuner": "mdm_core.performance.tuner",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
