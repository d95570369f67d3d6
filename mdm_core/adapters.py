"""The migration guide's "new imports": entry points that pick the implementation the
flags choose, as the CLI does.

- :func:`get_storage_backend` -- the winning generation of a storage backend;
- :func:`get_dataset_registrar` -- registration through :class:`MDMClient`;
- :func:`get_feature_generator` -- feature tables of an in-memory DataFrame, made by the
  winning feature engine through the same runner as registration;
- :func:`get_config_manager` -- the settings, and validated updates of ``mdm.yaml``.

Each takes ``home`` (default: ``$MDM_HOME_DIR`` or ``~/.mdm``). Importing this module is
cheap; the data stack loads when data moves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mdm_core.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from mdm_core.config.settings import Settings
    from mdm_core.datasets.models import DatasetInfo
    from mdm_core.storage import StorageBackend


def _home(home: str | Path | None) -> Path:
    from mdm_core.config import resolve_home

    return Path(home).expanduser().resolve() if home is not None else resolve_home()


def _settings(home: str | Path | None) -> Settings:
    from mdm_core.config import load_settings

    return load_settings(_home(home), fresh=True).settings


def get_storage_backend(name: str, home: str | Path | None = None) -> StorageBackend:
    """The backend ``name`` (``sqlite``, ``duckdb``, ``postgresql``) of the generation the
    ``use_new_storage`` flag chooses (:func:`mdm_core.backends.get_backend`)."""
    from mdm_core.backends import get_backend

    return get_backend(name, _settings(home))


class DatasetRegistrar:
    """Registration with the guide's argument names, over :meth:`MDMClient.register_dataset`."""

    def __init__(self, home: str | Path | None = None) -> None:
        self.home = _home(home)

    def register_dataset(self, name: str, path: str | Path, target_column: str | None = None,
                         problem_type: str | None = None, **options: Any) -> DatasetInfo:
        """Register ``path`` as ``name``; ``target_column`` is the client's ``target``, every
        other keyword goes to :meth:`MDMClient.register_dataset` as is."""
        from mdm_core.datasets.client import MDMClient

        if "target" in options:
            raise TypeError("give the target as target_column")
        return MDMClient(self.home).register_dataset(name, path, target=target_column, problem_type=problem_type,
                                                     **options)


def get_dataset_registrar(home: str | Path | None = None) -> DatasetRegistrar:
    return DatasetRegistrar(home)


class FeatureGenerator:
    """Feature tables of DataFrames, with the engine the ``use_new_features`` flag chooses
    (:mod:`mdm_core.features.frame`: the registration runner on an in-memory store)."""

    def __init__(self, home: str | Path | None = None) -> None:
        self.home = _home(home)

    def generate_features(self, df: pd.DataFrame, column_types: Mapping[str, str] | None = None,
                          dataset: str | None = None, *, target_column: str | None = None,
                          id_columns: Sequence[str] = ()) -> pd.DataFrame:
        """``df``'s columns followed by its feature columns, one row per row of ``df``, as
        a ``<table>_features`` table holds them.

        Without ``dataset`` the engine is fitted on ``df`` itself: ``column_types`` gives
        column kinds (``numeric``, ``categorical``, ``datetime``, ``text``, ``boolean``,
        ``id``), the others are detected as registration detects them; ``target_column``
        and ``id_columns`` get no features; the plugins' custom features apply.

        With ``dataset=NAME`` new data gets that dataset's features: the same columns and,
        row for row, the values its ``<table>_features`` tables would hold. The fitted
        state is not stored, so the dataset's engine is fitted again on its training
        table (read from its store, kinds, target and ID columns as recorded;
        ``column_types`` and the keywords are not used), with its custom features and its
        backend's column limit. ``df``'s columns are cast to the training table's types."""
        import pyarrow as pa

        table = pa.Table.from_pandas(df, preserve_index=False)
        settings = _settings(self.home)
        if dataset is None:
            return _fitted_on_frame(table, settings, column_types or {}, target_column, tuple(id_columns)).to_pandas()
        return _with_dataset(table, settings, self.home, dataset).to_pandas()


def _fitted_on_frame(table: Any, settings: Any, kinds: Mapping[str, str], target: str | None,
                     ids: tuple[str, ...]) -> Any:
    from mdm_core.datasets.detection import column_kinds
    from mdm_core.features.contract import FitContext, SourceColumn
    from mdm_core.features.frame import frame_features
    from mdm_core.features.runner import FeatureJob

    detected = column_kinds(table, ids, dict(kinds))
    context = FitContext("frame", tuple(SourceColumn(c, k) for c, k in detected.items()), target, ids,
                         row_count=table.num_rows)
    return frame_features({"frame": table}, "frame", FeatureJob("", context, {"frame": table.num_rows}), settings)


def _with_dataset(table: Any, settings: Any, home: Path, dataset: str) -> Any:
    import attrs
    import pyarrow as pa

    from mdm_core.backends import get_backend
    from mdm_core.datasets.client import MDMClient
    from mdm_core.datasets.feature_stage import feature_job
    from mdm_core.features.frame import frame_features

    client = MDMClient(home, settings=settings)
    info = client.get_dataset_info(dataset)
    job = feature_job(info)
    name = "frame"
    while name in job.tables or f"{name}_features" in job.tables:
        name += "_"
    with client.open_store(info.name) as store:
        train = store.table_schema(job.train.table)
        table = table.cast(pa.schema([train.field(c) if c in train.names else table.schema.field(c)
                                      for c in table.column_names]))
        # the dataset's other tables take part with their schemas only: which feature
        # names are free and which custom features apply are decided over every table
        held = {t: store.table_schema(t).empty_table() for t in job.tables if t != job.train.table}
        held[name] = table
        job = attrs.evolve(job, tables={**job.tables, **{t: 0 for t in held if t != name}, name: table.num_rows})
        return frame_features(held, name, job, settings, base=store, engine_name=info.feature_engine,
                              max_columns=get_backend(info.backend, settings).capabilities.max_columns)


def get_feature_generator(home: str | Path | None = None) -> FeatureGenerator:
    return FeatureGenerator(home)


class ConfigManager:
    """The home's settings and validated updates of its ``mdm.yaml``."""

    def __init__(self, home: str | Path | None = None) -> None:
        self.home = _home(home)

    @property
    def config(self) -> Settings:
        """The current settings (file, ``MDM_*`` variables, defaults), loaded now."""
        return _settings(self.home)

    def update_config(self, changes: Mapping[str, Any]) -> Path:
        """Set keys of ``mdm.yaml``: ``changes`` maps dotted keys (``performance.batch_size``)
        or nested mappings (``{"performance": {"batch_size": 5000}}``) to values. The file
        as it would be is validated with the new settings model first: an unknown key or a
        bad value is a ConfigError and the file is left unchanged. Then a copy goes to
        ``<home>/.migration/backups/settings/`` and the keys are written; returns the file."""
        from mdm_core.config import update_config_file
        from mdm_core.config.loader import read_yaml_mapping
        from mdm_core.config.model import set_dotted, settings_model
        from mdm_core.migration.api import check_config
        from mdm_core.migration.backups import snapshot_config

        flat = dict(_flatten(changes))
        unknown = [key for key in flat if key not in settings_model().leaves]
        if unknown:
            raise ConfigError(f"Unknown config key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}.")
        path = self.home / "mdm.yaml"
        values = read_yaml_mapping(path) if path.is_file() else {}
        for key, value in flat.items():
            set_dotted(values, key, value)
        errors = check_config(self.home, values, "update")
        if errors:
            raise ConfigError("; ".join(errors))
        snapshot_config(self.home, "settings")
        for key, value in flat.items():
            path = update_config_file(self.home, key, value)
        return path


def _flatten(changes: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Dotted keys of ``changes``: a mapping is descended into unless its key is a leaf."""
    from mdm_core.config.model import settings_model

    leaves = settings_model().leaves
    out: list[tuple[str, Any]] = []
    for key, value in changes.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and dotted not in leaves:
            out.extend(_flatten(value, dotted + "."))
        else:
            out.append((dotted, value))
    return out


def get_config_manager(home: str | Path | None = None) -> ConfigManager:
    return ConfigManager(home)
