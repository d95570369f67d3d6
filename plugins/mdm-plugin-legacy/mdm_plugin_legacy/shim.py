"""A stand-in for MDM 1.x's ``mdm.features.custom.base`` so 1.x custom-feature files load
without the old package installed (:mod:`mdm_plugin_legacy.custom_features` uses it).

1.x files subclass ``BaseDomainFeatures`` and fill ``self._operation_registry`` (name ->
function(DataFrame) -> dict[str, Series]) in ``_register_operations()``. The stand-in
provides that contract: ``__init__(dataset_name, min_signal_ratio=0.01)`` sets
``dataset_name`` and an empty registry then calls ``_register_operations()``;
``get_available_operations()`` and ``generate_all_features(df)`` behave as in 1.x.
:func:`legacy_modules` puts it in ``sys.modules`` only while a file is imported, and only
when a real ``mdm`` package is not importable.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

SHIM_MODULE = "mdm.features.custom.base"


class BaseDomainFeatures:
    """The 1.x base class of per-dataset custom features (compatibility stand-in)."""

    def __init__(self, dataset_name: str, min_signal_ratio: float = 0.01) -> None:
        self.dataset_name = dataset_name
        self.min_signal_ratio = min_signal_ratio
        self._operation_registry: dict[str, Callable[[Any], dict]] = {}
        self._register_operations()

    def _register_operations(self) -> None:
        """Subclasses fill ``self._operation_registry``."""

    def get_available_operations(self) -> list[str]:
        return list(self._operation_registry)

    def generate_all_features(self, df: Any) -> dict:
        """Every operation's outputs merged (later operations win on equal names)."""
        features: dict = {}
        for operation in self._operation_registry.values():
            features.update(operation(df) or {})
        return features


def real_mdm_available() -> bool:
    """Whether an installed MDM 1.x provides ``mdm.features.custom.base``."""
    if "mdm" in sys.modules and not getattr(sys.modules["mdm"], "__mdm_shim__", False):
        return True
    try:
        return importlib.util.find_spec("mdm") is not None and importlib.util.find_spec(SHIM_MODULE) is not None
    except (ImportError, ValueError):
        return False


def base_class() -> type:
    """The ``BaseDomainFeatures`` in force: the real 1.x one when MDM 1.x is importable
    (inside :func:`legacy_modules`), else the stand-in."""
    module = sys.modules.get(SHIM_MODULE)
    return getattr(module, "BaseDomainFeatures", BaseDomainFeatures)


@contextmanager
def legacy_modules() -> Iterator[bool]:
    """Provide the stand-in modules while the block runs; yields whether they were added.
    Modules that were already present are left alone and nothing is left behind."""
    if real_mdm_available():
        yield False
        return
    names = ["mdm", "mdm.features", "mdm.features.custom", SHIM_MODULE]
    added = []
    for name in names:
        if name in sys.modules:
            continue
        module = ModuleType(name)
        module.__mdm_shim__ = True  # type: ignore[attr-defined]
        if name != SHIM_MODULE:
            module.__path__ = []  # type: ignore[attr-defined]
        sys.modules[name] = module
        added.append(name)
    base = sys.modules[SHIM_MODULE]
    base.BaseDomainFeatures = BaseDomainFeatures  # type: ignore[attr-defined]
    sys.modules["mdm.features.custom"].base = base  # type: ignore[attr-defined]
    sys.modules["mdm.features"].custom = sys.modules["mdm.features.custom"]  # type: ignore[attr-defined]
    sys.modules["mdm"].features = sys.modules["mdm.features"]  # type: ignore[attr-defined]
    try:
        yield True
    finally:
        for name in added:
            sys.modules.pop(name, None)
