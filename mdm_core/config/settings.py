"""The host's settings model: one attrs class per ``mdm.yaml`` section, keys as in MDM 1.x.

These are the sections the host itself reads. Plugins declare theirs (``database.sqlite``
lives in ``mdm_plugin_sqlite.settings``) on their ``Implementation``; the Settings a home
actually gets is this model extended with every loaded plugin's section
(:mod:`mdm_core.config.sections`), still an instance of :class:`Settings`.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from mdm_core.flags import Flags


@attrs.frozen
class DatabaseSettings:
    """``database``: the host's keys. Each storage plugin adds its own section here
    (``database.sqlite``, ``database.postgresql``, ...; see :mod:`mdm_core.config.sections`)."""

    default_backend: str = "sqlite"
    connection_timeout: int = 30


@attrs.frozen
class PerformanceSettings:
    batch_size: int = 10000
    #: MB of memory MDM may use to keep a table between passes (the training table while
    #: generating features) instead of reading it again; 0 turns this off.
    memory_cache_mb: int = 256


@attrs.frozen
class LoggingSettings:
    level: str = "WARNING"
    file: str | None = None
    format: str = "console"


@attrs.frozen
class TemporalFeatureSettings:
    """``feature_engineering.temporal``: calendar parts of datetime columns."""

    enabled: bool = True
    components: list[str] = attrs.Factory(
        lambda: ["year", "month", "day", "dayofweek", "hour", "is_weekend"]
    )
    cyclical: bool = True
    elapsed_days: bool = True


@attrs.frozen
class CategoricalFeatureSettings:
    """``feature_engineering.categorical``: frequency, one-hot and rarity of categories."""

    enabled: bool = True
    frequency: bool = True
    count: bool = False
    one_hot: bool = True
    max_one_hot_levels: int = 10
    rare: bool = True
    rare_threshold: float = 0.01


@attrs.frozen
class NumericFeatureSettings:
    """``feature_engineering.numeric``: per-column statistical transforms."""

    enabled: bool = True
    log: bool = True
    log_min_skewness: float = 1.0
    sqrt: bool = False
    zscore: bool = False
    percentile: bool = False
    div_mean: bool = False
    outliers: bool = True
    outlier_iqr_multiplier: float = 1.5


@attrs.frozen
class BinningFeatureSettings:
    """``feature_engineering.binning``: bin numbers of numeric columns."""

    enabled: bool = True
    n_bins: int = 10
    equal_width: bool = False
    quantile: bool = True


@attrs.frozen
class TextFeatureSettings:
    """``feature_engineering.text``: counts over free-text columns."""

    enabled: bool = True
    basic: bool = True
    characters: bool = True
    words: bool = True
    patterns: bool = True


@attrs.frozen
class MissingFeatureSettings:
    """``feature_engineering.missing``: where values are missing."""

    enabled: bool = True
    indicators: bool = True
    min_missing_ratio: float = 0.0
    row_summary: bool = True


@attrs.frozen
class InteractionFeatureSettings:
    """``feature_engineering.interactions``: arithmetic on correlated numeric pairs."""

    enabled: bool = True
    max_pairs: int = 5
    min_abs_correlation: float = 0.1
    operations: list[str] = attrs.Factory(lambda: ["plus", "minus", "times", "div"])


@attrs.frozen
class FeatureEngineeringSettings:
    """``feature_engineering``: what registration generates (see docs/features.md).

    ``skip_list`` holds feature, custom-feature or family names (shell patterns allowed);
    ``skip_on_error`` skips a failing feature with a warning instead of failing;
    ``drop_constant`` drops generated features that are all-null or constant on train;
    ``sample_size`` bounds the fixed-seed row sample used for correlations and Box-Cox;
    ``exact_distinct_limit`` bounds the exact value counts kept per numeric column for
    percentiles and quantile bins (above it the row sample is used).
    """

    enabled: bool = True
    skip_on_error: bool = True
    skip_list: list[str] = attrs.Factory(list)
    drop_constant: bool = True
    custom: bool = True
    sample_size: int = 100_000
    exact_distinct_limit: int = 100_000
    temporal: TemporalFeatureSettings = attrs.Factory(TemporalFeatureSettings)
    categorical: CategoricalFeatureSettings = attrs.Factory(CategoricalFeatureSettings)
    numeric: NumericFeatureSettings = attrs.Factory(NumericFeatureSettings)
    binning: BinningFeatureSettings = attrs.Factory(BinningFeatureSettings)
    text: TextFeatureSettings = attrs.Factory(TextFeatureSettings)
    missing: MissingFeatureSettings = attrs.Factory(MissingFeatureSettings)
    interactions: InteractionFeatureSettings = attrs.Factory(InteractionFeatureSettings)


@attrs.frozen
class PathsSettings:
    datasets_path: str = "datasets/"
    logs_path: str = "logs/"
    custom_features_path: str = "config/custom_features/"


@attrs.frozen
class Settings:
    """All settings of one home. ``home`` is not a config key: it comes from
    ``$MDM_HOME_DIR`` or ``~/.mdm``."""

    home: Path
    database: DatabaseSettings = attrs.Factory(DatabaseSettings)
    performance: PerformanceSettings = attrs.Factory(PerformanceSettings)
    logging: LoggingSettings = attrs.Factory(LoggingSettings)
    feature_engineering: FeatureEngineeringSettings = attrs.Factory(FeatureEngineeringSettings)
    paths: PathsSettings = attrs.Factory(PathsSettings)
    flags: Flags = attrs.Factory(Flags)

    def path(self, key: str) -> Path:
        """Resolve a ``paths.*`` value against the home (an absolute value wins)."""
        value = Path(getattr(self.paths, key)).expanduser()
        return value if value.is_absolute() else self.home / value

    @property
    def datasets_dir(self) -> Path:
        return self.path("datasets_path")

    @property
    def custom_features_dir(self) -> Path:
        return self.path("custom_features_path")
