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
and id/target columns get no features. This module is the whole contract: the host never
computes a feature. What the bundled engines share to honour it (exact streaming
statistics, datetime handling, the fit/transform machinery that confines a failure to one
feature and column) is the separate distribution ``mdm-featurekit`` (``mdm_featurekit``),
a toolkit any engine may use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import attrs
import pyarrow as pa

from mdm_core.errors import MDMError

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


@runtime_checkable
class FeatureEngine(Protocol):
    """A feature engine (see the module docstring for the contract)."""

    name: str

    def families(self) -> list[FamilyInfo]: ...

    def fit(self, batches: Iterable[pa.RecordBatch], context: FitContext) -> FittedFeatures: ...

    def transform(self, state: FittedFeatures, batch: pa.RecordBatch) -> pa.RecordBatch: ...
