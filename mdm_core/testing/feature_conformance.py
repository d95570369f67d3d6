"""The conformance suite every feature engine (ours or a third party's) runs.

Subclass :class:`FeatureEngineConformance` in the engine's tests and provide an
``engine`` fixture returning the :class:`mdm_core.features.contract.FeatureEngine`::

    class TestMyEngine(FeatureEngineConformance):
        @pytest.fixture
        def engine(self):
            return MyEngine(FeatureEngineeringSettings())

The tests prove the contract of :mod:`mdm_core.features.contract` on a training table with
a column of every kind (nulls included) and a test table without the target: values that
do not depend on batch boundaries, the same declared columns and Arrow types for every
table, the state fitted on train applied to test, nothing computed from ID or target
columns, and the same result on every run.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pytest

from mdm_core.features.contract import FeatureEngine, FitContext, FittedFeatures, SourceColumn

TRAIN_ROWS = 240
TARGET = "label"
ID = "row_id"
KINDS = {
    ID: "id",
    "amount": "numeric",
    "count": "numeric",
    "flag": "boolean",
    "when": "datetime",
    "city": "categorical",
    "note": "text",
    TARGET: "categorical",
}


def sample_tables(rows: int = TRAIN_ROWS, seed: int = 3) -> tuple[pa.Table, pa.Table]:
    """(train, test): a column of every kind with nulls; test has other rows and values
    (an unseen category, dates outside train's range) and no target."""

    def make(n: int, offset: int, rng: np.random.Generator, with_target: bool) -> pa.Table:
        amount = rng.lognormal(3, 1, n)
        columns = {
            ID: pa.array(np.arange(offset, offset + n, dtype=np.int64)),
            "amount": pa.array(amount, mask=rng.random(n) < 0.1),
            "count": pa.array(rng.integers(0, 50, n), type=pa.int64()),
            "flag": pa.array(rng.random(n) < 0.3, mask=rng.random(n) < 0.05),
            "when": pa.array(
                (np.datetime64("2020-01-01") + rng.integers(0, 900 + offset, n).astype("timedelta64[D]")
                 ).astype("datetime64[s]"),
                mask=rng.random(n) < 0.05,
            ),
            "city": pa.array(rng.choice(["oslo", "rome", "lima", "pune"] + (["nuuk"] if offset else []), n),
                             mask=rng.random(n) < 0.08),
            "note": pa.array([" ".join(["word"] * int(k)) + "!" for k in rng.integers(1, 9, n)],
                             mask=rng.random(n) < 0.1),
        }
        if with_target:
            columns[TARGET] = pa.array(rng.choice(["yes", "no"], n))
        return pa.table(columns)

    rng = np.random.default_rng(seed)
    return make(rows, 0, rng, True), make(rows // 3, 10_000, rng, False)


def context_for(train: pa.Table) -> FitContext:
    return FitContext(
        table="train",
        columns=tuple(SourceColumn(name, KINDS[name]) for name in train.column_names),
        target_column=TARGET,
        id_columns=(ID,),
        head=train.slice(0, 1000),
        row_count=train.num_rows,
    )


def batches(table: pa.Table, size: int) -> Iterator[pa.RecordBatch]:
    yield from table.to_batches(max_chunksize=size)


def fit(engine: FeatureEngine, train: pa.Table, size: int = 10_000) -> FittedFeatures:
    return engine.fit(batches(train, size), context_for(train))


def transform(engine: FeatureEngine, state: FittedFeatures, table: pa.Table, size: int = 10_000) -> pa.Table:
    out = [engine.transform(state, batch) for batch in batches(table, size)]
    return pa.Table.from_batches(out, schema=state.schema())


class FeatureEngineConformance:
    """Subclass and provide the ``engine`` fixture (see the module docstring); without
    it pytest reports every test as needing fixture ``engine``."""

    @pytest.fixture
    def tables(self) -> tuple[pa.Table, pa.Table]:
        return sample_tables()

    def test_satisfies_protocol(self, engine) -> None:
        assert isinstance(engine, FeatureEngine)
        assert engine.families(), "an engine describes at least one family"

    def test_produces_features_for_every_kind(self, engine, tables) -> None:
        state = fit(engine, tables[0])
        covered = {KINDS[source] for spec in state.features for source in spec.sources}
        assert {"numeric", "datetime", "categorical"} <= covered, covered

    @pytest.mark.parametrize("size", [1, 7])
    def test_values_do_not_depend_on_batch_boundaries(self, engine, tables, size) -> None:
        train, test = tables
        whole = fit(engine, train)
        cut = fit(engine, train, size)
        assert cut.names == whole.names
        for table in (train, test):
            assert transform(engine, cut, table, size).equals(transform(engine, whole, table))

    def test_every_table_gets_the_declared_columns_and_types(self, engine, tables) -> None:
        train, test = tables
        state = fit(engine, train)
        assert len(set(state.names)) == len(state.names), "feature names repeat"
        for table in (train, test):
            out = transform(engine, state, table, 50)
            assert out.schema.equals(state.schema()), f"{out.schema} != {state.schema()}"
            assert out.num_rows == table.num_rows

    def test_test_table_uses_the_state_fitted_on_train(self, engine, tables) -> None:
        train, test = tables
        state = fit(engine, train)
        alone = fit(engine, test.append_column(TARGET, pa.array(["no"] * test.num_rows)))
        with_train_state = transform(engine, state, test)
        assert with_train_state.schema.equals(state.schema())
        if alone.names == state.names:  # same columns: values must still follow train's state
            assert not with_train_state.equals(transform(engine, alone, test))

    def test_nothing_is_computed_from_id_or_target(self, engine, tables) -> None:
        state = fit(engine, tables[0])
        used = {source for spec in state.features for source in spec.sources}
        assert ID not in used and TARGET not in used, used

    def test_deterministic_across_runs(self, engine, tables) -> None:
        train, test = tables
        first, second = fit(engine, train), fit(engine, train)
        assert first.names == second.names
        assert transform(engine, first, test).equals(transform(engine, second, test))
