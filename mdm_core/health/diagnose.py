"""``mdm diagnose``: one JSON bundle describing an MDM installation and home, for a bug
report.

It never holds a password or a DSN secret, whatever the input: every secret MDM can find
(settings declared secret, ``*PASSWORD*`` variables, the password inside any DSN in the
environment) is remembered for :func:`mdm_core.secrets.mask`; values are masked where
they are gathered (settings as ``mdm config show`` shows them, variables by name, log
lines), then the whole bundle is masked structurally (:func:`mdm_core.secrets.mask_value`:
every key naming a secret, every string) and its final text once more.
"""

from __future__ import annotations

import json
import os
import platform
import re
import sys
from collections import deque
from importlib import metadata
from pathlib import Path
from typing import Any

#: Distributions whose versions the bundle reports besides MDM's plugins.
DRIVERS = ("duckdb", "psycopg", "psycopg-pool", "pyarrow", "pandas", "sqlalchemy", "adbc-driver-sqlite",
           "adbc-driver-postgresql", "pluggy", "attrs", "cattrs", "click")
#: Lines of the log file's tail in the bundle (comprehensive: more).
LOG_LINES, LOG_LINES_COMPREHENSIVE = 50, 500
#: Bytes read from the end of the log file at most.
LOG_TAIL_BYTES = 256 * 1024


def diagnose_text(home: Path | None = None, *, comprehensive: bool = False) -> str:
    """The bundle as JSON text, masked (see the module doc)."""
    from mdm_core.config import resolve_home
    from mdm_core.secrets import mask, mask_value

    home = home or resolve_home()
    remember_secrets(home)
    bundle = build_bundle(home, comprehensive=comprehensive)
    return mask(json.dumps(mask_value(bundle), indent=2, default=str, ensure_ascii=False))


def remember_secrets(home: Path) -> None:
    """Have :func:`mdm_core.secrets.mask` hide every password it can find: values of
    environment variables named like a password, secret or token, values of secret keys
    anywhere in ``mdm.yaml`` (also those the environment overrides), and the password of
    any connection string in either."""
    from mdm_core.config.loader import CONFIG_FILE, read_yaml_mapping
    from mdm_core.errors import MDMError
    from mdm_core.secrets import dsn_password, remember

    for name, value in os.environ.items():
        if _SECRET_NAME.search(name):
            remember(value)
        remember(dsn_password(value))
    try:
        config = read_yaml_mapping(home / CONFIG_FILE) if (home / CONFIG_FILE).is_file() else {}
    except MDMError:  # unreadable: its text is never put in the bundle
        return
    _remember_in(config)


_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_KEY", re.IGNORECASE)


def _remember_in(node: Any, key: str = "") -> None:
    from mdm_core.secrets import dsn_password, is_secret_key, remember

    if isinstance(node, dict):
        for sub, value in node.items():
            _remember_in(value, str(sub))
    elif isinstance(node, list):
        for value in node:
            _remember_in(value, key)
    elif node is not None:
        if is_secret_key(key):
            remember(str(node))
        remember(dsn_password(str(node)))


def build_bundle(home: Path | None = None, *, comprehensive: bool = False) -> dict[str, Any]:
    """Everything the bundle holds, as plain data (not yet masked as a whole)."""
    from mdm_core import __version__
    from mdm_core.config import resolve_home
    from mdm_core.health.checks_system import sizes
    from mdm_core.health.runner import run_doctor

    home = home or resolve_home()
    loaded = _loaded(home)
    bundle: dict[str, Any] = {
        "comprehensive": comprehensive,
        "platform": {"system": platform.system(), "release": platform.release(), "machine": platform.machine(),
                     "platform": platform.platform(), "cpus": os.cpu_count()},
        "python": {"version": sys.version.split()[0], "implementation": platform.python_implementation(),
                   "executable": sys.executable},
        "mdm": {"version": __version__, "home": str(home)},
        "plugins": _plugins(),
        "drivers": {name: _version(name) for name in DRIVERS},
        "environment": environment(),
        "config": _config(loaded),
        "datasets": _datasets(loaded, comprehensive) if not isinstance(loaded, str) else [],
        "disk": sizes(home) if home.exists() else {"path": str(home), "exists": False},
        "log": _log_tail(loaded, LOG_LINES_COMPREHENSIVE if comprehensive else LOG_LINES),
        "migration": _migration(home),
        "doctor": run_doctor(home, deep=comprehensive).as_dict(),
    }
    return bundle


def environment() -> dict[str, Any]:
    """Every ``MDM_*`` variable, as its setting would be shown (secrets masked)."""
    from mdm_core.secrets import mask_setting

    return {name: mask_setting(name.replace("_", ".").lower(), value)
            for name, value in sorted(os.environ.items()) if name.startswith("MDM_")}


def _loaded(home: Path) -> Any:
    """The loaded settings, or the one sentence why they cannot be loaded."""
    from mdm_core.config import load_settings
    from mdm_core.errors import MDMError

    try:
        return load_settings(home)
    except MDMError as exc:
        return str(exc)


def _plugins() -> list[dict[str, Any]]:
    from mdm_core.errors import MDMError
    from mdm_core.plugins import get_plugin_manager

    try:
        manager = get_plugin_manager()
    except MDMError as exc:  # MDM_STRICT_PLUGINS and a plugin failed
        return [{"error": str(exc)}]
    return [{"name": r.name, "distribution": r.distribution, "version": r.version, "status": r.status,
             "hooks": list(r.hooks), "error": r.error} for r in manager.records]


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _config(loaded: Any) -> dict[str, Any]:
    """What ``mdm config show --sources --format json`` gives (or the load error)."""
    from mdm_core.config.shown import settings_rows

    if isinstance(loaded, str):
        return {"error": loaded}
    rows = settings_rows(loaded)
    return {"loader": loaded.loader, "files": list(loaded.files), "values": {k: v for k, v, _ in rows},
            "sources": {k: s for k, _, s in rows}, "unknown_keys": list(loaded.unknown), "notes": list(loaded.notes)}


def _datasets(loaded: Any, comprehensive: bool) -> list[dict[str, Any]]:
    """Name, backend, tables with rows (and columns when ``comprehensive``) and bytes on
    disk of every dataset, from its metadata; an unreadable one with its error."""
    from mdm_core.datasets.catalog import open_catalog
    from mdm_core.errors import MDMError
    from mdm_core.health.checks_system import sizes

    catalog = open_catalog(loaded.settings)
    found = []
    for name in catalog.names():
        folder = catalog.folder(name)
        entry: dict[str, Any] = {"name": name, "bytes": sizes(folder)["bytes"] if folder.is_dir() else None}
        try:
            info = catalog.load(name)
        except MDMError as exc:
            found.append({**entry, "error": str(exc)})
            continue
        tables = []
        for table in info.tables:
            row: dict[str, Any] = {"name": table.name, "kind": table.kind, "rows": table.row_count}
            if comprehensive:
                row["columns"] = [{"name": c.name, "kind": c.type, "arrow_type": c.arrow_type} for c in table.columns]
            tables.append(row)
        found.append({**entry, "backend": info.backend, "format_version": info.format_version,
                      "status": info.status, "registered_at": info.registered_at,
                      "feature_engine": info.feature_engine, "tables": tables})
    return found


def _log_tail(loaded: Any, lines: int) -> dict[str, Any]:
    """The last ``lines`` lines of the configured log file (masked), if there is one."""
    from mdm_core.logging import log_file_path
    from mdm_core.secrets import mask

    path = None if isinstance(loaded, str) else log_file_path(loaded.settings)
    if path is None:
        return {"file": None, "lines": []}
    if not path.is_file():
        return {"file": str(path), "exists": False, "lines": []}
    with open(path, "rb") as handle:
        handle.seek(max(0, path.stat().st_size - LOG_TAIL_BYTES))
        text = handle.read().decode("utf-8", errors="replace")
    tail = deque(text.splitlines(), maxlen=lines)
    return {"file": str(path), "lines": [mask(line) for line in tail]}


def _migration(home: Path) -> dict[str, Any]:
    """What ``mdm-migrate status --format json`` reports (or why it cannot)."""
    from mdm_core.errors import MDMError
    from mdm_core.migration.orchestrator import Migration
    from mdm_core.migration.render import status_json

    try:
        return status_json(Migration(home))
    except (MDMError, ValueError) as exc:
        return {"error": str(exc)}
