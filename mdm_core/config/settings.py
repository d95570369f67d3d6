"""The settings model: one attrs class per ``mdm.yaml`` section, keys as in MDM 1.x."""

from __future__ import annotations

from pathlib import Path

import attrs

from mdm_core.flags import Flags


@attrs.frozen
class SQLiteSettings:
    journal_mode: str = "WAL"
    synchronous: str = "NORMAL"
    cache_size: int = -64000
    temp_store: str = "MEMORY"
    mmap_size: int = 268435456
    busy_timeout: int = 10000


@attrs.frozen
class DuckDBSettings:
    memory_limit: str = "2GB"
    threads: int = 2
    temp_directory: str | None = None
    access_mode: str = "READ_WRITE"


@attrs.frozen
class PostgreSQLSettings:
    dsn: str | None = None
    host: str = "localhost"
    port: int = 5432
    user: str | None = None
    password: str | None = None
    dbname: str = "postgres"
    sslmode: str = "prefer"
    pool_size: int = 5
    max_overflow: int = 10


@attrs.frozen
class DatabaseSettings:
    default_backend: str = "sqlite"
    connection_timeout: int = 30
    sqlite: SQLiteSettings = attrs.Factory(SQLiteSettings)
    duckdb: DuckDBSettings = attrs.Factory(DuckDBSettings)
    postgresql: PostgreSQLSettings = attrs.Factory(PostgreSQLSettings)


@attrs.frozen
class PerformanceSettings:
    batch_size: int = 50000
    max_workers: int = 2


@attrs.frozen
class LoggingSettings:
    level: str = "WARNING"
    file: str | None = None
    format: str = "console"


@attrs.frozen
class FeatureEngineeringSettings:
    enabled: bool = True
    skip_on_error: bool = True
    skip_list: list[str] = attrs.Factory(list)


@attrs.frozen
class ExportSettings:
    default_format: str = "csv"
    compression: str | None = None
    include_index: bool = False


@attrs.frozen
class PathsSettings:
    datasets_path: str = "datasets/"
    configs_path: str = "config/datasets/"
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
    export: ExportSettings = attrs.Factory(ExportSettings)
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
