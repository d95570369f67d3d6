"""1.x interactions of correlated numeric pairs.

Pairs of featurable numeric columns whose absolute Pearson correlation on the training
table's fixed-seed row sample exceeds 0.1, strongest first, at most 10 pairs; per pair
``a``/``b`` (``a`` first in table order): ``a_plus_b a_minus_b a_times_b a_div_b``
(division by zero gives null).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from mdm_core.features import ops
from mdm_core.features.engine import FeatureSpec, FeatureUnit, FitContext
from mdm_core.features.fitting import to_float_array
from mdm_core.features.profile import TableProfile, sample_matrix

FAMILY = "interactions"
MIN_ABS_CORR = 0.1
MAX_PAIRS = 10
OPERATIONS = ("plus", "minus", "times", "div")


def correlated_pairs(profile: TableProfile, columns: list[str], threshold: float, limit: int) -> list[tuple[str, str]]:
    """Column pairs by decreasing absolute correlation above ``threshold`` (ties by
    column order), at most ``limit``."""
    found = ops.strongest_pairs(sample_matrix(profile, columns), threshold, limit)
    return [(columns[i], columns[j]) for i, j, _ in found]


def plan(profile: TableProfile, context: FitContext, fe) -> list[FeatureUnit]:
    if not fe.interactions.enabled:
        return []
    columns = [c.name for c in context.feature_columns("numeric") if c.name in profile.numeric and profile.numeric[c.name].count]
    units = []
    for a, b in correlated_pairs(profile, columns, MIN_ABS_CORR, MAX_PAIRS):
        outputs = tuple(FeatureSpec(f"{a}_{op}_{b}", FAMILY, (a, b)) for op in OPERATIONS)
        units.append(FeatureUnit(f"{FAMILY}:{a}:{b}", FAMILY, "pair", (a, b), outputs))
    return units


def pair(batch: pa.RecordBatch, unit: FeatureUnit) -> dict[str, pa.Array]:
    a, b = unit.sources
    x, y = to_float_array(batch.column(a)), to_float_array(batch.column(b))
    with np.errstate(all="ignore"):
        return {
            f"{a}_plus_{b}": ops.float_array(x + y),
            f"{a}_minus_{b}": ops.float_array(x - y),
            f"{a}_times_{b}": ops.float_array(x * y),
            f"{a}_div_{b}": ops.float_array(ops.divide(x, y)),
        }


OPS = {"pair": pair}
