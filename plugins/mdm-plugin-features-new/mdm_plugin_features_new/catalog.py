"""What the new engine produces, family by family (shown by ``mdm features list``)."""

from __future__ import annotations

from mdm_core.features.contract import FamilyInfo

_FE = "feature_engineering"

FAMILIES = [
    FamilyInfo("numeric", "statistical transforms of numeric columns", ("numeric",),
               ("c__log1p", "c__sqrt", "c__zscore", "c__pct_rank", "c__div_mean", "c__is_outlier"),
               tuple(f"{_FE}.numeric.{k}" for k in ("enabled", "log", "sqrt", "zscore", "percentile", "div_mean",
                                                  "outliers", "outlier_iqr_multiplier"))),
    FamilyInfo("binning", "equal-width and quantile bins of numeric columns", ("numeric",),
               ("c__bin_width", "c__bin_quantile"),
               tuple(f"{_FE}.binning.{k}" for k in ("enabled", "n_bins", "equal_width", "quantile"))),
    FamilyInfo("categorical", "frequency, one-hot of frequent levels, rarity", ("categorical",),
               ("c__count", "c__freq", "c__is_<level>", "c__is_rare"),
               tuple(f"{_FE}.categorical.{k}" for k in ("enabled", "frequency", "one_hot", "max_one_hot_levels",
                                                      "rare", "rare_threshold"))),
    FamilyInfo("temporal", "calendar parts, cycles and elapsed days of datetime columns", ("datetime",),
               ("c__<component>", "c__month_sin", "c__month_cos", "c__hour_sin", "c__hour_cos",
                "c__dayofweek_sin", "c__dayofweek_cos", "c__days_since_start"),
               tuple(f"{_FE}.temporal.{k}" for k in ("enabled", "components", "cyclical", "elapsed_days"))),
    FamilyInfo("text", "length, character, word and pattern counts of text columns", ("text",),
               ("c__len", "c__words", "c__avg_word_len", "c__upper", "c__lower", "c__digits", "c__spaces",
                "c__special", "c__unique_words", "c__unique_word_ratio", "c__urls", "c__emails",
                "c__hashtags", "c__mentions"),
               tuple(f"{_FE}.text.{k}" for k in ("enabled", "basic", "characters", "words", "patterns"))),
    FamilyInfo("missing", "missing indicators and per-row missing counts", ("any",),
               ("c__is_missing", "row__missing_count", "row__missing_ratio"),
               tuple(f"{_FE}.missing.{k}" for k in ("enabled", "indicators", "min_missing_ratio", "row_summary"))),
    FamilyInfo("interactions", "arithmetic on the most correlated numeric pairs", ("numeric",),
               ("a__plus__b", "a__minus__b", "a__times__b", "a__div__b"),
               tuple(f"{_FE}.interactions.{k}" for k in ("enabled", "max_pairs", "min_abs_correlation",
                                                       "operations"))),
]
