"""Custom-feature producers: what the runner calls for custom features, whatever their
origin (an installed plugin, a per-dataset file, or a 1.x per-dataset file).

A :class:`Producer` takes a pandas DataFrame batch and returns ``{column: Series}``.
Producers made from :class:`~mdm_core.features.custom.CustomFeature` declare their input
columns and output type; 1.x operations declare nothing, so the runner discovers their
outputs by running them on the first rows of the training table.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs

from mdm_core.errors import MDMError
from mdm_core.features.custom import OUTPUT_TYPES, CustomFeature
from mdm_core.features.legacy_shim import BaseDomainFeatures, legacy_modules


class CustomFeatureLoadError(MDMError):
    """A per-dataset custom-feature file could not be loaded."""


@attrs.frozen
class Producer:
    """One custom computation. ``input_columns`` is ``None`` for 1.x operations (they get
    the whole frame); ``outputs`` maps column name to feature dtype when declared."""

    name: str
    source: str
    origin: str  # plugin | file | legacy-file
    call: Callable[[Any], dict]
    input_columns: tuple[str, ...] | None = None
    outputs: dict[str, str] | None = None
    description: str = ""


def from_custom_feature(feature: CustomFeature, source: str, origin: str) -> Producer:
    def call(frame: Any) -> dict:
        return {feature.name: feature.func(frame)}

    return Producer(
        name=feature.name,
        source=source,
        origin=origin,
        call=call,
        input_columns=feature.input_columns,
        outputs={feature.name: OUTPUT_TYPES[feature.output_type]},
        description=feature.description,
    )


def dataset_file(custom_dir: Path, dataset: str) -> Path:
    return custom_dir / f"{dataset}.py"


def load_dataset_file(path: Path, dataset: str) -> list[Producer]:
    """Producers defined in a per-dataset file: module-level ``@custom_feature`` objects,
    and the operations of every ``BaseDomainFeatures`` subclass (1.x files, loaded through
    the compatibility shim when MDM 1.x is not installed)."""
    module_name = f"_mdm_custom_features_{dataset}"
    try:
        with legacy_modules():
            module = ModuleType(module_name)
            module.__file__ = str(path)
            code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
            sys.modules[module_name] = module
            try:
                exec(code, module.__dict__)  # the user's own file, as 1.x did; no .pyc written
            finally:
                sys.modules.pop(module_name, None)
            base = _base_class()
            producers = _module_producers(module, path, dataset, base)
    except Exception as exc:
        raise CustomFeatureLoadError(
            f"Custom features file {path} failed to load: {type(exc).__name__}: {exc}"
        ) from exc
    return producers


def _base_class() -> type:
    module = sys.modules.get("mdm.features.custom.base")
    return getattr(module, "BaseDomainFeatures", BaseDomainFeatures)


def _module_producers(module: Any, path: Path, dataset: str, base: type) -> list[Producer]:
    producers: list[Producer] = []
    for value in vars(module).values():
        if isinstance(value, CustomFeature):
            producers.append(from_custom_feature(value, str(path), "file"))
    for value in vars(module).values():
        if inspect.isclass(value) and issubclass(value, base) and value is not base and not inspect.isabstract(value):
            if value.__module__ != module.__name__:
                continue
            try:
                instance = value(dataset)
            except TypeError:
                instance = value()
            for op_name, op in instance._operation_registry.items():
                producers.append(
                    Producer(
                        name=op_name,
                        source=f"{path}:{value.__name__}",
                        origin="legacy-file",
                        call=_legacy_call(op),
                        description=(inspect.getdoc(op) or "").split("\n")[0],
                    )
                )
    return producers


def _legacy_call(op: Callable[[Any], Any]) -> Callable[[Any], dict]:
    def call(frame: Any) -> dict:
        return dict(op(frame) or {})

    return call
