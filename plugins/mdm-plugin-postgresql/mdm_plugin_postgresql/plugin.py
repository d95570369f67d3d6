"""Entry point of the PostgreSQL plugin: offers the ``postgresql`` storage backend.

psycopg and the ADBC driver are imported only when the backend is built.
"""

from __future__ import annotations

from mdm_core import hookimpl
from mdm_core.hookspecs import Implementation
from mdm_plugin_postgresql.settings import PostgreSQLSettings
from mdm_plugin_postgresql.tuning import tune


def _make_backend(settings):
    from mdm_plugin_postgresql.backend import PostgreSQLBackend

    return PostgreSQLBackend(settings.database.postgresql, timeout=settings.database.connection_timeout)


@hookimpl
def mdm_storage_backends() -> list[Implementation]:
    return [
        Implementation(
            kind="storage",
            name="postgresql",
            generation="new",
            factory=_make_backend,
            settings_section="database.postgresql",
            settings_class=PostgreSQLSettings,
            tune=tune,
            description="one schema per dataset, ADBC binary COPY ingest, streamed Arrow reads",
        )
    ]
