"""1.x categorical features, with levels counted on the whole training table.

Per column ``c``: ``c_frequency`` (train count of the value; unseen values 0),
``c_frequency_ratio`` (count / train rows), one-hot ``c_<value>`` for every level when
there are at most 50 (levels in sorted order, as ``pandas.get_dummies``), ``c_is_rare``
(train ratio below 1%) and ``c_nunique_chars``, which in 1.x was (despite its name) the
length of the value as text (missing values 0).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from mdm_featurekit import TableProfile, as_text, level_lookup

from mdm_core.features.contract import FeatureSpec, FeatureUnit, SourceColumn

FAMILY = "categorical"
MAX_ONE_HOT = 50
RARE_RATIO = 0.01


def plan(profile: TableProfile, column: SourceColumn, fe) -> list[FeatureUnit]:
    """The categorical unit of one column (none for other kinds)."""
    c = column.name
    if not fe.categorical.enabled or column.kind != "categorical" or c not in profile.categorical:
        return []
    levels, counts = profile.categorical[c].levels()
    if not levels:
        return []
    rows = max(profile.rows, 1)
    onehot = sorted(levels) if len(levels) <= MAX_ONE_HOT else []
    rare = [lvl for lvl, n in zip(levels, counts, strict=True) if n / rows < RARE_RATIO]
    outputs = [
        FeatureSpec(f"{c}_frequency", FAMILY, (c,), "int64"),
        FeatureSpec(f"{c}_frequency_ratio", FAMILY, (c,), "float64"),
    ]
    outputs += [FeatureSpec(f"{c}_{lvl}", FAMILY, (c,), "int64") for lvl in onehot]
    outputs += [
        FeatureSpec(f"{c}_is_rare", FAMILY, (c,), "int64"),
        FeatureSpec(f"{c}_nunique_chars", FAMILY, (c,), "int64"),
    ]
    params = {"levels": levels, "counts": counts, "rows": rows, "onehot": onehot, "rare": rare}
    return [FeatureUnit(f"{FAMILY}:{c}", FAMILY, "categorical", (c,), tuple(outputs), params)]


def compute(batch: pa.RecordBatch, unit: FeatureUnit) -> dict[str, pa.Array]:
    c = unit.sources[0]
    prm = unit.params
    text = as_text(batch.column(c))
    count, _ = level_lookup(text, prm["levels"], prm["counts"])
    out = {
        f"{c}_frequency": count,
        f"{c}_frequency_ratio": pc.divide(count.cast(pa.float64()), float(prm["rows"])),
    }
    for level in prm["onehot"]:
        out[f"{c}_{level}"] = pc.fill_null(pc.equal(text, level), False).cast(pa.int64())
    rare = pc.is_in(text, value_set=pa.array(prm["rare"], pa.string()))
    out[f"{c}_is_rare"] = pc.fill_null(rare, False).cast(pa.int64())
    out[f"{c}_nunique_chars"] = pc.utf8_length(pc.fill_null(text, "")).cast(pa.int64())
    return out


OPS = {"categorical": compute}
