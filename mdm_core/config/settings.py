"""The host's settings model: one attrs class per ``mdm.yaml`` section, keys as in MDM 1.x.

These are the sections the host itself reads. Plugins declare theirs (``database.sqlite``
lives in ``mdm_plugin_sqlite.settings``) on their ``Implementation``; the Settings a home
actually gets is this model extended with every loaded plugin's section
(:mod:`mdm_core.config.sections`), still an instance of :class:`Settings`.
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from mdm_core.config.fields import KEY_DOCS, setting
from mdm_core.flags import Flags


@attrs.frozen
class DatabaseSettings:
    """``database``: the host's keys. Each storage plugin adds its own section here
    (``database.sqlite``, ``database.postgresql``, ...; see :mod:`mdm_core.config.sections`)."""

    default_backend: str = setting("sqlite", "Backend of a new dataset when `--backend` is not given "
                                   "(`sqlite`, `duckdb`, `postgresql` or a third-party backend's name).")
    connection_timeout: int = setting(30, "Seconds to wait when connecting to a database server "
                                      "(PostgreSQL `connect_timeout`) before failing with an error.")


def default_max_workers() -> int:
    """The cores of this machine, at most 8 (more threads rarely help one MDM process)."""
    return max(1, min(os.cpu_count() or 1, 8))


@attrs.frozen
class PerformanceSettings:
    """``performance``: how much MDM reads at once and how much memory and threads it uses."""

    batch_size: int = setting(10000, "Rows read, converted and written per batch (registration, export, "
                              "feature generation); lower it when memory is short.")
    memory_cache_mb: int = setting(256, "MB of memory MDM may use to keep a table between passes (the "
                                   "training table while generating features) instead of reading it "
                                   "again; 0 turns this off.")
    memory_budget_mb: int = setting(0, "MB one batch stream (registration, export, migration copy) may "
                                    "hold at once; batches of wide rows get fewer rows than `batch_size` to "
                                    "stay within it. 0: a quarter of the memory available when it starts.")
    max_workers: int = setting(factory=default_max_workers, shown_default="cores, at most 8",
                               doc="Most worker threads MDM asks of a database engine (the default of "
                                   "`database.duckdb.threads`).")


@attrs.frozen
class LoggingSettings:
    """``logging``: the terminal's level and the optional log file (see the Logging section)."""

    level: str = setting("WARNING", "Level of the log file, and of the terminal when no `-v`/`--debug` "
                         "and no log file is given: `DEBUG`, `INFO`, `WARNING`, `ERROR`, `CRITICAL`.")
    file: str | None = setting(None, "Log file; a relative path is under `paths.logs_path`. None: no log file.")
    format: str = setting("console", "Format of the log file: `console` lines or `json` (one object per line).")
    max_bytes: int = setting(10 * 1024 * 1024, "Size in bytes at which the log file is rotated "
                             "(`mdm.log` -> `mdm.log.1`); 0 never rotates.")
    backup_count: int = setting(5, "Rotated log files kept (`mdm.log.1` .. `mdm.log.N`); older ones are deleted.")
    debug_config: bool = setting(False, "Print every setting with its source (masked) on stderr whenever "
                                 "the settings are loaded, and the `MDM_*` variables that set nothing.")


@attrs.frozen
class TemporalFeatureSettings:
    """``feature_engineering.temporal``: calendar parts of datetime columns."""

    enabled: bool = setting(True, "Generate features of datetime columns.")
    components: list[str] = setting(
        factory=lambda: ["year", "month", "day", "dayofweek", "hour", "is_weekend"],
        doc="Calendar parts extracted from each datetime column.",
    )
    cyclical: bool = setting(True, "Add sine/cosine encodings of the cyclic parts (month, day of week, hour).")
    elapsed_days: bool = setting(True, "Add whole days since the training table's earliest value.")


@attrs.frozen
class CategoricalFeatureSettings:
    """``feature_engineering.categorical``: frequency, one-hot and rarity of categories."""

    enabled: bool = setting(True, "Generate features of categorical columns.")
    frequency: bool = setting(True, "Add each category's share of the training rows.")
    count: bool = setting(False, "Add each category's number of training rows.")
    one_hot: bool = setting(True, "Add one 0/1 column per category (up to `max_one_hot_levels` categories).")
    max_one_hot_levels: int = setting(10, "Most categories a column may have to be one-hot encoded.")
    rare: bool = setting(True, "Add a 0/1 column marking categories rarer than `rare_threshold`.")
    rare_threshold: float = setting(0.01, "Share of training rows below which a category is rare.")


@attrs.frozen
class NumericFeatureSettings:
    """``feature_engineering.numeric``: per-column statistical transforms."""

    enabled: bool = setting(True, "Generate statistical transforms of numeric columns.")
    log: bool = setting(True, "Add log1p of skewed columns (see `log_min_skewness`).")
    log_min_skewness: float = setting(1.0, "Absolute skewness from which a column gets a log feature.")
    sqrt: bool = setting(False, "Add the square root of non-negative columns.")
    zscore: bool = setting(False, "Add the z-score against the training table's mean and deviation.")
    percentile: bool = setting(False, "Add the percentile rank within the training table.")
    div_mean: bool = setting(False, "Add the value divided by the training table's mean.")
    outliers: bool = setting(True, "Add a 0/1 column marking values outside the IQR fences.")
    outlier_iqr_multiplier: float = setting(1.5, "k of the outlier fences Q1 - k*IQR .. Q3 + k*IQR.")


@attrs.frozen
class BinningFeatureSettings:
    """``feature_engineering.binning``: bin numbers of numeric columns."""

    enabled: bool = setting(True, "Generate bin numbers of numeric columns.")
    n_bins: int = setting(10, "Number of bins per column.")
    equal_width: bool = setting(False, "Add bins of equal width over the training range.")
    quantile: bool = setting(True, "Add bins holding equal shares of the training rows.")


@attrs.frozen
class TextFeatureSettings:
    """``feature_engineering.text``: counts over free-text columns."""

    enabled: bool = setting(True, "Generate features of free-text columns.")
    basic: bool = setting(True, "Add length, word count and average word length.")
    characters: bool = setting(True, "Add counts of upper-case, lower-case, digit, space and special characters.")
    words: bool = setting(True, "Add the number and ratio of distinct words.")
    patterns: bool = setting(True, "Add counts of URLs, e-mail addresses, hashtags and mentions.")


@attrs.frozen
class MissingFeatureSettings:
    """``feature_engineering.missing``: where values are missing."""

    enabled: bool = setting(True, "Generate missing-value features.")
    indicators: bool = setting(True, "Add a 0/1 column per column with missing values.")
    min_missing_ratio: float = setting(0.0, "Share of missing training values above which a column gets an "
                                       "indicator (0: any missing value).")
    row_summary: bool = setting(True, "Add the count and share of missing values per row.")


@attrs.frozen
class InteractionFeatureSettings:
    """``feature_engineering.interactions``: arithmetic on correlated numeric pairs."""

    enabled: bool = setting(True, "Generate arithmetic combinations of numeric column pairs.")
    max_pairs: int = setting(5, "Most column pairs combined (the most correlated first).")
    min_abs_correlation: float = setting(0.1, "Absolute correlation a pair needs to be combined.")
    operations: list[str] = setting(factory=lambda: ["plus", "minus", "times", "div"],
                                    doc="Operations applied to each pair.")


@attrs.frozen
class FeatureEngineeringSettings:
    """``feature_engineering``: what registration generates (see docs/features.md)."""

    enabled: bool = setting(True, "Generate feature tables when a dataset is registered "
                            "(`mdm features regenerate` works either way).")
    skip_on_error: bool = setting(True, "Skip a failing feature (or custom-features file) with a warning "
                                  "instead of failing the registration.")
    skip_list: list[str] = setting(factory=list, doc="Feature, custom-feature or family names never generated "
                                   "(shell patterns allowed; from the environment: a comma list).")
    debug: bool = setting(False, "Log feature discovery and generation at DEBUG level (terminal and log "
                          "file), whatever the other logging settings.")
    drop_constant: bool = setting(True, "Drop generated features that are all-null or constant on the "
                                  "training table.")
    custom: bool = setting(True, "Run custom features (plugins, `register_feature` and the "
                           "`<custom_features_path>/<dataset>.py` files).")
    sample_size: int = setting(100_000, "Rows of the fixed-seed sample used for correlations and Box-Cox.")
    exact_distinct_limit: int = setting(100_000, "Most distinct values counted exactly per numeric column "
                                        "for percentiles and quantile bins (above it the sample is used).")
    temporal: TemporalFeatureSettings = attrs.Factory(TemporalFeatureSettings)
    categorical: CategoricalFeatureSettings = attrs.Factory(CategoricalFeatureSettings)
    numeric: NumericFeatureSettings = attrs.Factory(NumericFeatureSettings)
    binning: BinningFeatureSettings = attrs.Factory(BinningFeatureSettings)
    text: TextFeatureSettings = attrs.Factory(TextFeatureSettings)
    missing: MissingFeatureSettings = attrs.Factory(MissingFeatureSettings)
    interactions: InteractionFeatureSettings = attrs.Factory(InteractionFeatureSettings)


@attrs.frozen
class PathsSettings:
    """``paths``: folders of the home (relative to it unless absolute)."""

    datasets_path: str = setting("datasets/", "Folder holding one folder per dataset.")
    logs_path: str = setting("logs/", "Folder of relative `logging.file` paths.")
    custom_features_path: str = setting("config/custom_features/", "Folder of the per-dataset custom-feature "
                                        "files `<dataset>.py`.")


#: What each flag does (the class lives in :mod:`mdm_core.flags`; documented here, on the
#: ``flags`` field, for the reference).
FLAG_DOCS = {
    "use_new_config": "On: the new config loader (`mdm.yaml` + `MDM_*`); off: the MDM 1.x loader.",
    "use_new_storage": "On: the new generation of each storage backend; off: the 1.x readers.",
    "use_new_features": "On: the `new` feature engine runs by default; off: the `legacy` engine.",
    "use_new_dataset": "On: the new dataset catalog (`datasets/<name>/dataset.yaml`); off: the 1.x catalog.",
    "use_new_cli": "On: MDM 1.x command spellings are refused naming the new one; off: rewritten with a note.",
    "feature_compatibility_mode": "The new feature engine names its columns as MDM 1.x did.",
}


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
    flags: Flags = attrs.field(factory=Flags, metadata={KEY_DOCS: FLAG_DOCS})

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
