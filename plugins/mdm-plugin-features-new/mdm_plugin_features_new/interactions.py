"""Interactions family of the new engine (``feature_engineering.interactions.*``).

Up to ``max_pairs`` pairs of featurable numeric columns whose absolute Pearson correlation
on the fixed-seed row sample exceeds ``min_abs_correlation``, strongest first; per pair
``a``/``b`` (``a`` first in table order) and per name in ``operations``:
``a__plus__b a__minus__b a__times__b a__div__b`` (1.x ``a_plus_b``...; division by zero
gives null).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from mdm_featurekit import (
    PAIR_OPERATIONS,
    TableProfile,
    correlated_pairs,
    float_array,
    to_float_array,
)

from mdm_core.features.contract import FeatureSpec, FeatureUnit, FitContext
from mdm_plugin_features_new.naming import Namer


def check(fe) -> None:
    """Refuse unknown ``feature_engineering.interactions.operations``."""
    cfg = fe.interactions
    unknown = [o for o in cfg.operations if o not in PAIR_OPERATIONS]
    if cfg.enabled and cfg.max_pairs > 0 and unknown:
        raise ValueError(f"feature_engineering.interactions.operations: unknown {unknown}; use {list(PAIR_OPERATIONS)}")


def plan(profile: TableProfile, context: FitContext, fe, namer: Namer) -> list[FeatureUnit]:
    cfg = fe.interactions
    if not cfg.enabled or cfg.max_pairs <= 0:
        return []
    check(fe)
    units = []
    for a, b in correlated_pairs(profile, context, cfg.min_abs_correlation, cfg.max_pairs):
        names = {}
        specs = []
        for op in cfg.operations:
            name = f"{a}_{op}_{b}" if namer.compat else f"{a}__{op}__{b}"
            names[name] = op
            specs.append(FeatureSpec(name, "interactions", (a, b)))
        units.append(FeatureUnit(f"interactions:{a}:{b}", "interactions", "pair", (a, b), tuple(specs), {"names": names}))
    return units


def pair(batch: pa.RecordBatch, unit: FeatureUnit) -> dict[str, pa.Array]:
    a, b = unit.sources
    x, y = to_float_array(batch.column(a)), to_float_array(batch.column(b))
    names = unit.params["names"]
    with np.errstate(all="ignore"):
        return {spec.name: float_array(PAIR_OPERATIONS[names[spec.name]](x, y)) for spec in unit.outputs}


OPS = {"pair": pair}
