"""The contract between the host and a feature engine plugin.

An engine turns the columns of a table into feature columns in two steps:

``fit(batches, context)``
    streams once over the record batches of the *training* table (in table order) and
    returns a :class:`FittedFeatures`: the exact list of feature columns it will produce
    (:class:`FeatureSpec`, grouped in :class:`FeatureUnit` computations) with every
    statistic they need (means, category levels, bin edges...). Fitted values must not
    depend on how the table was cut into batches.
``transform(state, batch)``
    computes the feature columns of one batch of *any* table with that state and returns
    an Arrow RecordBatch whose columns are exactly ``state.features`` in order, with
    their declared types. It is row-wise given the state, so a value never depends on
    which batch its row arrived in, and train/test get the same columns. Columns listed
    in a state that the host narrowed with :meth:`FittedFeatures.without` are not
    computed. A unit that fails raises :class:`FeatureComputationError` naming it.
``families()``
    describes what the engine can produce, for ``mdm features list`` and the docs.

Engines never see the target column in ``transform`` (it is absent from test tables),
and id/target columns get no features. :func:`run_units` is the shared transform driver;
in ``fit``, :class:`FitGuard` and :func:`plan_columns` confine a failure to the one
feature and column it happened on (skipped with a warning under
``feature_engineering.skip_on_error``), so a value no feature can handle never stops the
others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from mdm_core.errors import MDMError
from mdm_core.logging import get_logger

log = get_logger(__name__)

#: Arrow types a feature column may declare (what every backend stores natively).
FEATURE_TYPES = {"float64": pa.float64(), "int64": pa.int64(), "string": pa.string()}


@attrs.frozen
class SourceColumn:
    """A column of the training table as the engine sees it: name and semantic kind
    (``numeric``, ``boolean``, ``datetime``, ``categorical``, ``text``, ``id``)."""

    name: str
    kind: str


@attrs.frozen
class FitContext:
    """What an engine knows about the training table before streaming it.

    ``columns`` are all columns in table order; ``target_column`` and ``id_columns`` get
    no features; ``head`` holds the first rows of the table (the same whatever the batch
    size), for decisions such as a date format; ``row_count`` may be ``None``.
    """

    table: str
    columns: tuple[SourceColumn, ...]
    target_column: str | None = None
    id_columns: tuple[str, ...] = ()
    head: pa.Table | None = None
    row_count: int | None = None

    def feature_columns(self, kind: str | None = None) -> list[SourceColumn]:
        """Columns that may get features (not target, not id), optionally of one kind."""
        excluded = set(self.id_columns) | ({self.target_column} if self.target_column else set())
        return [
            c for c in self.columns
            if c.name not in excluded and c.kind != "id" and (kind is None or c.kind == kind)
        ]


@attrs.frozen
class FeatureSpec:
    """One feature column: its name, family, the source columns it reads and its type
    (a key of :data:`FEATURE_TYPES`)."""

    name: str
    family: str
    sources: tuple[str, ...]
    dtype: str = "float64"

    @property
    def arrow_type(self) -> pa.DataType:
        return FEATURE_TYPES[self.dtype]


@attrs.frozen
class FeatureUnit:
    """One computation that yields one or more feature columns from the same inputs.

    ``op`` names the engine function that computes it, ``params`` holds its fitted state
    (plain values and numpy arrays), ``outputs`` its feature columns in order.
    """

    id: str
    family: str
    op: str
    sources: tuple[str, ...]
    outputs: tuple[FeatureSpec, ...]
    params: Mapping[str, Any] = attrs.field(factory=dict, eq=False)


@attrs.frozen
class FittedFeatures:
    """The fitted state of an engine for one dataset: units in output order."""

    engine: str
    units: tuple[FeatureUnit, ...]

    @property
    def features(self) -> list[FeatureSpec]:
        return [spec for unit in self.units for spec in unit.outputs]

    @property
    def names(self) -> list[str]:
        return [spec.name for spec in self.features]

    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(s.name, s.arrow_type) for s in self.features])

    def without(self, names: Iterable[str]) -> FittedFeatures:
        """The same state minus the named feature columns (units left empty disappear)."""
        drop = set(names)
        units = []
        for unit in self.units:
            kept = tuple(s for s in unit.outputs if s.name not in drop)
            if kept:
                units.append(attrs.evolve(unit, outputs=kept))
        return FittedFeatures(self.engine, tuple(units))


@attrs.frozen
class FamilyInfo:
    """A feature family for ``mdm features list``: what it produces from which columns,
    and the config keys that switch and tune it."""

    name: str
    description: str
    column_kinds: tuple[str, ...]
    produces: tuple[str, ...]
    config_keys: tuple[str, ...] = ()


class FeatureComputationError(MDMError):
    """A feature unit (or custom feature) failed; ``names`` are the columns it makes,
    ``column`` the source column it was computing from, when there is one."""

    def __init__(self, feature: str, names: Sequence[str], cause: BaseException, column: str | None = None) -> None:
        self.feature = feature
        self.names = tuple(names)
        self.cause = cause
        self.column = column
        where = f" on column '{column}'" if column is not None else ""
        super().__init__(f"Feature '{feature}'{where} failed: {type(cause).__name__}: {cause}")


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
        if not self.skip_on_error:
            raise FeatureComputationError(feature, (), exc, column) from exc
        error = f"{type(exc).__name__}: {exc}"
        log.warning("feature failed while fitting; skipped", feature=feature, column=column, error=error)
        self.skipped.append((feature, column, error))


@runtime_checkable
class FeatureEngine(Protocol):
    """A feature engine (see the module docstring for the contract)."""

    name: str

    def families(self) -> list[FamilyInfo]: ...

    def fit(self, batches: Iterable[pa.RecordBatch], context: FitContext) -> FittedFeatures: ...

    def transform(self, state: FittedFeatures, batch: pa.RecordBatch) -> pa.RecordBatch: ...


UnitOp = Callable[[pa.RecordBatch, FeatureUnit], Mapping[str, pa.Array]]
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
