"""mdm-featurekit: what MDM feature engines share, for any engine author.

The host (``mdm_core``) defines the feature-engine *contract*
(:mod:`mdm_core.features.contract`) and never computes a feature; engines do. This kit
holds what the bundled ``new`` and ``legacy`` engines share, as a public, versioned API
that a third-party engine uses the same way. Every function is vectorised (numpy / Arrow
compute, no per-row Python) and every statistic is independent of how the table is cut
into batches.

Modules (each name below is also importable from the package):

- :mod:`~mdm_featurekit.arrays`: Arrow <-> numpy (:func:`to_float_array`, :func:`as_text`,
  :func:`float_array`, :func:`int_array`);
- :mod:`~mdm_featurekit.stats`: exact streaming statistics (:class:`ExactSum`,
  :class:`NumericProfile`, :class:`RowSampler`, :class:`CategoryCounts`) and lookups into
  them (:func:`quantiles_from_counts`, :func:`rank_pct`, :func:`level_lookup`);
- :mod:`~mdm_featurekit.instants`: datetime columns of any type and range as exact
  :class:`Instants` (:func:`datetime_mode`, :func:`to_instants`);
- :mod:`~mdm_featurekit.dates`: :func:`calendar` parts, :func:`cyclical` encodings,
  :func:`days_since`;
- :mod:`~mdm_featurekit.text`: :func:`text_counts` of :data:`TEXT_PATTERNS`,
  :func:`unique_word_counts`, :func:`count_ratio`;
- :mod:`~mdm_featurekit.numeric`: bins (:func:`equal_width_edges`, :func:`quantile_edges`,
  :func:`bin_index`), :func:`iqr_fences`, :func:`divide`, :data:`PAIR_OPERATIONS`;
- :mod:`~mdm_featurekit.profile`: one streamed pass over the training table
  (:func:`profile_table` -> :class:`TableProfile`, :func:`sample_matrix`);
- :mod:`~mdm_featurekit.correlation`: :func:`pairwise_correlations`,
  :func:`strongest_pairs` (linear in the columns on wide tables), :func:`correlated_pairs`;
- :mod:`~mdm_featurekit.units`: the fit/transform machinery (:class:`FitGuard`,
  :func:`plan_columns`, :func:`run_units`).
"""

from mdm_featurekit.arrays import as_text, float_array, int_array, to_float_array
from mdm_featurekit.correlation import (
    EXACT_PAIR_COLUMNS,
    correlated_pairs,
    pairwise_correlations,
    strongest_pairs,
)
from mdm_featurekit.dates import calendar, cyclical, days_since
from mdm_featurekit.instants import NS_PER_DAY, Instants, datetime_mode, to_instants
from mdm_featurekit.numeric import (
    PAIR_OPERATIONS,
    bin_index,
    divide,
    equal_width_edges,
    iqr_fences,
    quantile_edges,
)
from mdm_featurekit.profile import TableProfile, profile_table, sample_matrix
from mdm_featurekit.stats import (
    CategoryCounts,
    ExactSum,
    NumericProfile,
    RowSampler,
    level_lookup,
    quantiles_from_counts,
    rank_pct,
)
from mdm_featurekit.text import TEXT_PATTERNS, count_ratio, text_counts, unique_word_counts
from mdm_featurekit.units import ColumnPlan, FitGuard, UnitOp, plan_columns, run_units

__all__ = [
    "EXACT_PAIR_COLUMNS",
    "NS_PER_DAY",
    "PAIR_OPERATIONS",
    "TEXT_PATTERNS",
    "CategoryCounts",
    "ColumnPlan",
    "ExactSum",
    "FitGuard",
    "Instants",
    "NumericProfile",
    "RowSampler",
    "TableProfile",
    "UnitOp",
    "as_text",
    "bin_index",
    "calendar",
    "correlated_pairs",
    "count_ratio",
    "cyclical",
    "datetime_mode",
    "days_since",
    "divide",
    "equal_width_edges",
    "float_array",
    "int_array",
    "iqr_fences",
    "level_lookup",
    "pairwise_correlations",
    "plan_columns",
    "profile_table",
    "quantile_edges",
    "quantiles_from_counts",
    "rank_pct",
    "run_units",
    "sample_matrix",
    "strongest_pairs",
    "text_counts",
    "to_float_array",
    "to_instants",
    "unique_word_counts",
]
