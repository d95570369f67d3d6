"""The fit/transform machinery (mdm_featurekit.units): a failure is confined to the one
feature and column it happened on; declared columns come out in order and type."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from mdm_featurekit import FitGuard, plan_columns, run_units

from mdm_core.features.contract import (
    FeatureComputationError,
    FeatureSpec,
    FeatureUnit,
    FitContext,
    FittedFeatures,
    SourceColumn,
)


def _unit(column: str, *outputs: tuple[str, str]) -> FeatureUnit:
    specs = tuple(FeatureSpec(name, "demo", (column,), dtype) for name, dtype in outputs)
    return FeatureUnit(f"demo:{column}", "demo", "demo", (column,), specs)


def _demo(batch: pa.RecordBatch, unit: FeatureUnit) -> dict[str, pa.Array]:
    x = batch.column(unit.sources[0]).to_numpy(zero_copy_only=False).astype(float)
    with np.errstate(divide="ignore"):
        inverse = 1.0 / x
    out = {}
    for spec in unit.outputs:
        if spec.name.endswith("_boom"):
            raise ValueError("boom")
        out[spec.name] = pa.array(inverse) if spec.dtype == "float64" else pa.array(x.astype(np.int32))
    return out


def test_run_units_casts_declared_types_and_turns_non_finite_into_null():
    batch = pa.record_batch({"x": pa.array([0.0, 2.0])})
    state = FittedFeatures("demo", (_unit("x", ("x_inv", "float64"), ("x_int", "int64")),))
    out = run_units(state, batch, {"demo": _demo})
    assert out.schema == state.schema()
    assert out.column("x_inv").to_pylist() == [None, 0.5]
    assert out.column("x_int").to_pylist() == [0, 2]


def test_a_failing_unit_names_only_its_failing_outputs_and_column():
    batch = pa.record_batch({"x": pa.array([1.0])})
    state = FittedFeatures("demo", (_unit("x", ("x_inv", "float64"), ("x_boom", "float64")),))
    with pytest.raises(FeatureComputationError) as caught:
        run_units(state, batch, {"demo": _demo})
    assert caught.value.names == ("x_boom",) and caught.value.column == "x"
    assert run_units(state.without(["x_boom"]), batch, {"demo": _demo}).column_names == ["x_inv"]


def test_fit_guard_skips_with_a_record_or_raises_naming_the_column():
    def fails():
        raise ValueError("bad value")

    guard = FitGuard(skip_on_error=True)
    assert guard.attempt("demo", "x", fails) == (False, None)
    assert guard.attempt("demo", "y", lambda: 3) == (True, 3)
    assert guard.skipped == [("demo", "x", "ValueError: bad value")]
    with pytest.raises(FeatureComputationError, match="column 'x' failed: ValueError: bad value"):
        FitGuard(skip_on_error=False).attempt("demo", "x", fails)


def test_plan_columns_confines_a_family_failure_to_its_column():
    class Profile:
        failed = {"gone": "ValueError: no statistics"}

    context = FitContext("t", tuple(SourceColumn(n, "numeric") for n in ("a", "b", "gone", "target")),
                         target_column="target")

    def plan(profile, column):
        if column.name == "b":
            raise ValueError("cannot plan b")
        return [_unit(column.name, (f"{column.name}_inv", "float64"))]

    guard = FitGuard(skip_on_error=True)
    units = plan_columns(guard, Profile(), context, [("demo", plan)])
    assert [u.id for u in units] == ["demo:a"]
    assert [(f, c) for f, c, _ in guard.skipped] == [("demo", "b")]
