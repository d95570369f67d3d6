"""Running every doctor check on a home (``mdm doctor``)."""

from __future__ import annotations

from pathlib import Path

from mdm_core.health.model import Check, DoctorReport

#: The order groups are shown in.
GROUPS = ("config", "plugins", "storage", "datasets", "features", "home", "work")


def run_doctor(home: Path | None = None, *, deep: bool = False) -> DoctorReport:
    """Every check on ``home`` (default: the configured one). A configuration that cannot
    be loaded at all leaves only the checks that need none (plugins, the home's disk)."""
    from mdm_core.config import resolve_home
    from mdm_core.health.checks_config import check_config, check_plugins
    from mdm_core.health.checks_datasets import check_datasets
    from mdm_core.health.checks_features import check_features
    from mdm_core.health.checks_storage import check_backends
    from mdm_core.health.checks_system import check_disk, check_home
    from mdm_core.health.checks_work import check_work

    home = home or resolve_home()
    config, loaded = check_config(home)
    checks: list[Check] = [config, *check_plugins()]
    if loaded is None:
        checks.append(check_disk(home))
        return DoctorReport(tuple(checks), deep)
    settings = loaded.settings
    datasets = check_datasets(settings, deep=deep)
    checks += check_backends(loaded, datasets.backends)
    checks += datasets.checks
    checks += check_features(settings)
    checks += check_home(home, settings.datasets_dir)
    checks += check_work(settings)
    checks.sort(key=lambda c: GROUPS.index(c.group))
    return DoctorReport(tuple(checks), deep)
