"""Settings for this machine: ``mdm config tune`` and :class:`PerformanceTuner`.

:meth:`PerformanceTuner.auto_tune` looks at the machine (memory, cores, free disk of the
home) and at the home's largest table (row counts from the catalog metadata; bytes per
row from the size of the dataset's folder, or its column count when the data lives on a
server) and proposes ``performance.batch_size`` and ``performance.memory_cache_mb``; each
storage backend proposes its own keys through the ``tune`` attribute of its
:class:`~mdm_core.hookspecs.Implementation` (DuckDB ``memory_limit``/``threads``/
``temp_directory``, PostgreSQL ``pool_size``). Every :class:`Proposal` says the current and
proposed value and why. :meth:`PerformanceTuner.apply_config` writes proposals (or a
``{key: value}`` mapping) into ``mdm.yaml``, backing the file up first and keeping the
user's other keys. Nothing is opened but the catalog's metadata files.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from mdm_core.errors import ConfigError
from mdm_core.logging import get_logger

log = get_logger(__name__)

MIB = 1024 * 1024
#: Share of the machine's memory one batch (with its conversions) may take.
BATCH_MEMORY_SHARE = 0.02
#: Share of the machine's memory the table cache may take.
CACHE_MEMORY_SHARE = 0.10
#: Bytes per stored value assumed when only the column count is known.
BYTES_PER_VALUE = 8


@attrs.frozen
class LargestTable:
    """The home's largest table by rows: ``dataset.table``, its rows and estimated bytes."""

    name: str
    rows: int
    bytes: int

    @property
    def row_bytes(self) -> int:
        return max(1, self.bytes // max(1, self.rows))


@attrs.frozen
class TuningContext:
    """What proposals are made from (``tune`` of a storage implementation receives it)."""

    settings: Any
    memory_bytes: int
    available_bytes: int
    cores: int
    free_disk_bytes: int
    largest: LargestTable | None

    @property
    def home(self) -> Path:
        return self.settings.home

    def current(self, dotted: str) -> Any:
        """The value ``dotted`` has now."""
        node = self.settings
        for part in dotted.split("."):
            node = getattr(node, part)
        return node


@attrs.frozen
class Proposal:
    """One key: its current value, the proposed one and the reason (one sentence)."""

    key: str
    current: Any
    proposed: Any
    reason: str

    @property
    def changes(self) -> bool:
        return self.current != self.proposed


@attrs.frozen
class Applied:
    """What :meth:`PerformanceTuner.apply_config` wrote: the file, its backup (None when
    there was no file before) and the values set."""

    path: Path
    backup: Path | None
    values: dict[str, Any]


def size_text(n: int) -> str:
    """Bytes as DuckDB's ``memory_limit`` takes them: ``2GB``, ``512MB`` (rounded down)."""
    gib = n / (1024 * MIB)
    return f"{int(gib)}GB" if gib >= 1 else f"{max(1, n // MIB)}MB"


class PerformanceTuner:
    """Proposes and applies performance settings for the home of ``settings`` (default:
    the current home's, loaded)."""

    def __init__(self, settings: Any = None) -> None:
        if settings is None:
            from mdm_core.config import load_settings

            settings = load_settings().settings
        self.settings = settings

    def context(self) -> TuningContext:
        """This machine and the home's largest table, as proposals see them."""
        import psutil

        memory = psutil.virtual_memory()
        home = Path(self.settings.home)
        probe = home if home.exists() else home.parent
        return TuningContext(
            settings=self.settings, memory_bytes=int(memory.total), available_bytes=int(memory.available),
            cores=os.cpu_count() or 1, free_disk_bytes=int(shutil.disk_usage(probe).free),
            largest=self._largest_table(),
        )

    def auto_tune(self) -> list[Proposal]:
        """Proposals for every key tuned (the host's, then each backend's), changed or not."""
        context = self.context()
        proposals = [_batch_size(context), _memory_cache(context)]
        for plugin, tune in _backend_tuners():
            try:
                found = list(tune(context))
            except Exception as exc:  # a plugin's bug must not hide the other proposals
                log.warning("tuning failed", plugin=plugin, error=f"{type(exc).__name__}: {exc}")
                continue
            proposals += [p for p in found if isinstance(p, Proposal)]
        return proposals

    def apply_config(self, cfg: Iterable[Proposal] | Mapping[str, Any]) -> Applied:
        """Write ``cfg`` (proposals, or ``{dotted key: value}``) into the home's ``mdm.yaml``:
        an existing file is backed up first (``mdm.yaml.bak-<timestamp>``) and keeps its other
        keys. ConfigError for a key the settings do not have or a value of the wrong type
        (nothing is written then)."""
        from mdm_core.config import backup_config_file, update_config_values
        from mdm_core.config.model import coerce, settings_model

        items = cfg.items() if isinstance(cfg, Mapping) else ((p.key, p.proposed) for p in cfg)
        leaves = settings_model().leaves
        changes: dict[str, Any] = {}
        for key, value in items:
            if key not in leaves:
                raise ConfigError(f"Unknown config key '{key}'; `mdm config reference` lists the keys.")
            try:
                changes[key] = coerce(value, leaves[key].type, from_text=isinstance(value, str))
            except (ValueError, TypeError):
                raise ConfigError(f"Value {value!r} does not fit config key '{key}'.") from None
        home = Path(self.settings.home)
        backup = backup_config_file(home)
        return Applied(update_config_values(home, changes), backup, changes)

    def _largest_table(self) -> LargestTable | None:
        """The table with the most rows in the catalog (None when the home has none, or its
        catalog cannot be read)."""
        from mdm_core.datasets.catalog import open_catalog
        from mdm_core.errors import MDMError

        try:
            catalog = open_catalog(self.settings)
            datasets = catalog.list()
        except MDMError as exc:
            log.info("catalog not read for tuning", error=str(exc))
            return None
        best: LargestTable | None = None
        for info in datasets:
            rows = sum(t.row_count for t in info.tables)
            if not rows:
                continue
            folder_bytes = _folder_bytes(catalog.folder(info.name)) if hasattr(catalog, "folder") else 0
            for table in info.tables:
                if best is not None and table.row_count <= best.rows:
                    continue
                row_bytes = max(folder_bytes // rows, BYTES_PER_VALUE * max(1, len(table.columns)))
                best = LargestTable(f"{info.name}.{table.name}", table.row_count, row_bytes * table.row_count)
        return best


def _folder_bytes(folder: Path) -> int:
    """Bytes of the files under ``folder`` (0 when it is not there)."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def _backend_tuners() -> list[tuple[str, Any]]:
    """(plugin, tune) of the storage implementations offering ``tune``, one per section."""
    from mdm_core.plugins import get_plugin_manager

    seen: set[str | None] = set()
    found = []
    for plugin, impl in get_plugin_manager().implementations("storage"):
        if impl.tune is None or impl.settings_section in seen:
            continue
        seen.add(impl.settings_section)
        found.append((plugin, impl.tune))
    return found


def _batch_size(context: TuningContext) -> Proposal:
    key = "performance.batch_size"
    row_bytes = context.largest.row_bytes if context.largest else 256
    budget = int(context.memory_bytes * BATCH_MEMORY_SHARE)
    proposed = max(1_000, min(200_000, budget // row_bytes // 1_000 * 1_000))
    where = (f"{context.largest.name}, the largest table, has ~{row_bytes} B per row"
             if context.largest else f"no dataset yet, ~{row_bytes} B per row assumed")
    return Proposal(key, context.current(key), proposed,
                    f"{where}; a batch may use 2% of the {context.memory_bytes // MIB:,} MiB of memory "
                    "(between 1,000 and 200,000 rows)")


def _memory_cache(context: TuningContext) -> Proposal:
    key = "performance.memory_cache_mb"
    cap = int(context.memory_bytes * CACHE_MEMORY_SHARE) // MIB
    if context.largest is None:
        proposed = max(64, min(256, cap))
        reason = f"no dataset yet: the default, within 10% of memory ({cap:,} MiB)"
    else:
        needed = -(-context.largest.bytes * 3 // 2 // MIB)  # the table and its Arrow overhead
        proposed = max(64, min(cap, needed))
        fits = "holds" if needed <= cap else "cannot hold"
        reason = (f"10% of memory ({cap:,} MiB) {fits} {context.largest.name} "
                  f"(~{context.largest.bytes // MIB:,} MiB, 1.5x for Arrow)")
    return Proposal(key, context.current(key), proposed, reason)
