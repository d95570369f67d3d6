"""Categorical family of the new engine (``feature_engineering.categorical.*``).

Per column ``c``: ``frequency`` gives ``c__freq`` (train count of the value / train rows, 0
when unseen; 1.x ``c_frequency_ratio``) and ``count`` (off by default: the same ranking)
``c__count`` (the train count; ``c_frequency``);
``one_hot`` gives ``c__is_<level>`` for every train level (by decreasing count, ties by
value; ``c_<level>``) of columns with at most ``max_one_hot_levels`` levels; ``rare`` gives ``c__is_rare`` (train share below
``rare_threshold``, unseen levels included; ``c_is_rare``). Missing values give null
counts and 0 flags.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from mdm_featurekit import TableProfile, as_text, level_lookup

from mdm_core.features.contract import FeatureUnit, SourceColumn
from mdm_plugin_features_new.naming import Namer


def plan(profile: TableProfile, column: SourceColumn, fe, namer: Namer) -> list[FeatureUnit]:
    """The categorical unit of one column (none for other kinds)."""
    cfg = fe.categorical
    c = column.name
    if not cfg.enabled or column.kind != "categorical" or c not in profile.categorical:
        return []
    levels, counts = profile.categorical[c].levels()
    if not levels:
        return []
    rows = max(profile.rows, 1)
    names: dict[str, tuple[str, str | None]] = {}
    specs = []
    wanted = (("count", "frequency", "int64", cfg.count), ("freq", "frequency_ratio", "float64", cfg.frequency))
    for key, legacy, dtype, on in wanted:
        if on:
            spec = namer.spec("categorical", c, key, legacy, dtype)
            names[spec.name] = (key, None)
            specs.append(spec)
    if cfg.one_hot and len(levels) <= cfg.max_one_hot_levels:
        for level in levels:
            spec = namer.spec("categorical", c, f"is_{level}", level, "int64")
            names[spec.name] = ("level", level)
            specs.append(spec)
    frequent = [lvl for lvl, n in zip(levels, counts, strict=True) if n / rows >= cfg.rare_threshold]
    if cfg.rare:
        spec = namer.spec("categorical", c, "is_rare", "is_rare", "int64")
        names[spec.name] = ("rare", None)
        specs.append(spec)
    if not specs:
        return []
    params = {"levels": levels, "counts": counts, "rows": rows, "frequent": frequent, "names": names}
    return [FeatureUnit(f"categorical:{c}", "categorical", "categorical", (c,), tuple(specs), params)]


def compute(batch: pa.RecordBatch, unit: FeatureUnit) -> dict[str, pa.Array]:
    prm = unit.params
    text = as_text(batch.column(unit.sources[0]))
    count, _ = level_lookup(text, prm["levels"], prm["counts"])
    out = {}
    for name in (spec.name for spec in unit.outputs):
        key, level = prm["names"][name]
        if key == "count":
            out[name] = count
        elif key == "freq":
            out[name] = pc.divide(count.cast(pa.float64()), float(prm["rows"]))
        elif key == "level":
            out[name] = pc.fill_null(pc.equal(text, level), False).cast(pa.int64())
        elif key == "rare":
            common = pc.is_in(text, value_set=pa.array(prm["frequent"], pa.string()))
            out[name] = pc.if_else(text.is_null(), 0, pc.invert(common).cast(pa.int64()))
    return out


OPS = {"categorical": compute}
