"""1.x missing-data features.

``c_is_missing`` for every featurable column missing in more than 1% of the training
rows; when there is at least one, the row summaries ``total_missing_count``,
``missing_ratio`` (share of those columns missing), ``max_consecutive_missing`` (longest
run of missing ones in column order), ``missing_pattern_id`` (1.x's id: MD5 of the 0/1
pattern, first 8 hex digits) and ``missing_together_<a>_<b>`` for pairs of them (the first
10 pairs in column order).
"""

from __future__ import annotations

import hashlib
import itertools

import numpy as np
import pyarrow as pa
from mdm_featurekit import TableProfile, float_array, int_array

from mdm_core.features.contract import FeatureSpec, FeatureUnit, FitContext

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
        "total_missing_count": int_array(count),
        "missing_ratio": float_array(count / len(cols)),
        "max_consecutive_missing": int_array(max_run(matrix)),
        "missing_pattern_id": int_array(pattern_ids(matrix)),
    }
    index = {c: i for i, c in enumerate(cols)}
    for a, b in unit.params["pairs"]:
        out[f"missing_together_{a}_{b}"] = int_array(matrix[:, index[a]] & matrix[:, index[b]])
    return out


def pattern_ids(matrix: np.ndarray) -> np.ndarray:
    """MDM 1.x missing-pattern id per row: the first 8 hex digits of the MD5 of the row's
    0/1 indicator string, as an integer. Hashes one string per distinct pattern."""
    if matrix.shape[1] == 0:
        return np.zeros(matrix.shape[0], dtype=np.int64)
    uniq, inverse = np.unique(matrix.astype(np.uint8), axis=0, return_inverse=True)
    ids = np.array(
        [int(hashlib.md5("".join(map(str, row)).encode()).hexdigest()[:8], 16) for row in uniq.tolist()],
        dtype=np.int64,
    )
    return ids[inverse.reshape(-1)]


def max_run(matrix: np.ndarray) -> np.ndarray:
    """Longest run of consecutive true values along each row (loops over columns)."""
    run = np.zeros(matrix.shape[0], dtype=np.int64)
    best = run.copy()
    for j in range(matrix.shape[1]):
        run = (run + 1) * matrix[:, j]
        best = np.maximum(best, run)
    return best


OPS = {"is_missing": is_missing, "missing_rows": missing_rows}
