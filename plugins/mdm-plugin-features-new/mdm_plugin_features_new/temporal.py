"""Temporal family of the new engine (``feature_engineering.temporal.*``).

Per datetime column ``c``: every name in ``components`` as ``c__<part>`` (year, month,
day, dayofweek with Monday = 0, hour, minute, quarter, dayofyear, is_weekend,
is_month_start, is_month_end; 1.x names ``c_<part>`` except for minute, quarter and
dayofyear, which 1.x did not have); ``cyclical`` adds ``c__month_sin/cos``,
``c__hour_sin/cos`` (1.x ``c_month_sin``...) and ``c__dayofweek_sin/cos``;
``elapsed_days`` adds ``c__days_since_start`` (whole days since train's earliest value;
``c_days_since_start``). Text dates are parsed as ISO 8601 when the table's first values
all are, else value by value; time zones are converted to UTC.
"""

from __future__ import annotations

import pyarrow as pa
from mdm_featurekit import TableProfile, calendar, cyclical, days_since, to_instants

from mdm_core.features.contract import FeatureUnit, SourceColumn
from mdm_plugin_features_new.naming import Namer

PARTS = ("year", "month", "day", "dayofweek", "hour", "minute", "quarter", "dayofyear",
         "is_weekend", "is_month_start", "is_month_end")
NO_LEGACY = {"minute", "quarter", "dayofyear"}
CYCLES = (("month", 12, True), ("hour", 24, True), ("dayofweek", 7, False))


def check(fe) -> None:
    """Refuse unknown ``feature_engineering.temporal.components``."""
    unknown = [p for p in fe.temporal.components if p not in PARTS]
    if fe.temporal.enabled and unknown:
        raise ValueError(f"feature_engineering.temporal.components: unknown {unknown}; use {list(PARTS)}")


def plan(profile: TableProfile, column: SourceColumn, fe, namer: Namer) -> list[FeatureUnit]:
    """The temporal unit of one column (none for other kinds)."""
    cfg = fe.temporal
    c = column.name
    if not cfg.enabled or column.kind != "datetime" or profile.datetime_min.get(c) is None:
        return []
    names: dict[str, tuple[str, str]] = {}
    specs = []
    for part in cfg.components:
        spec = namer.spec("temporal", c, part, None if part in NO_LEGACY else part, "int64")
        names[spec.name] = ("part", part)
        specs.append(spec)
    if cfg.cyclical:
        for part, _period, has_legacy in CYCLES:
            for fn in ("sin", "cos"):
                spec = namer.spec("temporal", c, f"{part}_{fn}", f"{part}_{fn}" if has_legacy else None, "float64")
                names[spec.name] = (fn, part)
                specs.append(spec)
    if cfg.elapsed_days:
        spec = namer.spec("temporal", c, "days_since_start", "days_since_start", "int64")
        names[spec.name] = ("elapsed", "")
        specs.append(spec)
    if not specs:
        return []
    params = {"mode": profile.datetime_modes[c], "start": profile.datetime_min[c], "names": names}
    return [FeatureUnit(f"temporal:{c}", "temporal", "temporal", (c,), tuple(specs), params)]


def compute(batch: pa.RecordBatch, unit: FeatureUnit) -> dict[str, pa.Array]:
    prm = unit.params
    instants = to_instants(batch.column(unit.sources[0]), prm["mode"])
    parts = calendar(instants)
    periods = {part: period for part, period, _ in CYCLES}
    out = {}
    for name in (spec.name for spec in unit.outputs):
        key, part = prm["names"][name]
        if key == "part":
            out[name] = parts[part]
        elif key in ("sin", "cos"):
            sin, cos = cyclical(parts[part], periods[part])
            out[name] = sin if key == "sin" else cos
        else:
            out[name] = days_since(instants, prm["start"])
    return out


OPS = {"temporal": compute}
