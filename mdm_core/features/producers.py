"""Custom-feature producers: what the runner calls for custom features, whatever their
origin (an item of a plugin's ``mdm_custom_features`` hook, or the dataset's own file).

A :class:`Producer` takes a pandas DataFrame batch and returns ``{column: Series}``.
Producers made from a :class:`~mdm_core.features.custom.CustomFeature` declare their input
columns and output type; producers made from a
:class:`~mdm_core.features.custom.CustomOperation` declare nothing, so the runner discovers
their outputs by running them on the first rows of the training table.

The host loads a per-dataset file (``<custom_features_dir>/<dataset>.py``) itself when it
is written for this MDM: its module-level ``@custom_feature`` objects. A file that fails
only because it imports the MDM 1.x package ``mdm`` raises :class:`MDM1FileError`: such
files are left to plugins (``mdm-plugin-legacy`` runs them through the hook).
:func:`exec_file` and :func:`dataset_file` are shared with plugins that read these files.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs

from mdm_core.errors import MDMError
from mdm_core.features.custom import OUTPUT_TYPES, CustomFeature, CustomOperation


class CustomFeatureLoadError(MDMError):
    """A per-dataset custom-feature file could not be loaded."""


class MDM1FileError(CustomFeatureLoadError):
    """A per-dataset file that imports the MDM 1.x package ``mdm``: not the host's to run."""


@attrs.frozen
class Producer:
    """One custom computation. ``input_columns`` is ``None`` for operations (they get the
    whole frame); ``outputs`` maps column name to feature dtype when declared."""

    name: str
    source: str
    origin: str  # plugin | file
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


def from_custom_operation(operation: CustomOperation, source: str, origin: str) -> Producer:
    def call(frame: Any) -> dict:
        return dict(operation.func(frame) or {})

    return Producer(
        name=operation.name, source=source, origin=origin, call=call, description=operation.description
    )


def dataset_file(custom_dir: Path, dataset: str) -> Path:
    """The per-dataset custom-feature file of ``dataset``."""
    return custom_dir / f"{dataset}.py"


def exec_file(path: Path, module_name: str) -> ModuleType:
    """Run the Python file ``path`` as module ``module_name`` and return the module (the
    user's own file, as MDM 1.x did; no ``.pyc`` is written, and the module is in
    ``sys.modules`` only while it runs). Whatever the file raises propagates."""
    module = ModuleType(module_name)
    module.__file__ = str(path)
    code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
    sys.modules[module_name] = module
    try:
        exec(code, module.__dict__)
    finally:
        sys.modules.pop(module_name, None)
    return module


def load_dataset_file(path: Path, dataset: str) -> list[Producer]:
    """Producers of the module-level ``@custom_feature`` objects of a per-dataset file.

    Raises :class:`MDM1FileError` when the file fails only because the MDM 1.x package
    ``mdm`` is not importable, :class:`CustomFeatureLoadError` for any other failure."""
    try:
        module = exec_file(path, f"_mdm_custom_features_{dataset}")
    except ModuleNotFoundError as exc:
        if _is_mdm1(exc.name):
            raise MDM1FileError(f"Custom features file {path} imports {exc.name!r} (MDM 1.x).") from exc
        raise _load_error(path, exc) from exc
    except Exception as exc:
        raise _load_error(path, exc) from exc
    return [
        from_custom_feature(value, str(path), "file")
        for value in vars(module).values()
        if isinstance(value, CustomFeature)
    ]


def _is_mdm1(module: str | None) -> bool:
    return module is not None and (module == "mdm" or module.startswith("mdm."))


def _load_error(path: Path, exc: BaseException) -> CustomFeatureLoadError:
    return CustomFeatureLoadError(
        f"Custom features file {path} failed to load ({type(exc).__name__}: {exc}); fix it (`mdm doctor` "
        "checks it) or move it out of config/custom_features, then run `mdm features regenerate NAME --force`."
    )
