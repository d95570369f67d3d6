"""The fit/transform machinery both bundled engines are built on, for any engine.

An engine describes its features as :class:`~mdm_core.features.contract.FeatureUnit`
computations, each naming an *op* (a function of a batch and the unit). In ``fit``,
:class:`FitGuard` and :func:`plan_columns` confine a failure to the one feature and column
it happened on (skipped with a warning under ``feature_engineering.skip_on_error``), so a
value no feature can handle never stops the others; in ``transform``, :func:`run_units`
runs the ops and assembles the declared columns, with the same confinement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from mdm_core.features.contract import (
    FeatureComputationError,
    FeatureUnit,
    FitContext,
    FittedFeatures,
    SourceColumn,
)
from mdm_core.logging import get_logger

log = get_logger(__name__)


class FitGuard:
    """Where one feature's (or one column's) fitting fails, skip just that with a warning
    naming it when ``skip_on_error`` is on, else raise :class:`FeatureComputationError`.

    Engines wrap each per-column step of ``fit`` in :meth:`attempt` so that one column a
    feature cannot handle never stops the others. ``skipped`` lists what was skipped."""

    def __init__(self, skip_on_error: bool) -> None:
        self.skip_on_error = skip_on_error
        self.skipped: list[tuple[str, str | None, str]] = []

    def attempt(self, feature: str, column: str | None, fn: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
        """``(True, fn(*args))``, or ``(False, None)`` when it raised and was skipped."""
        try:
            return True, fn(*args)
        except FeatureComputationError:
            raise
        except Exception as exc:  # one feature's own failure: attributed, then skipped or raised
            self.failed(feature, column, exc)
            return False, None

    def failed(self, feature: str, column: str | None, exc: BaseException) -> None:
        """Record that ``feature`` failed on ``column`` with ``exc``: a warning and an entry
        in ``skipped``, or :class:`FeatureComputationError` when not ``skip_on_error``."""
        if not self.skip_on_error:
            raise FeatureComputationError(feature, (), exc, column) from exc
        error = f"{type(exc).__name__}: {exc}"
        log.warning("feature failed while fitting; skipped", feature=feature, column=column, error=error)
        self.skipped.append((feature, column, error))


#: An op: ``op(batch, unit)`` returns output name -> array for (at least) the unit's outputs.
UnitOp = Callable[[pa.RecordBatch, FeatureUnit], Mapping[str, pa.Array]]
#: A family's plan for one column: ``plan(profile, column)`` returns its units (maybe none).
ColumnPlan = Callable[[Any, SourceColumn], list[FeatureUnit]]


def plan_columns(guard: FitGuard, profile: Any, context: FitContext,
                 families: Sequence[tuple[str, ColumnPlan]]) -> list[FeatureUnit]:
    """Units of every featurable column in table order, per column in ``families``
    order: ``plan(profile, column)`` of each family, each call under ``guard`` (a family
    failing on one column skips just that), columns whose statistics failed
    (``profile.failed``) left out."""
    failed = getattr(profile, "failed", {})
    units: list[FeatureUnit] = []
    for column in context.feature_columns():
        if column.name in failed:
            continue
        for family, plan in families:
            ok, planned = guard.attempt(family, column.name, plan, profile, column)
            if ok:
                units.extend(planned)
    return units


def run_units(state: FittedFeatures, batch: pa.RecordBatch, ops: Mapping[str, UnitOp]) -> pa.RecordBatch:
    """Compute every unit of ``state`` on ``batch`` with ``ops[unit.op]`` and assemble the
    declared columns in order, cast to their declared types.

    An op returns a mapping of output name to array for (at least) the unit's outputs.
    Any exception becomes :class:`FeatureComputationError` naming the unit, its source
    column and the outputs that fail (each output is retried alone, so an op computing
    only the outputs it is given loses just the failing ones).
    """
    arrays: list[pa.Array] = []
    fields: list[pa.Field] = []
    for unit in state.units:
        try:
            arrays.extend(_unit_arrays(unit, batch, ops))
        except FeatureComputationError:
            raise
        except Exception as exc:  # a unit's own failure, reported with its name
            names = _failing_outputs(unit, batch, ops) or [s.name for s in unit.outputs]
            column = unit.sources[0] if len(unit.sources) == 1 else None
            raise FeatureComputationError(unit.id, names, exc, column) from exc
        fields.extend(pa.field(spec.name, spec.arrow_type) for spec in unit.outputs)
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def _unit_arrays(unit: FeatureUnit, batch: pa.RecordBatch, ops: Mapping[str, UnitOp]) -> list[pa.Array]:
    produced = ops[unit.op](batch, unit)
    arrays = []
    for spec in unit.outputs:
        array = produced[spec.name]
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        if array.type != spec.arrow_type:
            array = array.cast(spec.arrow_type)
        if spec.dtype == "float64" and array.null_count < len(array):
            array = _finite_or_null(array)
        if len(array) != batch.num_rows:
            raise ValueError(f"produced {len(array)} values for {batch.num_rows} rows")
        arrays.append(array)
    return arrays


def _failing_outputs(unit: FeatureUnit, batch: pa.RecordBatch, ops: Mapping[str, UnitOp]) -> list[str]:
    """The outputs of ``unit`` that fail when computed one by one."""
    if len(unit.outputs) < 2:
        return []
    failing = []
    for spec in unit.outputs:
        try:
            _unit_arrays(attrs.evolve(unit, outputs=(spec,)), batch, ops)
        except Exception:  # this output fails on its own
            failing.append(spec.name)
    return failing


def _finite_or_null(array: pa.Array) -> pa.Array:
    """NaN and infinities become nulls, so every backend stores the same thing."""
    ok = pc.is_finite(array)
    if pc.all(ok).as_py() is not False:
        return array
    return pc.if_else(ok, array, pa.scalar(None, array.type))
