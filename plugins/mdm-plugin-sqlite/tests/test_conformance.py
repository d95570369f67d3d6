"""The SQLite backend against the storage conformance suite."""

from __future__ import annotations

import pytest
from mdm_plugin_sqlite.backend import SQLiteBackend
from mdm_plugin_sqlite.settings import SQLiteSettings

from mdm_core.testing.conformance import StorageConformance


class TestSQLiteConformance(StorageConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls) -> SQLiteBackend:
        return SQLiteBackend(SQLiteSettings())
