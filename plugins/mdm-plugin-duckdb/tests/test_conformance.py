"""The DuckDB backend against the storage conformance suite."""

from __future__ import annotations

import pytest
from mdm_plugin_duckdb.backend import DuckDBBackend
from mdm_plugin_duckdb.settings import DuckDBSettings

from mdm_core.testing.conformance import StorageConformance


class TestDuckDBConformance(StorageConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, tmp_path_factory) -> DuckDBBackend:
        spill = tmp_path_factory.mktemp("duckdb-spill")
        return DuckDBBackend(DuckDBSettings(memory_limit="512MB", threads=2, temp_directory=str(spill)))
