"""Doctor checks of the storage backends: each installed one answers its health check and
passes a quick round trip (a tiny store in a temporary place: write, read back,
checksum, drop). A server backend is checked only when the home uses it, with a short
connect timeout, so an unreachable server fails within seconds instead of hanging."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import attrs

from mdm_core.health.model import Check, fail, ok
from mdm_core.secrets import mask

STORAGE = "storage"
#: Seconds a server gets to answer the doctor (``database.connection_timeout`` when lower).
DOCTOR_CONNECT_TIMEOUT = 5
#: The conformance checks of the round trip (:mod:`mdm_core.testing.checks`).
ROUND_TRIP = ("round trip of every type", "checksum")


def check_backends(loaded: Any, used: set[str]) -> list[Check]:
    """One row per installed backend of the new generation (the one registrations write):
    file engines always, server engines only when configured or ``used`` by a dataset."""
    from mdm_core.migration.readiness import SERVER_BACKENDS
    from mdm_core.plugins import get_plugin_manager

    settings = with_connect_timeout(loaded.settings)
    offered = {impl.name: impl for _, impl in get_plugin_manager().implementations("storage")
               if impl.generation == "new"}
    rows = []
    for name, impl in sorted(offered.items()):
        if name in SERVER_BACKENDS and not server_configured(name, loaded, used):
            continue
        rows.append(_check_backend(name, impl, settings))
    return rows


def with_connect_timeout(settings: Any) -> Any:
    """``settings`` with ``database.connection_timeout`` at most :data:`DOCTOR_CONNECT_TIMEOUT`."""
    timeout = min(int(settings.database.connection_timeout or DOCTOR_CONNECT_TIMEOUT), DOCTOR_CONNECT_TIMEOUT)
    return attrs.evolve(settings, database=attrs.evolve(settings.database, connection_timeout=timeout))


def server_configured(name: str, loaded: Any, used: set[str]) -> bool:
    """Whether the home uses server backend ``name``: a dataset on it, it is the default
    backend, or any ``database.<name>`` key is set (file or environment)."""
    prefix = f"database.{name}."
    return (name in used or loaded.settings.database.default_backend == name
            or any(key.startswith(prefix) for key in loaded.sources))


def _check_backend(name: str, impl: Any, settings: Any) -> Check:
    from mdm_core.migration.readiness import probe_within

    fix = f"Run `mdm storage test --backend {name}` for details; reinstall its plugin if it fails."
    if name == "postgresql":
        fix = ("Start the PostgreSQL server or fix database.postgresql (dsn or host/port/user) in mdm.yaml "
               "or MDM_DATABASE_POSTGRESQL_*; then `mdm storage test --backend postgresql`.")
    seconds = settings.database.connection_timeout + 2
    backend: list[Any] = []
    details: list[dict[str, Any]] = []
    error = probe_within(seconds, lambda: _health(impl, settings, backend, details))
    try:
        if error is None:
            error = _round_trip(backend[0])
    finally:
        close = getattr(backend[0], "close", None) if backend else None
        if callable(close):
            close()
    if error:
        return fail(STORAGE, f"backend {name}", mask(error), fix)
    versions = ", ".join(f"{k} {v}" for k, v in details[0].items() if k.endswith("_version")) if details else ""
    return ok(STORAGE, f"backend {name}", f"healthy{f' ({versions})' if versions else ''}; a test store was "
              "written, read back, checksummed and dropped.")


def _health(impl: Any, settings: Any, built: list[Any], details: list[dict[str, Any]]) -> Any:
    backend = impl.factory(settings)
    built.append(backend)
    report = backend.health_check()
    details.append(report.details)
    return report


def _round_trip(backend: Any) -> str | None:
    """The failures of the round-trip checks on ``backend`` (one line), or None."""
    from mdm_core.testing.checks import ALL_CHECKS, run_checks

    with tempfile.TemporaryDirectory(prefix="mdm-doctor-") as folder:
        results = run_checks(backend, Path(folder), checks={n: ALL_CHECKS[n] for n in ROUND_TRIP})
    failed = [f"{r.name}: {r.error}" for r in results if not r.passed]
    return "; ".join(failed) or None
