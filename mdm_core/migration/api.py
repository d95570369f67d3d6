"""The Python API of the migration guide: thin classes over :class:`Migration`, the same
orchestrator ``mdm-migrate`` runs (same journal, lock, verification and rollback).

Every class takes ``home`` (default: ``$MDM_HOME_DIR`` or ``~/.mdm``) and builds a fresh
:class:`~mdm_core.migration.orchestrator.Migration` per call, so each call sees the home as
it is now. Errors of the orchestrator (:class:`~mdm_core.errors.MigrationError`, a
:class:`~mdm_core.errors.MigrationBusy` while another run holds the lock) propagate.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from mdm_core.errors import ConfigError, MigrationError
from mdm_core.migration.backups import copy_durably, snapshot_config
from mdm_core.migration.journal import DONE
from mdm_core.migration.orchestrator import EXIT_OK, Migration, RunReport
from mdm_core.migration.step import RunOptions

#: The statement that compacts a store of each file engine (see MigrationCleanup.optimize_storage).
OPTIMIZE_SQL = {"sqlite": "VACUUM", "duckdb": "CHECKPOINT"}


def _home(home: str | Path | None) -> Path:
    from mdm_core.config import resolve_home

    return Path(home).expanduser().resolve() if home is not None else resolve_home()


@attrs.frozen
class MigrationResult:
    """What one run did: ``success`` (every unit done and verified, nothing skipped),
    ``error`` (one line per unit that failed, did not verify or was skipped; None on
    success), ``rows`` written, the ``datasets`` it worked on, the ``exit_code``
    ``mdm-migrate run`` would give, and the orchestrator's full ``report``."""

    success: bool
    error: str | None = None
    rows: int = 0
    datasets: tuple[str, ...] = ()
    exit_code: int = EXIT_OK
    report: RunReport | None = attrs.field(default=None, eq=False, repr=False)

    @classmethod
    def of(cls, report: RunReport) -> MigrationResult:
        bad = [o for o in report.outcomes if o.record.state != DONE or o.problems]
        lines = [f"{o.record.unit}: {o.record.error or '; '.join(o.problems) or o.record.state}" for o in bad]
        if report.stopped_at and not lines:
            lines.append(f"stopped in phase {report.stopped_at}")
        return cls(
            success=report.exit_code == EXIT_OK, error="; ".join(lines) or None,
            rows=sum(o.record.rows_written or 0 for o in report.outcomes),
            datasets=tuple(sorted({o.record.dataset for o in report.outcomes if o.record.dataset})),
            exit_code=report.exit_code, report=report,
        )


@attrs.frozen
class ConfigValidation:
    """``valid`` when ``errors`` (one sentence each) is empty."""

    errors: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.errors


def check_config(home: Path, values: Mapping[str, Any], where: str) -> list[str]:
    """What the new settings model finds wrong in ``values`` (nested, as in ``mdm.yaml``):
    a value of the wrong type or outside its choices, keys a plugin's section does not
    declare. ``where`` names the values' origin in the messages."""
    from mdm_core.config.model import build_settings, check_choices, settings_model, unknown_keys

    model = settings_model()
    sources = dict.fromkeys(model.leaves, where)
    errors = [f"{where}: unknown key '{dotted}' in section '{section.dotted}' of plugin '{section.plugin}'"
              for dotted, section in unknown_keys(dict(values), model)]
    try:
        check_choices(build_settings(home, dict(values), sources, model), sources)
    except ConfigError as exc:
        errors.insert(0, str(exc))
    return errors


class ConfigMigrator:
    """The config phase and manual copies of ``mdm.yaml``."""

    def __init__(self, home: str | Path | None = None) -> None:
        self.home = _home(home)

    @property
    def config_file(self) -> Path:
        return self.home / "mdm.yaml"

    def backup_config(self, path: str | Path | None = None) -> Path:
        """Copy ``mdm.yaml`` to ``path`` (a file, or a folder to put ``mdm.yaml`` in), or by
        default to ``<home>/.migration/backups/manual/mdm-<time>.yaml``; returns the copy.
        ConfigError when the home has no ``mdm.yaml``."""
        if not self.config_file.is_file():
            raise ConfigError(f"No {self.config_file} to back up.")
        if path is None:
            return snapshot_config(self.home, "manual")  # type: ignore[return-value]
        target = Path(path).expanduser()
        target = target / "mdm.yaml" if target.is_dir() else target
        target.parent.mkdir(parents=True, exist_ok=True)
        copy_durably(self.config_file, target)
        return target

    def migrate_config(self) -> MigrationResult:
        """Run the config phase (``mdm-migrate run --phase config``): the 1.x settings become
        the new ``mdm.yaml``, backed up, verified, flag ``use_new_config`` flipped."""
        return MigrationResult.of(Migration(self.home).run("config"))

    def validate_config(self, cfg: Mapping[str, Any] | None = None) -> ConfigValidation:
        """Check ``cfg`` (nested settings, as in ``mdm.yaml``), or the home's ``mdm.yaml``
        read as the new layout, against the new settings model."""
        from mdm_core.config.loader import read_yaml_mapping

        if cfg is not None:
            return ConfigValidation(tuple(check_config(self.home, cfg, "config")))
        if not self.config_file.is_file():
            return ConfigValidation()
        try:
            values = read_yaml_mapping(self.config_file)
        except ConfigError as exc:
            return ConfigValidation((str(exc),))
        return ConfigValidation(tuple(check_config(self.home, values, str(self.config_file))))

    def restore_config(self, path: str | Path) -> Path:
        """Put the copy at ``path`` back as ``mdm.yaml`` (atomically: the old file or the
        whole copy, whenever the process dies); returns ``mdm.yaml``'s path."""
        source = Path(path).expanduser()
        if not source.is_file():
            raise ConfigError(f"No backup at {source}.")
        copy_durably(source, self.config_file)
        return self.config_file


class StorageMigrator:
    """The storage phase for one dataset at a time. ``backends`` is ``[source, target]``:
    datasets move to ``target`` (``mdm-migrate run --phase storage --to TARGET``); without
    it each 1.x dataset stays on its own engine and new-layout datasets stay where they are."""

    def __init__(self, backends: list[str] | tuple[str, str] | None = None, home: str | Path | None = None) -> None:
        if backends is not None and len(backends) != 2:
            raise ValueError(f"backends is [source, target], got {list(backends)!r}")
        self.source, self.target = backends if backends is not None else (None, None)
        self.home = _home(home)

    def list_datasets(self) -> list[str]:
        """The datasets the storage phase would move (its plan; reads only): every 1.x
        dataset, and the new-layout ones on ``source`` (``from`` in the unit's data)."""
        plan = Migration(self.home, RunOptions(to=self.target)).plan("storage")
        units = [u for phase in plan.phases if phase.phase == "storage" for _, u in phase.units]
        return sorted({str(u.dataset) for u in units
                       if u.dataset and (self.source is None or u.data.get("from", self.source) == self.source)})

    def migrate_dataset(self, name: str, verify: bool = True) -> MigrationResult:
        """``mdm-migrate run --phase storage --to TARGET --datasets NAME`` (earlier phases
        first, as the CLI runs them). Every unit is verified by the orchestrator before it
        is recorded done and the catalog points at the new store only then: ``verify`` is
        accepted for the guide's code and changes nothing (verification cannot be turned
        off). The phase stays partial and its flag unflipped while other datasets remain."""
        from mdm_core.datasets.models import normalize_name

        options = RunOptions(to=self.target, datasets=(normalize_name(name),))
        return MigrationResult.of(Migration(self.home, options).run("storage"))

    def rollback_dataset(self, name: str) -> list[str]:
        """Undo this dataset's storage units (new store dropped, its ``dataset.yaml`` put
        back byte for byte); returns the units undone. See
        :meth:`Migration.rollback_dataset` for when it is refused."""
        from mdm_core.datasets.models import normalize_name

        return Migration(self.home).rollback_dataset(normalize_name(name), "storage")


@attrs.frozen
class ValidationReport:
    """``checked`` units re-verified; ``errors``: one line per mismatch (``unit: problem``)."""

    checked: int
    errors: list[str]

    def has_errors(self) -> bool:
        return bool(self.errors)


class DataValidator:
    def __init__(self, home: str | Path | None = None) -> None:
        self.home = _home(home)

    def validate_all_datasets(self, deep: bool = False) -> ValidationReport:
        """``mdm-migrate validate [--deep]``: every done unit re-verified (row counts;
        content checksums of both sides with ``deep``). Reads only."""
        outcomes = Migration(self.home).validate(deep=deep)
        errors = [f"{o.record.unit}: {problem}" for o in outcomes for problem in o.problems]
        return ValidationReport(len(outcomes), errors)


class RollbackManager:
    """``mdm-migrate rollback``: phases undone newest first, each file of the home they
    changed put back byte for byte, what they created removed, their flags unflipped.
    Each method returns the phases rolled back."""

    def __init__(self, home: str | Path | None = None) -> None:
        self.home = _home(home)

    def rollback_all(self) -> list[str]:
        """Every phase (``--all``); the journal and backups go too."""
        return Migration(self.home).rollback(None)

    def rollback_storage(self) -> list[str]:
        """Phase storage and every later phase (``--phase storage``)."""
        return Migration(self.home).rollback("storage")

    def rollback_config(self) -> list[str]:
        """Phase config and every later phase (``--phase config``): as the phases build on
        one another, that is the whole migration."""
        return Migration(self.home).rollback("config")


class DatasetDiscovery:
    def __init__(self, home: str | Path | None = None) -> None:
        self.home = _home(home)

    def scan_and_register_datasets(self) -> list[str]:
        """Run the phases up to ``dataset`` (``mdm-migrate run --phase dataset``): every
        1.x dataset, including folders with a database and no YAML, becomes a new-layout
        dataset. Returns the datasets registered by this migration so far (sorted); broken
        ones are left out (see the journal, ``mdm-migrate status``). MigrationError when a
        unit failed or did not verify."""
        migration = Migration(self.home)
        result = MigrationResult.of(migration.run("dataset"))
        registered = sorted({str(u.dataset) for u in migration.journal().units_of("dataset")
                             if u.state == DONE and u.dataset})
        if not result.success and result.exit_code != 5:  # 5: some skipped, the others registered
            raise MigrationError(f"Dataset discovery failed: {result.error}")
        return registered


class MigrationCleanup:
    """``mdm-migrate cleanup`` and store compaction. The orchestrator cleans up in one go
    (only after a verified, complete run): it removes every backup and everything the
    migration replaced (1.x YAML and ``dataset_info.json``, ``config.yaml``, old stores).
    :meth:`remove_backups` and :meth:`remove_legacy_configs` therefore both run that one
    cleanup; after it the migration can no longer be rolled back."""

    def __init__(self, home: str | Path | None = None) -> None:
        self.home = _home(home)

    def _cleanup(self) -> list[str]:
        migration = Migration(self.home)
        return [] if migration.journal().cleaned else migration.cleanup()

    def remove_backups(self) -> list[str]:
        """The whole cleanup (see the class doc); returns what it removed ([] when the
        migration was cleaned up already)."""
        return self._cleanup()

    def remove_legacy_configs(self) -> list[str]:
        """The whole cleanup, the same as :meth:`remove_backups` (see the class doc)."""
        return self._cleanup()

    def optimize_storage(self) -> list[str]:
        """Compact the store of every dataset the migration worked on that lives on SQLite
        (``VACUUM``) or DuckDB (``CHECKPOINT``), through the store's ``execute_sql``; other
        engines are left alone. Returns the datasets compacted."""
        from mdm_core.datasets.client import MDMClient

        names = sorted({str(u.dataset) for u in Migration(self.home).journal().units.values()
                        if u.state == DONE and u.dataset})
        client = MDMClient(self.home)
        done = []
        for name in names:
            if not client.dataset_exists(name):
                continue
            info = client.get_dataset_info(name)
            sql = OPTIMIZE_SQL.get(info.backend)
            if sql is None or info.legacy:
                continue
            with client.open_store(name, read_only=False) as store:
                store.execute_sql(sql)
            done.append(name)
        return done
