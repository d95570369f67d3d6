"""The ``legacy`` engine: MDM 1.x feature columns with whole-table statistics.

Column names and families are those of MDM 1.x, so models trained on 1.x features keep
working. Unlike 1.x (which computed statistics chunk by chunk), every statistic is fitted
once on the whole training table and applied unchanged to every table; a training table
of at most ``feature_engineering.sample_size`` rows gets the Box-Cox lambda 1.x computed
for it as one chunk. Family switches
``feature_engineering.<family>.enabled`` are honoured (``numeric`` for the statistical
family, ``binning`` for its bin columns); the other parameters are fixed to 1.x values.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

import pyarrow as pa
from mdm_featurekit import FitGuard, plan_columns, profile_table, run_units

from mdm_core.features.contract import FamilyInfo, FitContext, FittedFeatures
from mdm_plugin_features_legacy import (
    categorical,
    interactions,
    missing,
    statistical,
    temporal,
    text,
)

PER_COLUMN = (categorical, statistical, temporal, text)
OPS = {**categorical.OPS, **statistical.OPS, **temporal.OPS, **text.OPS, **missing.OPS, **interactions.OPS}

FAMILIES = [
    FamilyInfo("temporal", "calendar parts of datetime columns", ("datetime",),
               ("c_year", "c_month", "c_day", "c_dayofweek", "c_hour", "c_is_weekend", "c_is_month_start",
                "c_is_month_end", "c_month_sin", "c_month_cos", "c_hour_sin", "c_hour_cos", "c_days_since_start"),
               ("feature_engineering.temporal.enabled",)),
    FamilyInfo("categorical", "frequency, one-hot (<= 50 levels), rarity, length", ("categorical",),
               ("c_frequency", "c_frequency_ratio", "c_<value>", "c_is_rare", "c_nunique_chars"),
               ("feature_engineering.categorical.enabled",)),
    FamilyInfo("statistical", "transforms, percentile, outliers and bins of numeric columns", ("numeric",),
               ("c_log", "c_zscore", "c_percentile", "c_is_outlier", "c_bin_equal", "c_bin_quantile",
                "c_sqrt", "c_boxcox", "c_div_mean"),
               ("feature_engineering.numeric.enabled", "feature_engineering.binning.enabled")),
    FamilyInfo("text", "character, word and pattern counts of text columns", ("text",),
               tuple(f"c_{n}" for n in text.NAMES), ("feature_engineering.text.enabled",)),
    FamilyInfo("missing", "missing indicators and row summaries", ("any",),
               ("c_is_missing", "total_missing_count", "missing_ratio", "max_consecutive_missing",
                "missing_pattern_id", "missing_together_<a>_<b>"),
               ("feature_engineering.missing.enabled",)),
    FamilyInfo("interactions", "arithmetic on correlated numeric pairs", ("numeric",),
               ("<a>_plus_<b>", "<a>_minus_<b>", "<a>_times_<b>", "<a>_div_<b>"),
               ("feature_engineering.interactions.enabled",)),
]


class LegacyFeatureEngine:
    """MDM 1.x features (see module docstring)."""

    name = "legacy"

    def __init__(self, fe) -> None:
        self.fe = fe

    def families(self) -> list[FamilyInfo]:
        return list(FAMILIES)

    def fit(self, batches: Iterable[pa.RecordBatch], context: FitContext) -> FittedFeatures:
        guard = FitGuard(self.fe.skip_on_error)
        whole = statistical.WholeColumns([c.name for c in context.feature_columns("numeric")], self.fe.sample_size)
        profile = profile_table(
            whole.tap(batches), context, exact_limit=self.fe.exact_distinct_limit, sample_size=self.fe.sample_size,
            guard=guard,
        )
        # per column in table order, 1.x family order within a column
        families = [(family.FAMILY, partial(family.plan, fe=self.fe, **({"whole": whole} if family is statistical else {})))
                    for family in PER_COLUMN]
        units = plan_columns(guard, profile, context, families)
        for family in (missing, interactions):
            ok, planned = guard.attempt(family.FAMILY, None, family.plan, profile, context, self.fe)
            units += planned if ok else []
        return FittedFeatures(self.name, tuple(units))

    def transform(self, state: FittedFeatures, batch: pa.RecordBatch) -> pa.RecordBatch:
        return run_units(state, batch, OPS)
