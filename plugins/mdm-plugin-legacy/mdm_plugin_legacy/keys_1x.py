"""The settings keys MDM 1.x knew, and how the oldest flat ``config.yaml`` maps onto them.

Facts only, no I/O. :data:`KNOWN_KEYS` lists every dotted leaf key of MDM 1.0.6's
settings model (``src/mdm/models/config.py`` of 1.0.6: ``paths``, ``database``,
``performance``, ``logging``, ``feature_engineering``, ``export``, ``validation``,
``cli``, ``development``) with its 1.x default; the nested 1.x names are also the new
ones (``database.default_backend``, ``performance.batch_size``, ``logging.level``,
``paths.datasets_path`` ...). ``database.postgresql.dsn`` is not a 1.x key but is
honoured too (the new system's way to give a server without a plaintext password).
"""

from __future__ import annotations

from typing import Any

#: Dotted 1.x key -> its 1.x default.
KNOWN_KEYS: dict[str, Any] = {
    "paths.datasets_path": "datasets/",
    "paths.configs_path": "config/datasets/",
    "paths.logs_path": "logs/",
    "paths.custom_features_path": "config/custom_features/",
    "database.default_backend": "sqlite",
    "database.connection_timeout": 30,
    "database.sqlalchemy.echo": False,
    "database.sqlalchemy.pool_size": 5,
    "database.sqlalchemy.max_overflow": 10,
    "database.sqlalchemy.pool_timeout": 30,
    "database.sqlalchemy.pool_recycle": 3600,
    "database.sqlite.journal_mode": "WAL",
    "database.sqlite.synchronous": "NORMAL",
    "database.sqlite.cache_size": -64000,
    "database.sqlite.temp_store": "MEMORY",
    "database.sqlite.mmap_size": 268435456,
    "database.duckdb.memory_limit": "8GB",
    "database.duckdb.threads": 4,
    "database.duckdb.temp_directory": "/tmp",
    "database.duckdb.access_mode": "READ_WRITE",
    "database.postgresql.host": "localhost",
    "database.postgresql.port": 5432,
    "database.postgresql.user": None,
    "database.postgresql.password": None,
    "database.postgresql.database_prefix": "mdm_",
    "database.postgresql.sslmode": "prefer",
    "database.postgresql.pool_size": 10,
    "database.postgresql.dsn": None,
    "performance.batch_size": 10000,
    "performance.max_concurrent_operations": 5,
    "logging.level": "INFO",
    "logging.file": "mdm.log",
    "logging.max_bytes": 10485760,
    "logging.backup_count": 5,
    "logging.format": "console",
    "feature_engineering.enabled": True,
    "feature_engineering.generic.temporal.enabled": True,
    "feature_engineering.generic.temporal.include_cyclical": True,
    "feature_engineering.generic.temporal.include_lag": False,
    "feature_engineering.generic.categorical.enabled": True,
    "feature_engineering.generic.categorical.max_cardinality": 50,
    "feature_engineering.generic.categorical.min_frequency": 0.01,
    "feature_engineering.generic.statistical.enabled": True,
    "feature_engineering.generic.statistical.include_log": True,
    "feature_engineering.generic.statistical.include_zscore": True,
    "feature_engineering.generic.statistical.outlier_threshold": 3.0,
    "feature_engineering.generic.text.enabled": True,
    "feature_engineering.generic.text.min_text_length": 20,
    "feature_engineering.generic.binning.enabled": True,
    "feature_engineering.generic.binning.n_bins": [5, 10],
    "feature_engineering.type_detection.categorical_threshold": 20,
    "feature_engineering.type_detection.text_min_avg_length": 50,
    "feature_engineering.type_detection.detect_datetime": True,
    "export.default_format": "csv",
    "export.compression": "zip",
    "export.include_metadata": True,
    "cli.default_output_format": "rich",
    "cli.page_size": 20,
    "cli.confirm_destructive": True,
    "cli.show_progress": True,
    "development.debug_mode": False,
    "development.profile_operations": False,
    "development.explain_queries": False,
    **{
        f"validation.{stage}.{key}": default
        for stage in ("before_features", "after_features")
        for key, default in (
            ("check_duplicates", stage == "before_features"),
            ("drop_duplicates", stage == "before_features"),
            ("signal_detection", stage == "after_features"),
            ("max_missing_ratio", 0.99),
            ("min_rows", 10),
        )
    },
}

#: Keys of the flat ``config.yaml`` (the oldest form) -> the nested key they mean. See
#: ``shared/fixtures/legacy-config/README.md``; the prefixed families below extend it to
#: every key of the engine sections (``sqlite_synchronous`` -> ``database.sqlite.synchronous``).
FLAT_KEYS: dict[str, str] = {
    "backend": "database.default_backend",
    "default_backend": "database.default_backend",
    "batch_size": "performance.batch_size",
    "log_level": "logging.level",
    "log_file": "logging.file",
    "log_format": "logging.format",
    "datasets_path": "paths.datasets_path",
    "configs_path": "paths.configs_path",
    "logs_path": "paths.logs_path",
    "custom_features_path": "paths.custom_features_path",
    "features_enabled": "feature_engineering.enabled",
    "connection_timeout": "database.connection_timeout",
    "max_concurrent_operations": "performance.max_concurrent_operations",
}

#: Flat-key prefix -> the nested section whose keys it abbreviates.
FLAT_PREFIXES: dict[str, str] = {
    "sqlite_": "database.sqlite.",
    "duckdb_": "database.duckdb.",
    "postgres_": "database.postgresql.",
    "postgresql_": "database.postgresql.",
}

#: Flat environment variables of the oldest MDM -> the nested key they set. The nested
#: form (``MDM_DATABASE_DEFAULT_BACKEND``) wins when both are set.
FLAT_ENV: dict[str, str] = {
    "MDM_BACKEND": "database.default_backend",
    "MDM_BATCH_SIZE": "performance.batch_size",
    "MDM_LOG_LEVEL": "logging.level",
}


def env_var(dotted: str) -> str:
    """The ``MDM_<SECTION>_<KEY>`` variable of a dotted key (``database.sqlite.journal_mode``
    -> ``MDM_DATABASE_SQLITE_JOURNAL_MODE``)."""
    return "MDM_" + dotted.replace(".", "_").upper()


def flat_key_target(key: str, known: set[str] | frozenset[str]) -> str | None:
    """The nested key a flat ``config.yaml`` key stands for, or None when it is unknown."""
    if key in FLAT_KEYS:
        return FLAT_KEYS[key]
    for prefix, section in FLAT_PREFIXES.items():
        if key.startswith(prefix) and f"{section}{key[len(prefix):]}" in known:
            return f"{section}{key[len(prefix):]}"
    return None
