"""Doctor checks of work left behind: dataset lock files whose holder died, registrations
or removals interrupted mid-way (``<datasets>/.staging``), and an interrupted, failed or
partial migration (``<home>/.migration``); and :func:`fix_safe`, which clears the first
two (``mdm doctor --fix``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mdm_core.health.model import Check, fail, ok, warn

WORK = "work"
FIX = "mdm doctor --fix"


def stale_dataset_locks(datasets_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """(dataset name, holder record) of every dataset lock file whose holder is dead."""
    from mdm_core.datasets.locks import LOCKS_DIR, holder_alive, lock_holder

    folder = datasets_dir / LOCKS_DIR
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("*.lock")):
        holder = lock_holder(path)
        if not holder_alive(holder):
            found.append((path.stem, holder))
    return found


def stale_migration_lock(home: Path) -> dict[str, Any] | None:
    """The holder record of a migration lock file whose holder is dead, else None."""
    from mdm_core.datasets.locks import holder_alive, lock_holder
    from mdm_core.migration.journal import migration_dir
    from mdm_core.migration.lock import LOCK_FILE

    path = migration_dir(home) / LOCK_FILE
    if not path.is_file():
        return None
    holder = lock_holder(path)
    return None if holder_alive(holder) else holder


def interrupted_operations(datasets_dir: Path) -> list[tuple[str, Path]]:
    """(dataset name, journal folder) of every dataset operation whose process is gone
    (its dataset's lock is not held by a live process)."""
    from mdm_core.datasets.journal import pending
    from mdm_core.datasets.locks import holder_alive, lock_holder, lock_path

    return [(name, folder) for name, folders in pending(datasets_dir).items()
            if not holder_alive(lock_holder(lock_path(datasets_dir, name))) for folder in folders]


def check_work(settings: Any) -> list[Check]:
    rows = []
    datasets_dir = settings.datasets_dir
    for name, holder in stale_dataset_locks(datasets_dir):
        rows.append(warn(WORK, f"lock {name}", f"lock file of dataset '{name}' left by pid {holder.get('pid', '?')} "
                         f"({holder.get('operation', '?')} since {holder.get('since', '?')}), which is gone.", FIX))
    holder = stale_migration_lock(settings.home)
    if holder is not None:
        rows.append(warn(WORK, "migration lock", f"left by pid {holder.get('pid', '?')} (`mdm-migrate "
                         f"{holder.get('command', '?')}` since {holder.get('since', '?')}), which is gone.", FIX))
    for name, folder in interrupted_operations(datasets_dir):
        kind = folder.name.split(".")[1] if folder.name.count(".") == 2 else "operation"
        rows.append(warn(WORK, f"interrupted {kind}", f"a {kind} of dataset '{name}' was interrupted "
                         f"({folder.name}).", f"{FIX} (finishes or undoes it)"))
    rows += check_migration(settings.home)
    if not rows:
        rows.append(ok(WORK, "locks and journals", "No stale lock, no interrupted work."))
    return rows


def check_migration(home: Path) -> list[Check]:
    """The migration journal: unreadable (FAIL), failed units (FAIL), units left running
    by a run that died or phases done for part of the datasets (WARN); nothing when no
    migration was ever run or it is complete."""
    from mdm_core.datasets.locks import holder_alive, lock_holder
    from mdm_core.migration.journal import (
        DONE,
        FAILED,
        PARTIAL,
        RUNNING,
        load_journal,
        migration_dir,
    )
    from mdm_core.migration.lock import LOCK_FILE

    name = "migration"
    try:
        journal = load_journal(home)
    except ValueError as exc:
        return [fail(WORK, name, str(exc), "Move the journal aside, then run `mdm-migrate status`.")]
    if journal.empty:
        return []
    units = list(journal.units.values())
    running = [u for u in units if u.state == RUNNING]
    failed = [u for u in units if u.state == FAILED]
    if running and holder_alive(lock_holder(migration_dir(home) / LOCK_FILE)):
        return [ok(WORK, name, f"a migration command is running ({len(running)} unit(s) in progress).")]
    if failed:
        first = failed[0]
        return [fail(WORK, name, f"{len(failed)} unit(s) failed, first {first.unit} ({first.phase}): "
                     f"{first.error or 'no error recorded'}.",
                     "mdm-migrate status; fix the cause, then mdm-migrate run (or mdm-migrate rollback --all)")]
    if running:
        return [warn(WORK, name, f"a run was interrupted: {len(running)} unit(s) were in progress "
                     f"({', '.join(u.unit for u in running[:3])}).",
                     "mdm-migrate run (resumes it) or mdm-migrate rollback --all")]
    partial = [p.phase for p in journal.phases.values() if p.state == PARTIAL]
    if partial:
        return [warn(WORK, name, f"phase(s) {', '.join(partial)} done for some datasets only.", "mdm-migrate run")]
    done = [p.phase for p in journal.phases.values() if p.state == DONE]
    return [ok(WORK, name, f"phases done: {', '.join(done) or 'none'}.")]


def fix_safe(settings: Any) -> list[str]:
    """Clear what is safe to clear: lock files of dead holders (each taken first, so a
    live holder keeps its lock) and interrupted dataset operations (finished or undone
    as the next dataset command would). Returns one line per thing done."""
    from mdm_core.datasets.catalog import open_catalog
    from mdm_core.datasets.handover import recover_interrupted
    from mdm_core.datasets.locks import acquire_lock_file, release_lock_file, try_dataset_lock
    from mdm_core.migration.journal import migration_dir
    from mdm_core.migration.lock import LOCK_FILE

    done = []
    operations = interrupted_operations(settings.datasets_dir)
    if operations:
        recover_interrupted(open_catalog(settings))
        done += [f"finished or undid the interrupted {f.name.split('.')[1]} of dataset '{n}'" for n, f in operations
                 if not f.exists()]
    for name, holder in stale_dataset_locks(settings.datasets_dir):
        with try_dataset_lock(settings.datasets_dir, name, "doctor") as taken:
            if taken:  # released below: the file goes with it
                done.append(f"removed the lock file of dataset '{name}' left by pid {holder.get('pid', '?')}")
    if stale_migration_lock(settings.home) is not None:
        held = acquire_lock_file(migration_dir(settings.home) / LOCK_FILE, {"command": "doctor"}, 0.0)
        if held is not None:
            release_lock_file(held)
            done.append("removed the migration lock file left by a process that is gone")
    return done
