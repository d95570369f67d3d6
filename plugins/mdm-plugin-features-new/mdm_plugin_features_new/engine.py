"""The ``new`` engine (the default): configurable families, streamed two-pass fit/transform.

``fit`` streams the training table once (:func:`mdm_featurekit.profile_table`:
exact moments, exact value counts up to ``exact_distinct_limit`` distinct values, exact
category counts, and a fixed-seed bottom-k row sample of ``sample_size`` rows for
correlations and for quantiles of columns with more distinct values); ``transform``
applies the fitted state to any batch with Arrow compute / numpy, no per-row Python.
Every family and switch of ``feature_engineering.*`` is honoured; with the flag
``feature_compatibility_mode`` on, features with a 1.x equivalent get their 1.x name.
See docs/features.md for the catalog.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

import pyarrow as pa
from mdm_featurekit import FitGuard, plan_columns, profile_table, run_units

from mdm_core.features.contract import FamilyInfo, FitContext, FittedFeatures
from mdm_plugin_features_new import categorical, interactions, missing, numeric, temporal, text
from mdm_plugin_features_new.catalog import FAMILIES
from mdm_plugin_features_new.naming import Namer

PER_COLUMN = (numeric, categorical, temporal, text)
OPS = {**numeric.OPS, **categorical.OPS, **temporal.OPS, **text.OPS, **missing.OPS, **interactions.OPS}


class NewFeatureEngine:
    """The default engine (see module docstring)."""

    name = "new"

    def __init__(self, fe, *, compat: bool = False) -> None:
        self.fe = fe
        self.namer = Namer(compat)

    def families(self) -> list[FamilyInfo]:
        return list(FAMILIES)

    def fit(self, batches: Iterable[pa.RecordBatch], context: FitContext) -> FittedFeatures:
        temporal.check(self.fe)
        interactions.check(self.fe)
        guard = FitGuard(self.fe.skip_on_error)
        profile = profile_table(
            batches, context, exact_limit=self.fe.exact_distinct_limit, sample_size=self.fe.sample_size, guard=guard
        )
        units = plan_columns(guard, profile, context, [
            (family.__name__.rsplit(".", 1)[-1], partial(family.plan, fe=self.fe, namer=self.namer))
            for family in PER_COLUMN
        ])
        for family in (missing, interactions):
            name = family.__name__.rsplit(".", 1)[-1]
            ok, planned = guard.attempt(name, None, family.plan, profile, context, self.fe, self.namer)
            units += planned if ok else []
        return FittedFeatures(self.name, tuple(units))

    def transform(self, state: FittedFeatures, batch: pa.RecordBatch) -> pa.RecordBatch:
        return run_units(state, batch, OPS)
