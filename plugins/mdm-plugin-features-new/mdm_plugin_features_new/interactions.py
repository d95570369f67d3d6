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

from mdm_core.features import ops
from mdm_core.features.engine import FeatureSpec, FeatureUnit, FitContext
from mdm_core.features.fitting import to_float_array
from mdm_core.features.profile import TableProfile, sample_matrix
from mdm_plugin_features_new.naming import Namer

OPERATIONS = {
    "plus": np.add,
    "minus": np.subtract,
    "times": np.multiply,
    "div": ops.divide,
}


def check(fe) -> None:
    """Refuse unknown ``feature_engineering.interactions.operations``."""
    cfg = fe.interactions
    unknown = [o for o in cfg.operations if o not in OPERATIONS]
    if cfg.enabled and cfg.max_pairs > 0 and unknown:
        raise ValueError(f"feature_engineering.interactions.operations: unknown {unknown}; use {list(OPERATIONS)}")


def plan(profile: TableProfile, context: FitContext, fe, namer: Namer) -> list[FeatureUnit]:
    cfg = fe.interactions
    if not cfg.enabled or cfg.max_pairs <= 0:
        return []
    check(fe)
    columns = [c.name for c in context.feature_columns("numeric") if c.name in profile.numeric and profile.numeric[c.name].count]
    found = ops.strongest_pairs(sample_matrix(profile, columns), cfg.min_abs_correlation, cfg.max_pairs)
    units = []
    for i, j, _ in found:
        a, b = columns[i], columns[j]
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
        return {spec.name: ops.float_array(OPERATIONS[names[spec.name]](x, y)) for spec in unit.outputs}


OPS = {"pair": pair}
