"""How MDM uses PostgreSQL connections: the pool is sized and timed out as configured,
exhaustion and an unreachable server fail with one sentence naming the setting (never a
hang), and every connection shows up as ``application_name = mdm``. Real server."""

from __future__ import annotations

import socket
import uuid

import psycopg
import pyarrow as pa
import pytest
from mdm_plugin_postgresql.backend import PostgreSQLBackend
from mdm_plugin_postgresql.settings import PostgreSQLSettings

from mdm_core.errors import StorageError
from mdm_core.storage import StoreRef
from mdm_core.testing.postgres import postgres_dsn  # noqa: F401  (session fixture)

pytestmark = pytest.mark.postgres


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_pool_is_sized_and_timed_out_from_settings(postgres_dsn):  # noqa: F811
    settings = PostgreSQLSettings(dsn=postgres_dsn, pool_size=2, max_overflow=1, pool_timeout=0.5, pool_recycle=900)
    backend = PostgreSQLBackend(settings, timeout=5)
    try:
        stats = backend.pool.get_stats()
        assert (stats["pool_min"], stats["pool_max"]) == (2, 3)
        assert backend.pool.timeout == 0.5 and backend.pool.max_lifetime == 900
    finally:
        backend.close()


def test_exhausted_pool_fails_naming_pool_size_and_timeout(postgres_dsn):  # noqa: F811
    settings = PostgreSQLSettings(dsn=postgres_dsn, pool_size=1, max_overflow=1, pool_timeout=0.5)
    backend = PostgreSQLBackend(settings, timeout=5)
    held = [backend.pool.getconn(), backend.pool.getconn()]  # every connection the pool may open
    try:
        with pytest.raises(StorageError) as info:
            backend.query("SELECT 1")
        message = str(info.value)
        assert message == (
            "All 2 PostgreSQL connections of MDM's pool stayed busy for 0.5 s; close unused clients or "
            "raise database.postgresql.pool_size (now 1), max_overflow (now 1) or pool_timeout."
        )
        backend.pool.putconn(held.pop())
        assert backend.query("SELECT 1") == [(1,)]  # a connection given back serves the next caller
    finally:
        for conn in held:
            backend.pool.putconn(conn)
        backend.close()


def test_unreachable_server_fails_naming_host_port_and_timeout():
    port = _closed_port()
    backend = PostgreSQLBackend(PostgreSQLSettings(host="127.0.0.1", port=port), timeout=3)
    with pytest.raises(StorageError) as info:
        backend.store_exists(StoreRef("k", folder=__import__("pathlib").Path(".")))
    message = str(info.value)
    assert message.startswith(f"Cannot connect to PostgreSQL at 127.0.0.1:{port} database postgres")
    assert message.endswith("raise database.connection_timeout (now 3 s) for a slow network.")
    assert "database.postgresql.host/port/dsn" in message


def test_every_connection_is_named_mdm_in_pg_stat_activity(postgres_dsn, tmp_path):  # noqa: F811
    backend = PostgreSQLBackend(PostgreSQLSettings(dsn=postgres_dsn, pool_size=1, max_overflow=0), timeout=5)
    ref = StoreRef(f"t_{uuid.uuid4().hex[:10]}", folder=tmp_path)
    seen: list[str] = []

    def batches():
        # While the bulk (ADBC) connection ingests, a second connection looks at both.
        with psycopg.connect(postgres_dsn, autocommit=True) as watcher:
            rows = watcher.execute(
                "SELECT application_name FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                "AND datname = current_database() AND backend_type = 'client backend' "
                "AND application_name = 'mdm'"
            ).fetchall()
        seen.extend(r[0] for r in rows)
        yield pa.record_batch({"a": [1, 2]})

    try:
        with backend.create_store(ref) as store:
            store.write_table("t", pa.schema([("a", pa.int64())]), batches())
            assert store.row_count("t") == 2
        assert len(seen) >= 2  # the pooled connection and the ingest connection
    finally:
        backend.drop_store(ref)
        backend.close()
