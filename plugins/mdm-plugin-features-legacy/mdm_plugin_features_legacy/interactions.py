"""1.x interactions of correlated numeric pairs.

Pairs of featurable numeric columns whose absolute Pearson correlation on the training
table's fixed-seed row sample exceeds 0.1, strongest first, at most 10 pairs; per pair
``a``/``b`` (``a`` first in table order): ``a_plus_b a_minus_b a_times_b a_div_b``
(division by zero gives null).
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

FAMILY = "interactions"
MIN_ABS_CORR = 0.1
MAX_PAIRS = 10
OPERATIONS = ("plus", "minus", "times", "div")


def plan(profile: TableProfile, context: FitContext, fe) -> list[FeatureUnit]:
    if not fe.interactions.enabled:
        return []
    units = []
    for a, b in correlated_pairs(profile, context, MIN_ABS_CORR, MAX_PAIRS):
        outputs = tuple(FeatureSpec(f"{a}_{op}_{b}", FAMILY, (a, b)) for op in OPERATIONS)
        units.append(FeatureUnit(f"{FAMILY}:{a}:{b}", FAMILY, "pair", (a, b), outputs))
    return units


def pair(batch: pa.RecordBatch, unit: FeatureUnit) -> dict[str, pa.Array]:
    a, b = unit.sources
    x, y = to_float_array(batch.column(a)), to_float_array(batch.column(b))
    with np.errstate(all="ignore"):
        return {f"{a}_{op}_{b}": float_array(PAIR_OPERATIONS[op](x, y)) for op in OPERATIONS}


OPS = {"pair": pair}
