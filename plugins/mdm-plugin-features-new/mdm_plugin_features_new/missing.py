"""Missing-data family of the new engine (``feature_engineering.missing.*``).

``indicators``: ``c__is_missing`` (1.x ``c_is_missing``) for every featurable column whose
missing share in train is above ``min_missing_ratio`` (default 0: any missing value).
``row_summary``: ``row__missing_count`` [total_missing_count] and ``row__missing_ratio``
[missing_ratio], over all featurable columns, when train has any missing value.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from mdm_featurekit import TableProfile, float_array, int_array

from mdm_core.features.contract import FeatureSpec, FeatureUnit, FitContext
from mdm_plugin_features_new.naming import Namer


def plan(profile: TableProfile, context: FitContext, fe, namer: Namer) -> list[FeatureUnit]:
    cfg = fe.missing
    if not cfg.enabled:
        return []
    columns = [c.name for c in context.feature_columns()]
    units = []
    if cfg.indicators:
        for c in columns:
            if profile.nulls.get(c, 0) and profile.missing_ratio(c) > cfg.min_missing_ratio:
                spec = namer.spec("missing", c, "is_missing", "is_missing", "int64")
                units.append(FeatureUnit(f"missing:{c}", "missing", "is_missing", (c,), (spec,)))
    if cfg.row_summary and columns and any(profile.nulls.get(c, 0) for c in columns):
        compat = namer.compat
        count = FeatureSpec("total_missing_count" if compat else "row__missing_count", "missing", tuple(columns), "int64")
        ratio = FeatureSpec("missing_ratio" if compat else "row__missing_ratio", "missing", tuple(columns), "float64")
        params = {"count": count.name, "ratio": ratio.name}
        units.append(FeatureUnit("missing:rows", "missing", "missing_rows", tuple(columns), (count, ratio), params))
    return units


def is_missing(batch: pa.RecordBatch, unit: FeatureUnit) -> dict[str, pa.Array]:
    return {unit.outputs[0].name: batch.column(unit.sources[0]).is_null().cast(pa.int64())}


def missing_rows(batch: pa.RecordBatch, unit: FeatureUnit) -> dict[str, pa.Array]:
    count = np.zeros(batch.num_rows, dtype=np.int64)
    for c in unit.sources:
        count += batch.column(c).is_null().to_numpy(zero_copy_only=False)
    return {
        unit.params["count"]: int_array(count),
        unit.params["ratio"]: float_array(count / len(unit.sources)),
    }


OPS = {"is_missing": is_missing, "missing_rows": missing_rows}
