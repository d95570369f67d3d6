"""The storage backends a self-test or comparison runs on by default: every installed
engine with a new implementation, PostgreSQL only when ``database.postgresql`` is set."""

from __future__ import annotations

from typing import Any

#: Engines that need a server: included only when their settings section is configured.
SERVER_ENGINES = ("postgresql",)


def default_backends(settings: Any) -> list[str]:
    """Installed backend names (new generation), file engines first, then the server
    engines whose settings section differs from its defaults (the user configured it)."""
    from mdm_core.plugins import get_plugin_manager

    names = sorted({impl.name for _, impl in get_plugin_manager().implementations("storage")
                    if impl.generation == "new"}, key=lambda n: (n in SERVER_ENGINES, n))
    return [n for n in names if n not in SERVER_ENGINES or configured(settings, n)]


def configured(settings: Any, name: str) -> bool:
    """Whether ``database.<name>`` holds anything but its defaults."""
    section = getattr(settings.database, name, None)
    return section is not None and section != type(section)()
