"""Is this home ready to migrate? ``mdm-migrate check`` and ``MigrationTestSuite``.

The check writes nothing (not a byte of the home, no lock file, no journal): it reads the
plan (which writes nothing), the catalog, the lock file's holder record and the
custom-feature files, and asks servers whether they answer. Each :class:`ReadinessItem`
is ``ok`` or not; a failing item is ``blocked`` (the migration cannot run or would lose
data) or a ``warning`` (it runs, but something needs a look).

Score: ``max(0, 100 - 40 * failing blocked items - 10 * failing warnings)``. Status:
``blocked`` when any blocked item fails, else ``needs attention`` when any warning
fails, else ``ready``.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from mdm_core.errors import MDMError
from mdm_core.migration.orchestrator import Migration, MigrationPlan
from mdm_core.migration.step import RunOptions

BLOCKED, WARNING = "blocked", "warning"
READY, NEEDS_ATTENTION = "ready", "needs attention"
#: Score lost per failing item of each severity.
PENALTY = {BLOCKED: 40, WARNING: 10}
#: Engines on a server: their datasets need the server to answer.
SERVER_BACKENDS = ("postgresql",)
#: Seconds a server gets to answer.
SERVER_TIMEOUT = 5.0
#: Free space wanted beyond what the plan needs before the disk item is fully ok.
DISK_MARGIN = 1.2
#: What the plan's notes say of a 1.x PostgreSQL dataset whose password stays behind.
PASSWORD_VARIABLE = "MDM_DATABASE_POSTGRESQL_PASSWORD"


@attrs.frozen
class ReadinessItem:
    """One check: ``ok``, the ``severity`` it has when not ok, what was found
    (``message``) and, when not ok, what to do (``fix``)."""

    name: str
    ok: bool
    severity: str
    message: str
    fix: str = ""


@attrs.frozen
class ReadinessResult:
    """``overall_score`` 0-100 and ``status`` (see the module doc) over ``items``."""

    overall_score: int
    status: str
    items: tuple[ReadinessItem, ...]

    @classmethod
    def of(cls, items: list[ReadinessItem]) -> ReadinessResult:
        failing = [i for i in items if not i.ok]
        score = max(0, 100 - sum(PENALTY[i.severity] for i in failing))
        status = (BLOCKED if any(i.severity == BLOCKED for i in failing)
                  else NEEDS_ATTENTION if failing else READY)
        return cls(score, status, tuple(items))

    @property
    def exit_code(self) -> int:
        """``mdm-migrate check``: 0 ready, 1 blocked, 5 needs attention."""
        return {READY: 0, BLOCKED: 1}.get(self.status, 5)


def assess(migration: Migration, plan: MigrationPlan | None = None) -> ReadinessResult:
    """Every readiness item of ``migration``'s home for its options; ``plan`` is its
    plan when the caller has one (else it is made here; a plan that fails is an item)."""
    items: list[ReadinessItem] = []
    if plan is None:
        try:
            plan = migration.plan()
        except MDMError as exc:
            items.append(ReadinessItem("plan", False, BLOCKED, f"The migration cannot be planned: {exc}",
                                       "Fix the cause above, then run `mdm-migrate plan`."))
    datasets = _datasets(migration)
    items += [_writable(migration.home), _plugins(datasets, migration.options.to)]
    items += _servers(migration, datasets)
    if plan is not None:
        items += [_disk(migration.home, plan), _credentials(plan), _broken(plan)]
    items += [_lock(migration.home), _custom_features(migration.settings)]
    return ReadinessResult.of(items)


class MigrationTestSuite:
    """The migration guide's readiness test: ``test_migration_readiness(to)`` is
    ``mdm-migrate check [--to B]`` (reads only) on ``home`` (default: the configured one)."""

    def __init__(self, home: str | Path | None = None) -> None:
        self.home = home

    def test_migration_readiness(self, to: str | None = None) -> ReadinessResult:
        return assess(Migration(self.home, RunOptions(to=to)))


# -- the items ----------------------------------------------------------------------------
def _datasets(migration: Migration) -> list[Any]:
    from mdm_core.datasets.client import MDMClient

    return MDMClient(migration.home).list_datasets()


def _disk(home: Path, plan: MigrationPlan) -> ReadinessItem:
    from mdm_core.cli.output import human_size

    need = sum(s.plan.space_bytes for p in plan.phases for s in p.steps)
    free = shutil.disk_usage(home).free
    message = f"{human_size(free)} free on the home's disk; the new copies need {human_size(need)}."
    if free < need:
        return ReadinessItem("disk space", False, BLOCKED, message, f"Free at least {human_size(need - free)}.")
    if free < need * DISK_MARGIN:
        return ReadinessItem("disk space", False, WARNING, message,
                             "Less than 20% to spare: free some space before running.")
    return ReadinessItem("disk space", True, BLOCKED, message)


def _writable(home: Path) -> ReadinessItem:
    ok = os.access(home, os.W_OK | os.X_OK)
    return ReadinessItem("home writable", ok, BLOCKED,
                         f"{home} is {'writable' if ok else 'not writable'} by this user.",
                         "" if ok else f"Run as the home's owner or give write access to {home}.")


def _plugins(datasets: list[Any], to: str | None) -> ReadinessItem:
    from mdm_core.plugins import get_plugin_manager

    installed = {impl.name for _, impl in get_plugin_manager().implementations("storage")}
    wanted = {info.backend for info in datasets} | ({to} if to else set())
    missing = sorted(wanted - installed)
    message = (f"No storage plugin for: {', '.join(missing)} (installed: {', '.join(sorted(installed)) or 'none'})."
               if missing else f"A storage plugin for every backend used: {', '.join(sorted(wanted)) or 'none'}.")
    return ReadinessItem("storage plugins", not missing, BLOCKED, message,
                         "Install the missing backend plugins (mdm plugins list)." if missing else "")


def _servers(migration: Migration, datasets: list[Any]) -> list[ReadinessItem]:
    """One item per server backend in use (datasets on it, or ``--to`` it)."""
    from mdm_core.backends import backend_at, get_backend
    from mdm_core.datasets.client import MDMClient

    checks: dict[str, list[tuple[str, Callable[[], Any]]]] = {}
    client = MDMClient(migration.home)
    for info in datasets:
        if info.backend not in SERVER_BACKENDS:
            continue
        if info.store.get("layout"):  # a 1.x dataset: opening its database connects
            def probe(name: str = info.name) -> None:
                with client.open_store(name):
                    pass
        else:
            def probe(info: Any = info) -> Any:
                return backend_at(info.backend, info.store, migration.settings).health_check()
        checks.setdefault(info.backend, []).append((f"dataset {info.name}", probe))
    to = migration.options.to
    if to in SERVER_BACKENDS:
        checks.setdefault(to, []).append((f"target {to}", lambda: get_backend(to, migration.settings).health_check()))
    items = []
    for backend, probes in sorted(checks.items()):
        failures = [f"{what}: {error}" for what, probe in probes if (error := probe_within(SERVER_TIMEOUT, probe))]
        items.append(ReadinessItem(
            f"{backend} reachable", not failures, BLOCKED,
            "; ".join(failures) if failures else f"{len(probes)} checked, every one answers.",
            f"Start the {backend} server or fix its address and credentials." if failures else ""))
    return items


def probe_within(seconds: float, probe: Callable[[], Any]) -> str | None:
    """Run ``probe`` in a daemon thread; None when it returned (a HealthReport: one that
    is ok), else the error, or a sentence saying it did not answer in time."""
    outcome: list[str | None] = []

    def target() -> None:
        try:
            report = probe()
            ok = report is None or report.ok
            outcome.append(None if ok else str(report.details.get("error") or "the health check failed"))
        except Exception as exc:  # a probe's failure is the item's message
            outcome.append(" ".join(str(exc).split()) or type(exc).__name__)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    return outcome[0] if outcome else f"no answer within {seconds:g} s"


def _credentials(plan: MigrationPlan) -> ReadinessItem:
    notes = sorted({n for p in plan.phases for s in p.steps for n in s.plan.notes if PASSWORD_VARIABLE in n})
    datasets = sorted({n.split(":", 1)[0] for n in notes})
    if not datasets or _password_source():
        return ReadinessItem("credentials", True, WARNING,
                             "No 1.x password to replace." if not datasets else
                             f"{', '.join(datasets)}: the password comes from {_password_source()}.")
    return ReadinessItem(
        "credentials", False, WARNING,
        f"{', '.join(datasets)}: the PostgreSQL password of the 1.x YAML is not carried over and nothing else "
        "supplies one.",
        f"Set {PASSWORD_VARIABLE}, or a DSN (MDM_DATABASE_POSTGRESQL_DSN), a service file or ~/.pgpass.")


def _password_source() -> str:
    """Where a migrated PostgreSQL dataset will find its password ('' when nowhere)."""
    for variable in (PASSWORD_VARIABLE, "MDM_DATABASE_POSTGRESQL_DSN", "PGPASSWORD", "PGSERVICE"):
        if os.environ.get(variable):
            return variable
    pgpass = Path(os.environ.get("PGPASSFILE") or Path.home() / ".pgpass")
    return str(pgpass) if pgpass.is_file() else ""


def _broken(plan: MigrationPlan) -> ReadinessItem:
    broken = [f"{k.what}: {k.reason}" for p in plan.phases for s in p.steps for k in s.plan.skipped if k.blocking]
    return ReadinessItem("broken datasets", not broken, WARNING,
                         "; ".join(broken) if broken else "Every dataset can be read.",
                         "Repair or remove them (mdm dataset remove NAME); the others migrate anyway." if broken else "")


def _lock(home: Path) -> ReadinessItem:
    from mdm_core.datasets.locks import holder_alive, lock_holder
    from mdm_core.migration.journal import migration_dir
    from mdm_core.migration.lock import LOCK_FILE

    holder = lock_holder(migration_dir(home) / LOCK_FILE)
    pid = holder.get("pid")
    if holder_alive(holder):
        return ReadinessItem("migration lock", False, BLOCKED,
                             f"pid {pid} holds the home (`mdm-migrate {holder.get('command', '?')}` since "
                             f"{holder.get('since', '?')}).", "Wait for that command to finish.")
    return ReadinessItem("migration lock", True, BLOCKED, "No migration command is working on this home.")


def _custom_features(settings: Any) -> ReadinessItem:
    """Every per-dataset custom-feature file is run the way the features engine will run
    it (a 1.x file through the plugin serving it); the ones that raise fail."""
    from mdm_core.features.discovery import file_load_error

    folder = Path(settings.custom_features_dir)
    files = sorted(folder.glob("*.py")) if folder.is_dir() else []
    failures = [f"{path.name}: {error}" for path in files if (error := file_load_error(settings, path))]
    return ReadinessItem(
        "custom features", not failures, WARNING,
        "; ".join(failures) if failures else f"{len(files)} custom-feature file(s) load.",
        "Fix the files named (they run when features are generated), or move them aside." if failures else "")
