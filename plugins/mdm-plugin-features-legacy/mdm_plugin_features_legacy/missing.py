"""1.x missing-data features.

``c_is_missing`` for every featurable column missing in more than 1% of the training
rows; when there is at least one, the row summaries ``total_missing_count``,
``missing_ratio`` (share of those columns missing), ``max_consecutive_missing`` (longest
run of missing ones in column order), ``missing_pattern_id`` (1.x's id: MD5 of the 0/1
pattern, first 8 hex digits) and ``missing_together_<a>_<b>`` for pairs of them (the first
10 pairs in column order).
"""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa

from mdm_core.features import ops
from mdm_core.features.engine import FeatureSpec, FeatureUnit, FitContext
from mdm_core.features.profile import TableProfile

FAMILY = "missing"
MIN_RATIO = 0.01
MAX_PAIRS = 10
ROW_NAMES = ("total_missing_count", "missing_ratio", "max_consecutive_missing", "missing_pattern_id")


def plan(profile: TableProfile, context: FitContext, fe) -> list[FeatureUnit]:
    if not fe.missing.enabled:
        return []
    cols = tuple(c.name for c in context.feature_columns() if profile.missing_ratio(c.name) > MIN_RATIO)
    if not cols:
        return []
    units = [
        FeatureUnit(f"{FAMILY}:{c}", FAMILY, "is_missing", (c,), (FeatureSpec(f"{c}_is_missing", FAMILY, (c,), "int64"),))
        for c in cols
    ]
    outputs = [
        FeatureSpec(n, FAMILY, cols, "float64" if n == "missing_ratio" else "int64") for n in ROW_NAMES
    ]
    pairs = list(itertools.islice(itertools.combinations(cols, 2), MAX_PAIRS))
    outputs += [FeatureSpec(f"missing_together_{a}_{b}", FAMILY, (a, b), "int64") for a, b in pairs]
    units.append(FeatureUnit(f"{FAMILY}:rows", FAMILY, "missing_rows", cols, tuple(outputs), {"pairs": pairs}))
    return units


def is_missing(batch: pa.RecordBatch, unit: FeatureUnit) -> dict[str, pa.Array]:
    c = unit.sources[0]
    return {f"{c}_is_missing": batch.column(c).is_null().cast(pa.int64())}


def missing_rows(batch: pa.RecordBatch, unit: FeatureUnit) -> dict[str, pa.Array]:
    cols = unit.sources
    matrix = np.column_stack([batch.column(c).is_null().to_numpy(zero_copy_only=False) for c in cols])
    count = matrix.sum(axis=1)
    out = {
        "total_missing_count": ops.int_array(count),
        "missing_ratio": ops.float_array(count / len(cols)),
        "max_consecutive_missing": ops.int_array(ops.max_run(matrix)),
        "missing_pattern_id": ops.int_array(ops.pattern_ids(matrix)),
    }
    index = {c: i for i, c in enumerate(cols)}
    for a, b in unit.params["pairs"]:
        out[f"missing_together_{a}_{b}"] = ops.int_array(matrix[:, index[a]] & matrix[:, index[b]])
    return out


OPS = {"is_missing": is_missing, "missing_rows": missing_rows}
