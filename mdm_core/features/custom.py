"""The public API for custom features: ``@custom_feature`` and :class:`CustomFeature`.

A custom feature is a function that takes a pandas DataFrame batch (holding at least its
``input_columns``) and returns a Series of the same length::

    from mdm_core import hookimpl
    from mdm_core.features import custom_feature

    @custom_feature(name="speed_mph", input_columns=["distance", "air_time"])
    def speed_mph(df):
        return df["distance"] / (df["air_time"] / 60)

    @hookimpl
    def mdm_custom_features():
        return [speed_mph]

It applies to every dataset whose featurised tables all have its input columns, is
computed batch by batch (so it must be row-wise: a row's value may depend only on that
row), and its result is cast to ``output_type`` (``float64``, ``int64``, ``bool`` or
``string``; booleans are stored as 0/1 integers).

A :class:`CustomOperation` is the other kind of item the hook may return: a computation
for the one dataset the hook was called for, taking the whole batch and returning
``{column: Series}`` without declaring inputs or outputs (MDM 1.x per-dataset operations
arrive this way through ``mdm-plugin-legacy``). This module is cheap to import.

:func:`register_feature` adds a custom feature for this process only (as MDM 1.x's
``mdm.features.register_feature`` did): registration and ``mdm features regenerate`` run
in this process then compute it for every dataset it applies to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

#: ``output_type`` values and the feature column type each is stored as.
OUTPUT_TYPES = {"float64": "float64", "int64": "int64", "bool": "int64", "string": "string"}


def _check_output_type(_instance: Any, _attribute: Any, value: str) -> None:
    if value not in OUTPUT_TYPES:
        raise ValueError(f"output_type must be one of {sorted(OUTPUT_TYPES)}, got {value!r}")


@attrs.frozen
class CustomFeature:
    """One custom feature column. Calling it calls the wrapped function.

    ``source`` says where it came from (plugin name or file path); when it is empty the
    host fills in the plugin's name. A plugin that reads a per-dataset file sets it to
    that file's path.
    """

    name: str
    func: Callable[[Any], Any]
    input_columns: tuple[str, ...] = attrs.field(converter=tuple)
    output_type: str = attrs.field(default="float64", validator=_check_output_type)
    description: str = ""
    source: str = ""

    def __call__(self, frame: Any) -> Any:
        return self.func(frame)

    def applies_to(self, columns: Sequence[str]) -> bool:
        """Whether every input column is present."""
        present = set(columns)
        return all(c in present for c in self.input_columns)


def custom_feature(
    *,
    name: str | None = None,
    input_columns: Sequence[str],
    output_type: str = "float64",
    description: str | None = None,
) -> Callable[[Callable[[Any], Any]], CustomFeature]:
    """Turn ``func(df) -> Series`` into a :class:`CustomFeature` (see module docstring).

    ``name`` defaults to the function name; ``description`` to its docstring's first line.
    """
    if isinstance(input_columns, str) or not input_columns:
        raise ValueError("input_columns must be a non-empty list of column names")

    def decorate(func: Callable[[Any], Any]) -> CustomFeature:
        doc = (func.__doc__ or "").strip().splitlines()
        return CustomFeature(
            name=name or func.__name__,
            func=func,
            input_columns=tuple(input_columns),
            output_type=output_type,
            description=description if description is not None else (doc[0] if doc else ""),
        )

    return decorate


@attrs.frozen
class CustomOperation:
    """A computation for one dataset that declares neither inputs nor outputs.

    ``func(df) -> dict[str, Series]`` receives every column of a batch and returns its
    feature columns, each Series one value per row (row-wise, like a
    :class:`CustomFeature`). The columns it produces and their types (bool -> ``int64``,
    numbers -> ``float64``, anything else -> ``string``) are found by running it on the
    first rows of the training table; a column it stops returning later is an error. Return
    it from ``mdm_custom_features(settings, dataset)`` only for that ``dataset``.
    ``source`` says where it came from (e.g. ``path/to/file.py:ClassName``); when empty the
    host fills in the plugin's name. ``load_error`` is set by a plugin serving a file it
    could not load (``"<ExceptionType>: <message>"``): ``func`` then raises it, and the
    host's checks (``mdm doctor``, ``mdm-migrate check``) report it without running it.
    """

    name: str
    func: Callable[[Any], dict[str, Any]]
    description: str = ""
    source: str = ""
    load_error: str = ""

    def __call__(self, frame: Any) -> dict[str, Any]:
        return self.func(frame)


_REGISTERED: dict[str, CustomFeature | CustomOperation] = {}


def register_feature(feature: Any) -> CustomFeature | CustomOperation:
    """Register a custom feature for this process and return it.

    ``feature`` is a :class:`CustomFeature` (from ``@custom_feature``), a
    :class:`CustomOperation`, or a plain function ``func(df)`` (the MDM 1.x form): it becomes
    an operation named after the function whose result (a Series, or ``{column: Series}``)
    is its column(s). Registering a name again replaces the earlier one. Raises TypeError for
    anything else."""
    if isinstance(feature, CustomFeature | CustomOperation):
        item, origin = feature, _origin(feature.func)
    elif callable(feature) and hasattr(feature, "__name__"):
        name = feature.__name__
        func = feature

        def columns(frame: Any) -> dict[str, Any]:
            result = func(frame)
            return result if isinstance(result, dict) else {name: result}

        doc = (func.__doc__ or "").strip().splitlines()
        item, origin = CustomOperation(name=name, func=columns, description=doc[0] if doc else ""), _origin(func)
    else:
        raise TypeError(f"register_feature takes a @custom_feature, a CustomOperation or a function, "
                        f"not {type(feature).__name__}")
    if not item.source:
        item = attrs.evolve(item, source=f"register_feature({origin})")
    _REGISTERED[item.name] = item
    return item


def registered_features() -> list[CustomFeature | CustomOperation]:
    """The items of :func:`register_feature` in this process, in registration order."""
    return list(_REGISTERED.values())


def _origin(func: Any) -> str:
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', '?')}"
