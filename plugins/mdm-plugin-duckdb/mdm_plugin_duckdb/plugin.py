"""Entry point of the DuckDB plugin: offers the ``duckdb`` storage backend.

DuckDB itself is imported only when the backend is built, never at plugin load.
"""

from __future__ import annotations

from mdm_core import hookimpl
from mdm_core.hookspecs import Implementation
from mdm_plugin_duckdb.settings import DuckDBSettings
from mdm_plugin_duckdb.tuning import tune


def _make_backend(settings):
    from mdm_plugin_duckdb.backend import DuckDBBackend

    return DuckDBBackend(settings.database.duckdb)


@hookimpl
def mdm_storage_backends() -> list[Implementation]:
    return [
        Implementation(
            kind="storage",
            name="duckdb",
            generation="new",
            factory=_make_backend,
            settings_section="database.duckdb",
            settings_class=DuckDBSettings,
            tune=tune,
            description="one DuckDB file per dataset, native Arrow scan ingest, Arrow reads",
        )
    ]
