"""The PostgreSQL backend against the storage conformance suite, on a real server."""

from __future__ import annotations

import pytest
from mdm_plugin_postgresql.backend import PostgreSQLBackend
from mdm_plugin_postgresql.settings import PostgreSQLSettings

from mdm_core.testing.conformance import StorageConformance
from mdm_core.testing.postgres import postgres_dsn  # noqa: F401  (session fixture)

pytestmark = pytest.mark.postgres


class TestPostgreSQLConformance(StorageConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, postgres_dsn):  # noqa: F811
        backend = PostgreSQLBackend(PostgreSQLSettings(dsn=postgres_dsn, pool_size=2, max_overflow=4), timeout=10)
        yield backend
        backend.close()
