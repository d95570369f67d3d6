"""Entry point of the DuckDB plugin: offers the ``duckdb`` storage backend.

DuckDB itself is imported only when the backend is built, never at plugin load.
"""

from __future__ import annotations

import attrs

from mdm_core import hookimpl
from mdm_core.hookspecs import Implementation
from mdm_plugin_duckdb.settings import DuckDBSettings
from mdm_plugin_duckdb.tuning import tune


def _make_backend(settings):
    from mdm_plugin_duckdb.backend import DuckDBBackend

    section = settings.database.duckdb
    if section.threads is None:  # unset: as many threads as MDM may use
        section = attrs.evolve(section, threads=settings.performance.max_workers)
    return DuckDBBackend(section)


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
