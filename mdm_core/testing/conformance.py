"""``StorageConformance``: the pytest suite every storage backend plugin runs against itself.

Modelled on SQLAlchemy's dialect suite: a plugin's test module subclasses the suite and
provides a ``backend`` fixture; every test below then runs against that backend::

    import pytest
    from mdm_core.testing.conformance import StorageConformance

    class TestMyBackend(StorageConformance):
        @pytest.fixture(scope="class")
        @classmethod
        def backend(cls):
            return MyBackend(MySettings())

Expectations follow the backend's declared ``capabilities``
(:class:`mdm_core.storage.BackendCapabilities`, see :mod:`mdm_core.testing.checks`). Random data comes from hypothesis with modest example
counts; the 1,000-column and 120,000-row checks are marked ``slow``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdm_core.errors import StorageError
from mdm_core.storage import BackendCapabilities, StorageBackend, StoreRef
from mdm_core.testing import checks
from mdm_core.testing.data import assert_tables_equal, expected_checksum
from mdm_core.testing.strategies import arrow_tables

# One test method runs for every backend subclass (that is the point of the suite), so
# hypothesis's differing_executors check does not apply; each run gets fresh stores.
HYPOTHESIS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.differing_executors,
    ],
)


class StorageConformance:
    """Subclass and provide ``backend`` (a StorageBackend); may override ``store_folder``."""

    @pytest.fixture
    def store_folder(self, tmp_path: Path) -> Path:
        """Where this test's stores live (file-based engines put their files here)."""
        return tmp_path

    @pytest.fixture
    def ctx(self, backend: StorageBackend, store_folder: Path) -> Iterator[checks.CheckContext]:
        context = checks.CheckContext(backend, store_folder, size="full")
        yield context
        context.cleanup()

    @pytest.fixture
    def store(self, ctx: checks.CheckContext):
        with ctx.new_store() as store:
            yield store

    # -- the backend object ----------------------------------------------------------------
    def test_satisfies_protocol(self, backend: StorageBackend) -> None:
        assert isinstance(backend, StorageBackend)
        assert isinstance(backend.name, str) and backend.name

    def test_capabilities_are_booleans(self, backend: StorageBackend) -> None:
        assert isinstance(backend.capabilities, BackendCapabilities), "capabilities is not a BackendCapabilities"
        for name in ("nan_distinct_from_null", "signed_zero_preserved", "nul_in_text"):
            assert isinstance(getattr(backend.capabilities, name), bool), f"capability {name} is not a bool"

    def test_declared_capabilities_hold(self, ctx) -> None:
        checks.check_declared_capabilities(ctx)

    def test_health(self, ctx) -> None:
        checks.check_health(ctx)

    # -- stores ----------------------------------------------------------------------------
    def test_store_lifecycle(self, ctx) -> None:
        checks.check_store_lifecycle(ctx)

    def test_move_store(self, ctx) -> None:
        checks.check_move_store(ctx)

    def test_describe(self, ctx) -> None:
        checks.check_describe(ctx)

    def test_recorded_location(self, ctx) -> None:
        checks.check_recorded_location(ctx)

    def test_table_limits_checked_up_front(self, ctx) -> None:
        checks.check_table_limits_checked_up_front(ctx)

    def test_store_ref_keys_are_independent(self, ctx) -> None:
        a, b = ctx.new_ref(), ctx.new_ref()
        with ctx.backend.create_store(a) as store:
            checks.write(store, "t", pa.table({"x": [1]}))
        with ctx.backend.create_store(b) as store:
            assert store.list_tables() == [], "stores share tables"
        assert isinstance(a, StoreRef)

    # -- data ------------------------------------------------------------------------------
    def test_round_trip_all_types(self, ctx) -> None:
        checks.check_round_trip_all_types(ctx)

    def test_empty_table(self, ctx) -> None:
        checks.check_empty_table(ctx)

    @pytest.mark.slow
    def test_wide_table(self, ctx) -> None:
        checks.check_wide_table(ctx)

    @pytest.mark.slow
    def test_long_table_streams_in_bounded_batches(self, ctx) -> None:
        checks.check_long_table_streams(ctx)

    def test_long_table_quick(self, backend, store_folder) -> None:
        ctx = checks.CheckContext(backend, store_folder, size="quick")
        try:
            checks.check_long_table_streams(ctx)
        finally:
            ctx.cleanup()

    def test_hostile_identifiers(self, ctx) -> None:
        checks.check_hostile_identifiers(ctx)

    def test_read_columns_where_limit(self, ctx) -> None:
        checks.check_read_columns_where_limit(ctx)

    def test_checksum(self, ctx) -> None:
        checks.check_checksum(ctx)

    def test_replace_and_conflicts(self, ctx) -> None:
        checks.check_replace_and_conflicts(ctx)

    def test_failed_write_leaves_nothing(self, ctx) -> None:
        checks.check_failed_write_leaves_nothing(ctx)

    def test_rename_table(self, ctx) -> None:
        checks.check_rename_table(ctx)

    def test_execute_sql(self, ctx) -> None:
        checks.check_execute_sql(ctx)

    def test_sqlalchemy_engine(self, ctx) -> None:
        """An engine reads the store's tables by name and, read-only, refuses writes; or
        the backend says with a StorageError that it has no SQLAlchemy support."""
        sa = pytest.importorskip("sqlalchemy")
        checks.raises_storage_error(lambda: ctx.backend.sqlalchemy_engine(ctx.new_ref()), "engine on a missing store")
        ref = ctx.new_ref()
        with ctx.backend.create_store(ref) as store:
            checks.write(store, "t", pa.table({"a": [1, 2, 3]}))
        try:
            engine = ctx.backend.sqlalchemy_engine(ref)
        except StorageError:
            return
        try:
            with engine.connect() as conn:
                assert conn.execute(sa.text('SELECT COUNT(*) FROM "t"')).scalar_one() == 3
            with pytest.raises(sa.exc.DBAPIError), engine.begin() as conn:
                conn.execute(sa.text('CREATE TABLE "u" (x INTEGER)'))
        finally:
            engine.dispose()

    def test_extension_round_trip(self, ctx) -> None:
        checks.check_extension_round_trip(ctx)

    def test_extension_errors(self, ctx) -> None:
        checks.check_extension_errors(ctx)

    def test_extension_rename_and_replace(self, ctx) -> None:
        checks.check_extension_rename_and_replace(ctx)

    def test_drop_columns(self, ctx) -> None:
        checks.check_drop_columns(ctx)

    def test_concurrent_readers_while_writer_commits(self, ctx) -> None:
        checks.check_concurrent_readers(ctx)

    # -- random data -----------------------------------------------------------------------
    @HYPOTHESIS
    @given(table=arrow_tables(), chunk=st.integers(1, 10))
    def test_random_tables_round_trip(self, ctx, store, table, chunk) -> None:
        written = store.write_table("random", table.schema, table.to_batches(max_chunksize=chunk), replace=True)
        assert written == table.num_rows
        assert store.table_schema("random") == table.schema
        assert store.row_count("random") == table.num_rows
        expected = ctx.expected(table)
        assert_tables_equal(expected, checks.read_all(store, "random", batch_size=chunk + 2))
        assert store.checksum("random") == expected_checksum(expected)

    @HYPOTHESIS
    @given(table=arrow_tables(max_columns=4, max_rows=15), data=st.data())
    def test_random_column_subsets(self, store, table, data) -> None:
        store.write_table("subset", table.schema, table.to_batches(), replace=True)
        names = data.draw(st.lists(st.sampled_from(table.column_names), min_size=1, unique=True))
        limit = data.draw(st.none() | st.integers(0, 20))
        got = checks.read_all(store, "subset", columns=names, limit=limit)
        expected = table.select(names)
        if limit is not None:
            expected = expected.slice(0, limit)
        assert got.schema == expected.schema
        assert got.num_rows == expected.num_rows
