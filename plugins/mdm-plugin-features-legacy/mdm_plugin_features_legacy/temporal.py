"""1.x temporal features of datetime columns.

Per column ``c``: ``c_year c_month c_day c_dayofweek`` (Monday = 0) ``c_hour c_is_weekend
c_is_month_start c_is_month_end c_month_sin c_month_cos c_hour_sin c_hour_cos`` and
``c_days_since_start`` (whole days since the earliest value of the training table, so the
origin is the same for every table). Text dates are parsed as ISO 8601 when the table's
first values all are, else value by value; time zones are converted to UTC.
"""

from __future__ import annotations

import pyarrow as pa
from mdm_featurekit import TableProfile, calendar, cyclical, days_since, to_instants

from mdm_core.features.contract import FeatureSpec, FeatureUnit, SourceColumn

FAMILY = "temporal"
PARTS = ("year", "month", "day", "dayofweek", "hour", "is_weekend", "is_month_start", "is_month_end")
CYCLIC = ("month_sin", "month_cos", "hour_sin", "hour_cos")


def plan(profile: TableProfile, column: SourceColumn, fe) -> list[FeatureUnit]:
    """The temporal unit of one column (none for other kinds)."""
    c = column.name
    if not fe.temporal.enabled or column.kind != "datetime" or profile.datetime_min.get(c) is None:
        return []
    outputs = [FeatureSpec(f"{c}_{p}", FAMILY, (c,), "int64") for p in PARTS]
    outputs += [FeatureSpec(f"{c}_{p}", FAMILY, (c,), "float64") for p in CYCLIC]
    outputs.append(FeatureSpec(f"{c}_days_since_start", FAMILY, (c,), "int64"))
    params = {"mode": profile.datetime_modes[c], "start": profile.datetime_min[c]}
    return [FeatureUnit(f"{FAMILY}:{c}", FAMILY, "temporal", (c,), tuple(outputs), params)]


def compute(batch: pa.RecordBatch, unit: FeatureUnit) -> dict[str, pa.Array]:
    c = unit.sources[0]
    instants = to_instants(batch.column(c), unit.params["mode"])
    parts = calendar(instants)
    out = {f"{c}_{p}": parts[p] for p in PARTS}
    out[f"{c}_month_sin"], out[f"{c}_month_cos"] = cyclical(parts["month"], 12)
    out[f"{c}_hour_sin"], out[f"{c}_hour_cos"] = cyclical(parts["hour"], 24)
    out[f"{c}_days_since_start"] = days_since(instants, unit.params["start"])
    return out


OPS = {"temporal": compute}
