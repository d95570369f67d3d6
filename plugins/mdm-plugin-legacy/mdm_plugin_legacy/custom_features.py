"""MDM 1.x per-dataset custom-feature files, run through the custom-feature hook.

A 1.x file, ``<custom_features_dir>/<dataset>.py``, imports
``mdm.features.custom.base.BaseDomainFeatures`` and subclasses it; the subclass fills
``self._operation_registry`` (name -> ``function(DataFrame) -> dict[str, Series]``) in
``_register_operations()``. The host cannot run such a file (it does not provide the 1.x
package ``mdm``); :func:`dataset_items` does, for the dataset the hook is called for:

- only files that import ``mdm`` are touched (read with :mod:`ast`, not run), so a file
  written for this MDM is run once, by the host;
- the file runs with the stand-in :mod:`mdm_plugin_legacy.shim` in place (the real
  ``mdm`` package when MDM 1.x is installed), and the stand-in is gone afterwards;
- every operation of every ``BaseDomainFeatures`` subclass the file defines becomes a
  :class:`~mdm_core.features.custom.CustomOperation` (``source``
  ``<path>:<ClassName>``), in registry order; module-level ``@custom_feature`` objects of
  the file come along unchanged (``source`` ``<path>``);
- a file that fails to run (or whose class fails to build) becomes one operation named
  after the file that raises the error when it is run, so the host reports it once,
  like any failing feature (skipped with a warning, or fatal without
  ``feature_engineering.skip_on_error``), and the plugin itself stays loaded.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from mdm_core.features.custom import CustomFeature, CustomOperation
from mdm_core.features.producers import dataset_file, exec_file
from mdm_core.logging import get_logger
from mdm_plugin_legacy.shim import base_class, legacy_modules

log = get_logger(__name__)

#: The 1.x package a 1.x custom-feature file imports.
LEGACY_PACKAGE = "mdm"


class LegacyFileError(Exception):
    """A 1.x custom-feature file could not be run."""


def dataset_items(settings: Any, dataset: str | None) -> list[CustomFeature | CustomOperation]:
    """The items of ``dataset``'s 1.x custom-feature file (none when ``dataset`` is
    ``None``, when there is no file, or when the file does not import ``mdm``)."""
    if dataset is None or settings is None:
        return []
    path = dataset_file(settings.custom_features_dir, dataset)
    if not path.is_file() or not imports_legacy_package(path):
        return []
    try:
        items = load_legacy_file(path, dataset)
    except Exception as exc:  # the user's file: reported through the host, once
        return [_failing_file(path, exc)]
    if not items:
        log.info("1.x custom features file defines no operations", file=str(path))
    return items


def imports_legacy_package(path: Path) -> bool:
    """Whether the file at ``path`` imports ``mdm`` or a submodule (an absolute import
    anywhere in it). A file that cannot be read or parsed is the host's to report."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except (OSError, SyntaxError, ValueError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if any(n == LEGACY_PACKAGE or n.startswith(f"{LEGACY_PACKAGE}.") for n in names):
            return True
    return False


def load_legacy_file(path: Path, dataset: str) -> list[CustomFeature | CustomOperation]:
    """Run the 1.x file at ``path`` with the stand-in in place and return its items (see
    module docstring); whatever the file or a class constructor raises propagates."""
    with legacy_modules():
        module = exec_file(path, f"_mdm_legacy_custom_features_{dataset}")
        base = base_class()
        items: list[CustomFeature | CustomOperation] = [
            attrs.evolve(value, source=str(path)) for value in vars(module).values()
            if isinstance(value, CustomFeature)
        ]
        for cls in _feature_classes(module, base):
            items.extend(_operations(cls, path, dataset))
    return items


def _feature_classes(module: Any, base: type) -> list[type]:
    """The ``BaseDomainFeatures`` subclasses defined by the file itself (not imported)."""
    return [
        value for value in vars(module).values()
        if inspect.isclass(value) and issubclass(value, base) and value is not base
        and not inspect.isabstract(value) and value.__module__ == module.__name__
    ]


def _operations(cls: type, path: Path, dataset: str) -> list[CustomOperation]:
    try:
        instance = cls(dataset)
    except TypeError:
        instance = cls()
    registry = getattr(instance, "_operation_registry", None) or {}
    return [
        CustomOperation(
            name=str(name),
            func=_as_dict(operation),
            description=(inspect.getdoc(operation) or "").split("\n")[0],
            source=f"{path}:{cls.__name__}",
        )
        for name, operation in registry.items()
    ]


def _as_dict(operation: Callable[[Any], Any]) -> Callable[[Any], dict]:
    def call(frame: Any) -> dict:
        return dict(operation(frame) or {})

    return call


def _failing_file(path: Path, exc: BaseException) -> CustomOperation:
    error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    reason = f"the MDM 1.x file failed to load: {error}"

    def fail(_frame: Any) -> dict:
        raise LegacyFileError(reason)

    return CustomOperation(name=path.name, func=fail, description=reason, source=str(path), load_error=error)
