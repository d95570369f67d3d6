"""Entry point of the SQLite plugin: offers the ``sqlite`` storage backend."""

from __future__ import annotations

from mdm_core import hookimpl
from mdm_core.hookspecs import Implementation
from mdm_plugin_sqlite.settings import SQLiteSettings


def _make_backend(settings):
    from mdm_plugin_sqlite.backend import SQLiteBackend

    return SQLiteBackend(settings.database.sqlite)


@hookimpl
def mdm_storage_backends() -> list[Implementation]:
    return [
        Implementation(
            kind="storage",
            name="sqlite",
            generation="new",
            factory=_make_backend,
            settings_section="database.sqlite",
            settings_class=SQLiteSettings,
            description="one SQLite file per dataset, ADBC bulk ingest, Arrow reads",
        )
    ]
