"""PostgreSQL specifics: schemas, passwords kept out of sight, types beyond the suite,
long column names, typed filters, pool sizing. Real server (see mdm_core.testing.postgres)."""

from __future__ import annotations

import datetime as dt
import json
import socket
import uuid

import psycopg
import pyarrow as pa
import pytest
from mdm_plugin_postgresql.backend import PostgreSQLBackend, schema_name
from mdm_plugin_postgresql.connection import Target
from mdm_plugin_postgresql.settings import PostgreSQLSettings

from mdm_core.errors import StorageError
from mdm_core.secrets import mask
from mdm_core.storage import StoreRef
from mdm_core.testing.data import assert_tables_equal, extra_types_table
from mdm_core.testing.postgres import postgres_dsn  # noqa: F401  (session fixture)

pytestmark = pytest.mark.postgres
SECRET = "s3cr3t-Pa55"


@pytest.fixture
def backend(postgres_dsn):  # noqa: F811
    backend = PostgreSQLBackend(PostgreSQLSettings(dsn=postgres_dsn, pool_size=1, max_overflow=2), timeout=10)
    yield backend
    backend.close()


@pytest.fixture
def ref(backend, tmp_path):
    ref = StoreRef(key=f"t_{uuid.uuid4().hex[:10]}", folder=tmp_path)
    yield ref
    backend.drop_store(ref)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_store_is_a_schema_dropped_with_cascade(backend, ref, postgres_dsn):  # noqa: F811
    with backend.create_store(ref) as store:
        store.write_table("t", pa.schema([("a", pa.int64())]), [pa.record_batch({"a": [1]})])
    with psycopg.connect(postgres_dsn) as conn:
        found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema_name(ref)]).fetchall()
    assert found and schema_name(ref) == f"mdm_{ref.key}"
    backend.drop_store(ref)
    assert not backend.store_exists(ref)


def test_bad_store_key_is_refused(backend, tmp_path):
    with pytest.raises(StorageError, match="letters, digits"):
        backend.store_exists(StoreRef(key='x"; DROP SCHEMA public; --', folder=tmp_path))


def test_password_never_shown(tmp_path):
    port = _closed_port()
    settings = PostgreSQLSettings(dsn=f"postgresql://mdm:{SECRET}@127.0.0.1:{port}/postgres")
    backend = PostgreSQLBackend(settings, timeout=2)
    ref = StoreRef(key="pw", folder=tmp_path)
    assert SECRET not in json.dumps(backend.describe(ref))
    report = backend.health_check()
    assert not report.ok and SECRET not in json.dumps(report.details)
    with pytest.raises(StorageError) as info:
        backend.create_store(ref)
    assert SECRET not in str(info.value) and "127.0.0.1" in str(info.value)


def test_password_from_settings_field_is_used_but_hidden(postgres_dsn):  # noqa: F811
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(postgres_dsn)
    settings = PostgreSQLSettings(host=params["host"], port=int(params["port"]), user=params["user"],
                                  dbname=params["dbname"], password=SECRET)
    backend = PostgreSQLBackend(settings, timeout=5)
    assert SECRET in backend.target.conninfo
    assert SECRET not in json.dumps(backend.describe(StoreRef("k", folder=__import__("pathlib").Path("."))))
    assert backend.health_check().ok  # trust auth ignores the password
    assert SECRET not in backend.target.mask(f"failed for password {SECRET}")


@pytest.mark.parametrize(
    "text",
    [f"postgresql://u:{SECRET}@h:5432/db", f"host=h password={SECRET} user=u", f"password='{SECRET}'"],
)
def test_mask_removes_passwords(text):
    assert SECRET not in mask(text) and "***" in mask(text)


def test_target_from_fields():
    target = Target.from_settings(PostgreSQLSettings(host="db", port=6543, user="me", dbname="d"), timeout=7)
    assert target.public() == {"host": "db", "port": "6543", "dbname": "d", "user": "me"}
    assert "connect_timeout=7" in target.conninfo


def test_extra_types_round_trip(backend, ref):
    table = extra_types_table()
    with backend.create_store(ref) as store:
        store.write_table("extra", table.schema, table.to_batches())
        assert_tables_equal(table, store.read_table("extra").read_all())


def test_sub_microsecond_timestamps_are_refused(backend, ref):
    table = pa.table({"ts": pa.array([1], pa.timestamp("ns"))})
    with backend.create_store(ref) as store:
        with pytest.raises(StorageError, match="'ts'"):
            store.write_table("ns", table.schema, table.to_batches())
        assert store.list_tables() == []


def test_long_column_names(backend, ref):
    long_a, long_b = "a" * 70, "a" * 64 + "é"
    table = pa.table({long_a: [1, 2], long_b: ["x", "y"], "_mdm_row": [9, 8]})
    with backend.create_store(ref) as store:
        store.write_table("long", table.schema, table.to_batches())
        assert_tables_equal(table, store.read_table("long").read_all())
        got = store.read_table("long", columns=[long_b], where=[(long_a, "=", 2)]).read_all()
        assert got.column(0).to_pylist() == ["y"]


def test_typed_filters(backend, ref):
    utc = dt.UTC
    table = pa.table({
        "d": pa.array([dt.date(2020, 1, 1), dt.date(2021, 1, 1)]),
        "ts": pa.array([dt.datetime(2020, 1, 1, tzinfo=utc), dt.datetime(2021, 1, 1, tzinfo=utc)],
                       pa.timestamp("us", "UTC")),
        "b": [True, False],
        "f": pa.array([float("nan"), 1.5]),
        "u": pa.array([2**64 - 1, 1], pa.uint64()),
    })
    with backend.create_store(ref) as store:
        store.write_table("t", table.schema, table.to_batches())

        def rows(where):
            return store.read_table("t", columns=["d"], where=where).read_all().num_rows

        assert rows([("d", ">", dt.date(2020, 6, 1))]) == 1
        assert rows([("ts", "<", dt.datetime(2020, 6, 1, tzinfo=utc))]) == 1
        assert rows([("b", "=", False)]) == 1
        assert rows([("f", "=", float("nan"))]) == 1
        assert rows([("u", "=", 2**64 - 1)]) == 1
        assert rows([("u", "=", None)]) == 0


def test_execute_sql_uses_the_store_schema_and_dollar_params(backend, ref):
    with backend.create_store(ref) as store:
        store.write_table("t", pa.schema([("a", pa.int64())]), [pa.record_batch({"a": [1, 2, 3]})])
        result = store.execute_sql('SELECT count(*) AS n FROM "t" WHERE a > $1', [1])
        assert result.column("n").to_pylist() == [2]
    with backend.open_store(ref, read_only=True) as store, pytest.raises(StorageError, match="read-only"):
        store.execute_sql('DELETE FROM "t"')


def test_pool_follows_settings(backend):
    assert backend.pool.min_size == 1 and backend.pool.max_size == 3


def test_target_repr_hides_the_password():
    from mdm_plugin_postgresql.settings import PostgreSQLSettings

    for settings in (PostgreSQLSettings(dsn=f"postgresql://u:{SECRET}@h/db"),
                     PostgreSQLSettings(dsn=f"host=h user=u password={SECRET}"),
                     PostgreSQLSettings(password=SECRET)):
        target = Target.from_settings(settings)
        assert SECRET in target.conninfo
        assert SECRET not in repr(target) and SECRET not in str(target)
        assert SECRET not in repr(target.moved_to({"host": "other", "dbname": "x"}))
