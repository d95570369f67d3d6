"""``move-store``: new-layout datasets moved between engines by the storage phase with
``--to`` (every pair of sqlite, duckdb and PostgreSQL), verified, resumable, reversible,
and the old store dropped only by cleanup."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

BACKENDS = ("sqlite", "duckdb", "postgresql")
PAIRS = [
    pytest.param((a, b), id=f"{a}-{b}", marks=[pytest.mark.postgres] if "postgresql" in (a, b) else [])
    for a in BACKENDS for b in BACKENDS if a != b
]
FLIGHT_ROWS = 20_000



@pytest.fixture
def pair(request, home, monkeypatch) -> tuple[str, str, PostgresSchemas]:
    """(source backend, target backend, the MDM schemas of the test's PostgreSQL database
    when either is PostgreSQL)."""
    source, target = request.param
    dsn = None
    if "postgresql" in (source, target):
        dsn = request.getfixturevalue("pg_database")
        monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", dsn)
    return source, target, PostgresSchemas(dsn)


class PostgresSchemas:
    """The MDM schemas of the test's own database (none without one)."""

    def __init__(self, dsn: str | None) -> None:
        self.dsn = dsn

    def __call__(self) -> list[str]:
        if self.dsn is None:
            return []
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            rows = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'mdm\\_%' ORDER BY 1").fetchall()
        return [r[0] for r in rows]


def _client():
    from mdm_core.datasets.client import MDMClient

    return MDMClient()


def _migration(to: str | None, *datasets: str, home: Path | None = None):
    """The home's migration with the ``move-store`` step alone (the other phases' steps,
    tested elsewhere, have nothing to do on a new-layout home)."""
    from mdm_core.migration.move_store import MoveStore
    from mdm_core.migration.orchestrator import Migration
    from mdm_core.migration.step import RunOptions

    return Migration(home, RunOptions(to=to, datasets=tuple(datasets)), steps=[("core:move", MoveStore())])


def test_the_step_is_a_built_in_plugin():
    from mdm_core.migration.step import installed_steps

    assert ("core:move", "move-store", "storage") in [(p, s.name, s.phase) for p, s in installed_steps()]


def _stores(name: str) -> dict:
    """Every table of ``name`` read from its current store."""
    client = _client()
    info = client.get_dataset_info(name)
    return {t.name: client.load_arrow(name, t.name) for t in info.tables}


def _as_stored(tables: dict, backend: str) -> dict:
    """``tables`` as engine ``backend`` keeps them (SQLite: NaN becomes NULL)."""
    import pyarrow as pa

    from mdm_core.backends import get_backend

    engine = get_backend(backend, _client().settings)
    return {n: pa.Table.from_batches([engine.as_stored(b) for b in t.to_batches()], schema=t.schema)
            for n, t in tables.items()}


def _home_hashes(home: Path) -> dict[str, str]:
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(home.rglob("*")) if p.is_file()}


def _store_exists(backend: str, store: dict, name: str) -> bool:
    from mdm_core.backends import backend_at
    from mdm_core.storage import StoreRef

    client = _client()
    return backend_at(backend, store, client.settings).store_exists(StoreRef(store["key"], client.catalog.folder(name)))


@pytest.mark.parametrize("pair", PAIRS, indirect=True)
def test_move_between_every_pair_keeps_every_row(pair, home, penguins, flights_20k, tmp_path, cli):
    source, target, pg = pair
    client = _client()
    client.register_dataset("penguins", penguins, backend=source)
    client.register_dataset("flights", flights_20k, backend=source, generate_features=False)
    before = {name: _stores(name) for name in ("penguins", "flights")}
    old = {name: client.get_dataset_info(name).store for name in before}
    hashes = _home_hashes(home)

    plan = _migration(target).plan("storage")
    assert _home_hashes(home) == hashes  # planning writes nothing
    step = next(s for p in plan.phases for s in p.steps if s.step.name == "move-store")
    assert [u.id for u in step.plan.units if u.dataset == "flights"] == ["flights/data->" + target, "flights/catalog->" + target]
    assert sum(u.rows or 0 for u in step.plan.units if u.dataset == "flights") == FLIGHT_ROWS

    report = _migration(target).run("storage")
    assert report.exit_code == 0, [(o.record.unit, o.record.error) for o in report.outcomes]
    for name, tables in before.items():
        info = _client().get_dataset_info(name)
        assert info.backend == target and info.store["key"] != old[name]["key"]
        after = _stores(name)
        assert after.keys() == tables.keys()
        for table, expected in _as_stored(tables, target).items():
            assert after[table].equals(expected), f"{name}/{table}"
        assert _store_exists(source, old[name], name)  # kept until cleanup
    unit = next(o.record for o in report.outcomes if o.record.unit == f"flights/data->{target}")
    assert unit.rows_written == FLIGHT_ROWS and unit.checksum_source == unit.checksum_target
    print(f"\n{source} -> {target}: {FLIGHT_ROWS / unit.seconds:,.0f} rows/s (flights 20k)")

    again = _migration(target).run("storage")
    assert again.exit_code == 0 and again.outcomes == []

    removed = _migration(target).cleanup()
    assert len(removed) == 2 and all(f"old {source} store" in line for line in removed)
    assert not any(_store_exists(source, old[name], name) for name in before)
    if pg.dsn:
        keys = {_client().get_dataset_info(n).store["key"] for n in before} if target == "postgresql" else set()
        assert pg() == sorted(f"mdm_{k}" for k in keys)
    shown = cli("dataset", "info", "flights")
    assert shown.exit_code == 0 and target in shown.stdout.lower()
    out = tmp_path / "out"
    out.mkdir()
    assert _client().export_dataset("flights", out, format="csv")
    assert _client().load_dataset("flights").shape[0] == FLIGHT_ROWS
    assert _client().regenerate_features("penguins").backend == target
    assert _client().load_dataset("penguins", "train_features").shape[0] == before["penguins"]["train"].num_rows


@pytest.mark.parametrize("pair", [p for p in PAIRS if p.id in ("duckdb-sqlite", "sqlite-postgresql", "postgresql-duckdb")],
                         indirect=True)
def test_rollback_restores_the_metadata_byte_for_byte_and_drops_the_new_store(pair, home, penguins):
    source, target, pg = pair
    client = _client()
    client.register_dataset("penguins", penguins, backend=source)
    yaml = client.catalog.folder("penguins") / "dataset.yaml"
    original, schemas = yaml.read_bytes(), pg()
    assert _migration(target).run("storage").exit_code == 0
    moved = _client().get_dataset_info("penguins")
    assert moved.backend == target and _store_exists(target, moved.store, "penguins")

    assert _migration(target).rollback("storage") == ["storage"]
    assert yaml.read_bytes() == original
    assert not _store_exists(target, moved.store, "penguins")
    assert pg() == schemas
    assert sorted(p.name for p in yaml.parent.iterdir() if not p.name.startswith(f"dataset.{source}")) == ["dataset.yaml"]
    assert _client().load_dataset("penguins").shape[0] == 272


def test_plan_options_skips_and_exit_codes(home, penguins):
    from mdm_core.errors import MDMError

    client = _client()
    client.register_dataset("penguins", penguins, backend="sqlite")
    client.register_dataset("other", penguins, backend="duckdb", generate_features=False)
    hashes = _home_hashes(home)

    def step_plan(migration):
        return next(s.plan for p in migration.plan("storage").phases for s in p.steps if s.step.name == "move-store")

    assert step_plan(_migration(None)).units == ()
    with pytest.raises(MDMError, match="installed: .*duckdb.*sqlite"):
        _migration("oracle").plan("storage")
    plan = step_plan(_migration("duckdb", "penguins", "other", "ghost"))
    assert {u.dataset for u in plan.units} == {"penguins"} and plan.units[-1].id == "penguins/catalog->duckdb"
    assert plan.notes == ("other: already on duckdb",)
    assert [(s.what, s.blocking) for s in plan.skipped] == [("ghost", True)]
    assert _home_hashes(home) == hashes

    report = _migration("duckdb", "penguins", "ghost").run("storage")
    assert report.exit_code == 5  # moved, but a named dataset was left behind
    assert _client().get_dataset_info("penguins").backend == "duckdb"


def test_a_failed_table_leaves_the_catalog_alone_and_the_next_run_resumes(home, penguins, monkeypatch):
    import mdm_core.migration.copy as copy_module

    client = _client()
    client.register_dataset("penguins", penguins, backend="sqlite")
    client.register_dataset("second", penguins, backend="sqlite", generate_features=False)
    yaml = client.catalog.folder("second") / "dataset.yaml"
    original = yaml.read_bytes()
    real = copy_module.copy_table
    calls = {"test": 0}

    def failing(source, table, *args, **kwargs):
        """Fails copying the second dataset's (``second``'s) table ``test``."""
        calls[table] = calls.get(table, 0) + 1
        if table == "test" and calls["test"] == 2:
            raise OSError("disk full")
        return real(source, table, *args, **kwargs)

    monkeypatch.setattr(copy_module, "copy_table", failing)
    report = _migration("duckdb").run("storage")
    assert report.exit_code == 1
    states = {o.record.unit: o.record.state for o in report.outcomes}
    assert states["second/test->duckdb"] == "failed" and states["second/catalog->duckdb"] == "failed"
    assert states["penguins/catalog->duckdb"] == "done"
    assert yaml.read_bytes() == original

    monkeypatch.setattr(copy_module, "copy_table", real)
    again = _migration("duckdb").run("storage")  # penguins' rewritten metadata does not count as a changed source
    assert again.exit_code == 0
    assert {o.record.unit for o in again.outcomes} == {"second/test->duckdb", "second/catalog->duckdb"}
    assert _client().get_dataset_info("second").backend == "duckdb"
    assert _client().load_dataset("second", "test").shape[0] == 72


def test_a_catalog_unit_interrupted_after_the_rewrite_is_finished_by_the_next_run(home, penguins, monkeypatch):
    import mdm_core.migration.move_checks as checks

    client = _client()
    client.register_dataset("penguins", penguins, backend="duckdb", generate_features=False)
    old = client.get_dataset_info("penguins").store
    with monkeypatch.context() as patch:
        patch.setattr(checks, "check_catalog", lambda ctx, unit: (_ for _ in ()).throw(OSError("killed")))
        assert _migration("sqlite").run("storage").exit_code == 1
    assert _client().get_dataset_info("penguins").backend == "sqlite"  # rewritten, not yet verified

    again = _migration("sqlite").run("storage")
    assert again.exit_code == 0 and [o.record.unit for o in again.outcomes] == ["penguins/catalog->sqlite"]
    assert _migration("sqlite").cleanup() == ["penguins: the old duckdb store (dataset.duckdb)"]
    assert not _store_exists("duckdb", old, "penguins")


def test_a_mismatch_exits_3_and_keeps_the_old_catalog(home, penguins, monkeypatch):
    import mdm_core.migration.move_checks as checks

    client = _client()
    client.register_dataset("penguins", penguins, backend="sqlite", generate_features=False)
    original = (client.catalog.folder("penguins") / "dataset.yaml").read_bytes()
    monkeypatch.setattr(checks, "check_table", lambda ctx, unit, result, deep: [f"{unit.id}: checksum differs"])
    report = _migration("duckdb").run("storage")
    assert report.exit_code == 3
    assert (client.catalog.folder("penguins") / "dataset.yaml").read_bytes() == original


@pytest.mark.parametrize("pair", PAIRS)
def test_round_trip_of_generated_tables(pair, tmp_path_factory, monkeypatch, request):
    """Generated rows (extreme integers, NaN/inf/-0.0/NULL floats, any text, booleans,
    UTC timestamps) moved from one backend to another read back as the target engine
    stores them (its ``as_stored``), row for row; every ordered pair."""
    import datetime as dt
    import gc

    import pyarrow as pa
    import pyarrow.parquet as pq
    from hypothesis import HealthCheck, example, given, settings
    from hypothesis import strategies as st

    from mdm_core.backends import get_backend
    from mdm_core.datasets.client import MDMClient
    from mdm_core.testing.data import assert_tables_equal

    for key in ("MDM_HOME_DIR", "MDM_DATABASE_DEFAULT_BACKEND"):
        monkeypatch.delenv(key, raising=False)
    if "postgresql" in pair:
        monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", request.getfixturevalue("pg_database"))
    moment = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1),
                          timezones=st.just(dt.UTC))
    row = st.fixed_dictionaries({
        "id": st.integers(-(2**62), 2**62),
        "x": st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True, width=64)),
        "label": st.one_of(st.none(), st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                                                      blacklist_characters="\x00"), max_size=12)),
        "flag": st.one_of(st.none(), st.booleans()),
        "at": st.one_of(st.none(), moment),
    })
    schema = pa.schema([("id", pa.int64()), ("x", pa.float64()), ("label", pa.string()), ("flag", pa.bool_()),
                        ("at", pa.timestamp("us", tz="UTC"))])
    source, target = pair

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
    @example(rows=[{"id": 0, "x": None, "label": None, "flag": None, "at": None},
                   {"id": 0, "x": float("nan"), "label": None, "flag": None, "at": None}])
    @given(rows=st.lists(row, min_size=1, max_size=40))
    def round_trip(rows):
        root = tmp_path_factory.mktemp("prop")
        (root / "home").mkdir()
        table = pa.Table.from_pylist(rows, schema=schema)
        pq.write_table(table, root / "data.parquet")
        client = MDMClient(home=root / "home")
        client.register_dataset("gen", root / "data.parquet", backend=source, generate_features=False)
        before = client.load_arrow("gen")
        report = _migration(target, home=root / "home").run("storage")
        assert report.exit_code == 0, [(o.record.unit, o.record.error) for o in report.outcomes]
        client = MDMClient(home=root / "home")
        assert client.get_dataset_info("gen").backend == target
        engine = get_backend(target, client.settings)
        expected = pa.Table.from_batches([engine.as_stored(b) for b in before.to_batches()], schema=before.schema)
        moved = client.load_arrow("gen")
        del client, engine, report
        gc.collect()  # this example's PostgreSQL pools close now, not when the server runs out of connections
        assert_tables_equal(expected, moved)  # NaN equals NaN (Table.equals says no once a column also holds NULL)

    round_trip()
