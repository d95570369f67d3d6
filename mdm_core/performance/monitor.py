"""What this machine and this home are doing now: CPU, memory, disk, the operations in
progress (from their lock files and journals) and the recent ones (from the history,
:mod:`mdm_core.performance.history`). Reads only: it never takes or breaks a lock.

An operation is in progress while the process named in its lock file lives
(:func:`mdm_core.datasets.locks.holder_alive`): a dataset's lock (registration, removal,
update, feature regeneration, split, restore...) or the home's migration lock. A
registration or removal journal whose holder is gone is reported as interrupted (the next
command, or ``mdm doctor --fix``, finishes or undoes it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mdm_core.config.settings import Settings


class PerformanceMonitor:
    """Metrics of this machine and of the home of ``settings`` (default: the current home)."""

    def __init__(self, settings: Settings | None = None) -> None:
        if settings is None:
            from mdm_core.config import load_settings

            settings = load_settings().settings
        self.settings = settings

    def get_system_metrics(self, interval: float = 0.1) -> dict[str, Any]:
        """``cpu_percent`` (all cores, sampled over ``interval`` seconds), ``memory_percent``,
        ``memory_used_bytes``, ``memory_available_bytes``, ``memory_total_bytes``,
        ``cores`` (logical) and ``physical_cores``, ``load_average`` (1, 5, 15 min), ``disk``
        of the home's file system (``path``, ``total_bytes``, ``used_bytes``, ``free_bytes``,
        ``percent``), ``active_operations`` and ``interrupted_operations``."""
        import psutil

        memory = psutil.virtual_memory()
        home = _existing(self.settings.home)
        disk = psutil.disk_usage(str(home))
        return {
            "cpu_percent": psutil.cpu_percent(interval=interval),
            "memory_percent": memory.percent,
            "memory_used_bytes": memory.total - memory.available,
            "memory_available_bytes": memory.available,
            "memory_total_bytes": memory.total,
            "cores": os.cpu_count(),
            "physical_cores": psutil.cpu_count(logical=False),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "disk": {"path": str(home), "total_bytes": disk.total, "used_bytes": disk.used,
                     "free_bytes": disk.free, "percent": disk.percent},
            "active_operations": self.active_operations(),
            "interrupted_operations": self.interrupted_operations(),
        }

    def active_operations(self) -> list[dict[str, Any]]:
        """Each operation in progress: ``operation``, ``dataset`` (None for a migration),
        ``pid``, ``since``, and for a migration its ``command`` and running ``phase``."""
        from mdm_core.datasets.locks import LOCKS_DIR, holder_alive, lock_holder

        found = []
        folder = self.settings.datasets_dir / LOCKS_DIR
        for path in sorted(folder.glob("*.lock")) if folder.is_dir() else ():
            holder = lock_holder(path)
            if holder_alive(holder):
                found.append({"operation": holder.get("operation", "unknown"), "dataset": path.stem,
                              "pid": holder.get("pid"), "since": holder.get("since")})
        migration = self._migration()
        if migration is not None:
            found.append(migration)
        return found

    def interrupted_operations(self) -> list[dict[str, Any]]:
        """Registrations and removals whose process died mid-way: ``operation``, ``dataset``,
        ``pid``, ``since`` (from the journal record; None when it was never written)."""
        from mdm_core.datasets import journal
        from mdm_core.datasets.locks import holder_alive, lock_holder, lock_path

        datasets_dir = self.settings.datasets_dir
        found = []
        for name, folders in journal.pending(datasets_dir).items():
            if holder_alive(lock_holder(lock_path(datasets_dir, name))):
                continue
            for folder in folders:
                record = journal.read(folder)
                found.append({"operation": record.kind if record else folder.name.split(".")[1], "dataset": name,
                              "pid": record.pid if record else None, "since": record.started_at if record else None})
        return found

    def _migration(self) -> dict[str, Any] | None:
        from mdm_core.datasets.locks import holder_alive, lock_holder
        from mdm_core.migration.journal import RUNNING, load_journal, migration_dir
        from mdm_core.migration.lock import LOCK_FILE

        holder = lock_holder(migration_dir(self.settings.home) / LOCK_FILE)
        if not holder_alive(holder):
            return None
        try:
            phases = [p.phase for p in load_journal(self.settings.home).phases.values() if p.state == RUNNING]
        except ValueError:  # unreadable journal: mdm doctor reports it
            phases = []
        return {"operation": "migration", "dataset": None, "pid": holder.get("pid"), "since": holder.get("since"),
                "command": holder.get("command"), "phase": phases[0] if phases else None}

    def recent_operations(self, limit: int | None = 20, operation: str | None = None) -> list[dict[str, Any]]:
        """The newest finished operations of the history (see
        :mod:`mdm_core.performance.history`), newest first."""
        from mdm_core.performance.history import history_path, read_history

        return read_history(history_path(self.settings), limit, operation)


def get_monitor(settings: Settings | None = None) -> PerformanceMonitor:
    """A monitor of the current home (or of ``settings``'s)."""
    return PerformanceMonitor(settings)


def _existing(path: Path) -> Path:
    """``path`` or its nearest existing parent (a home not created yet)."""
    while not path.exists() and path.parent != path:
        path = path.parent
    return path
