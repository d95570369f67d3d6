"""Feature generation end to end on real data (Palmer penguins, NYC flights) in real
SQLite stores: fit on train / apply to test, batch-size independence, 1.x names, skip
rules and errors. (1.x custom-feature files: ``plugins/mdm-plugin-legacy/tests``.)"""

from __future__ import annotations

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from mdm_core.datasets.feature_stage import feature_job, record_features
from mdm_core.datasets.models import ColumnInfo, DatasetInfo, TableInfo
from mdm_core.errors import MDMError
from mdm_core.features.runner import generate_features

PENGUINS_DATA = "legacy-mdm-1.0.6/data/penguins"
PENGUIN_KINDS = {"id": "id", "species": "categorical", "island": "categorical", "sex": "categorical", "year": "numeric"}
FLIGHT_KINDS = {"carrier": "categorical", "origin": "categorical", "dest": "categorical",
                "tailnum": "categorical", "time_hour": "datetime", "id": "id"}


def _settings(home, *, engine="new", batch_size=50_000, cache_mb=256, compat=False, **fe):
    from mdm_core.config import load_settings

    s = load_settings(home).settings
    return attrs.evolve(
        s,
        flags=attrs.evolve(s.flags, use_new_features=engine == "new", feature_compatibility_mode=compat),
        performance=attrs.evolve(s.performance, batch_size=batch_size, memory_cache_mb=cache_mb),
        feature_engineering=attrs.evolve(s.feature_engineering, **fe),
    )


def _store(settings, folder):
    from mdm_core.backends import get_backend
    from mdm_core.storage import StoreRef

    return get_backend("sqlite", settings).create_store(StoreRef("ds", folder))


def _load(store, tables: dict[str, pa.Table], kinds: dict[str, str], target: str) -> DatasetInfo:
    infos = []
    for name, table in tables.items():
        store.write_table(name, table.schema, table.to_batches())
        cols = [ColumnInfo(f.name, kinds.get(f.name, "numeric"), str(f.type)) for f in table.schema]
        infos.append(TableInfo(name, "data", table.num_rows, cols))
    return DatasetInfo(name="penguins" if "species" in kinds else "flights", display_name="x", backend="sqlite",
                       tables=infos, registered_at="2024-01-01T00:00:00+00:00", target_column=target, id_columns=["id"])


@pytest.fixture
def penguin_tables(legacy_fixture):
    opts = pacsv.ConvertOptions(strings_can_be_null=True)
    folder = legacy_fixture / "data" / "penguins"
    return {n: pacsv.read_csv(folder / f"{n}.csv", convert_options=opts) for n in ("train", "test", "sample_submission")}


@pytest.fixture(scope="module")
def flights_tables(flights_csv):
    """20,000 flights: 15,000 train rows (with target arr_delay), 5,000 test rows without."""
    reader = pacsv.open_csv(flights_csv, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    batches, rows = [], 0
    for batch in reader:
        batches.append(batch)
        rows += batch.num_rows
        if rows >= 20_000:
            break
    table = pa.Table.from_batches(batches).slice(0, 20_000)
    table = table.add_column(0, "id", pa.array(np.arange(table.num_rows)))
    train = table.slice(0, 15_000)
    test = table.slice(15_000).drop_columns(["arr_delay"])
    return {"train": train, "test": test}


def _generate(home, tmp_path, tables, kinds, target, sub="ds", **kw):
    """Features through the dataset hand-over; the feature TableInfo records written."""
    settings = _settings(home, **kw)
    store = _store(settings, tmp_path / sub)
    info = _load(store, tables, kinds, target)
    record_features(info, generate_features(store, feature_job(info), settings))
    return store, info, [t for t in info.tables if t.kind == "features"]


def _frame(store, name):
    return store.read_table(name).read_all().to_pandas()


def test_legacy_engine_on_penguins_matches_1x_names(home, tmp_path, penguin_tables, legacy_fixture):
    store, info, result = _generate(home, tmp_path, penguin_tables, PENGUIN_KINDS, "species", engine="legacy")

    assert [t.name for t in result] == ["train_features", "test_features"]  # no sample_submission_features
    train, test = _frame(store, "train_features"), _frame(store, "test_features")
    assert len(train) == 272 and len(test) == 72
    assert list(train.columns.drop("species")) == list(test.columns)
    import sqlite3

    legacy_db = legacy_fixture / "home" / "datasets" / "penguins" / "penguins.sqlite"
    with sqlite3.connect(legacy_db) as con:
        old = [r[1] for r in con.execute("pragma table_info(train_features)")]
    common = [c for c in old if c in train.columns]
    assert len(common) >= 0.9 * len(old), sorted(set(old) - set(train.columns))
    # 1.x values where 1.x computed on the whole table: zscore, bins, percentile, boxcox
    row = train.iloc[0]
    assert row["bill_length_mm_zscore"] == pytest.approx(-0.8531654767910047)
    assert row["bill_length_mm_percentile"] == pytest.approx(0.2518518518518518)
    assert row["bill_length_mm_bin_quantile"] == 2 and row["bill_depth_mm_bin_equal"] == 6
    assert row["bill_length_mm_boxcox"] == pytest.approx(12.815673117192377, rel=1e-4)
    assert row["island_frequency"] == 38 and row["island_Torgersen"] == 1


def test_test_table_uses_train_statistics(home, tmp_path, penguin_tables):
    fe = _settings(home).feature_engineering
    store, _, _ = _generate(home, tmp_path, penguin_tables, PENGUIN_KINDS, "species", engine="new",
                            numeric=attrs.evolve(fe.numeric, zscore=True),
                            categorical=attrs.evolve(fe.categorical, count=True))
    train, test = _frame(store, "train_features"), _frame(store, "test_features")
    mean, std = train["body_mass_g"].mean(), train["body_mass_g"].std()
    expected = (test["body_mass_g"] - mean) / std
    np.testing.assert_allclose(test["body_mass_g__zscore"], expected, rtol=1e-12)
    counts = train["island"].value_counts()
    assert (test["island__count"] == test["island"].map(counts).fillna(0)).all()
    assert not any(c.startswith("species") for c in test.columns)
    assert list(train.columns.drop("species")) == list(test.columns)


@pytest.mark.parametrize("engine", ["legacy", "new"])
def test_batch_size_does_not_change_any_value(home, tmp_path, flights_tables, engine):
    """Nor does replaying the training table from memory instead of reading it again."""
    tables = {"train": flights_tables["train"].slice(0, 1400), "test": flights_tables["test"].slice(0, 300)}
    outputs = []
    for size, cache_mb in ((7, 0), (1000, 256), (100_000, 256), (100_000, 0)):
        store, _, _ = _generate(home, tmp_path, tables, FLIGHT_KINDS, "arr_delay", sub=f"b{size}-{cache_mb}",
                                engine=engine, batch_size=size, cache_mb=cache_mb)
        outputs.append({t: store.read_table(f"{t}_features").read_all() for t in ("train", "test")})
    for other in outputs[1:]:
        for table in ("train", "test"):
            assert other[table].schema == outputs[0][table].schema
            assert other[table].equals(outputs[0][table]), table


def test_legacy_names_on_flights(home, tmp_path, flights_tables):
    store, _, result = _generate(home, tmp_path, flights_tables, FLIGHT_KINDS, "arr_delay", engine="legacy")
    names = [c.name for c in result[0].columns]
    for expected in ("distance_log", "carrier_frequency", "dep_delay_zscore", "carrier_UA", "origin_JFK",
                     "time_hour_hour", "dep_delay_percentile", "air_time_bin_quantile", "distance_bin_equal"):
        assert expected in names
    assert not any(n.startswith("arr_delay_") for n in names)  # target gets no features
    assert not any(n.startswith("id_") for n in names)
    assert "year_log" not in names  # constant on train (all 2013): dropped
    assert result[0].row_count == 15_000 and result[1].row_count == 5_000
    assert [c.name for c in result[1].columns] == [n for n in names if n != "arr_delay"]


def test_compatibility_mode_emits_legacy_names(home, tmp_path, flights_tables):
    tables = {"train": flights_tables["train"].slice(0, 3000), "test": flights_tables["test"].slice(0, 500)}
    _, _, plain = _generate(home, tmp_path, tables, FLIGHT_KINDS, "arr_delay", sub="plain", engine="new")
    _, _, compat = _generate(home, tmp_path, tables, FLIGHT_KINDS, "arr_delay", sub="compat", engine="new", compat=True)
    plain_names = {c.name for c in plain[0].columns}
    compat_names = {c.name for c in compat[0].columns}
    assert {"distance__log1p", "dep_delay__log1p", "carrier__freq", "dep_delay__is_outlier"} <= plain_names
    assert {"distance_log", "carrier_frequency_ratio", "dep_delay_is_outlier", "time_hour_hour"} <= compat_names
    assert "time_hour__dayofweek_sin" in compat_names  # no 1.x equivalent: keeps the new name


def test_family_switches_are_honoured(home, tmp_path, flights_tables):
    tables = {"train": flights_tables["train"].slice(0, 2000), "test": flights_tables["test"].slice(0, 200)}
    s = _settings(home)
    fe = s.feature_engineering
    _, _, result = _generate(
        home, tmp_path, tables, FLIGHT_KINDS, "arr_delay", engine="new",
        temporal=attrs.evolve(fe.temporal, components=["hour"], cyclical=False, elapsed_days=False),
        interactions=attrs.evolve(fe.interactions, enabled=False),
        categorical=attrs.evolve(fe.categorical, max_one_hot_levels=3, rare=False),
        skip_list=["distance__*", "binning"],
    )
    names = [c.name for c in result[0].columns]
    assert [n for n in names if n.startswith("time_hour__")] == ["time_hour__hour"]
    assert not any("__plus__" in n for n in names)
    assert sorted(n for n in names if n.startswith("origin__is_")) == ["origin__is_EWR", "origin__is_JFK", "origin__is_LGA"]
    assert not [n for n in names if n.startswith("carrier__is_")]  # 16 levels > max_one_hot_levels
    assert not any(n.startswith("distance__") for n in names)
    assert not any("__bin_" in n for n in names)


def _write_custom_file(home, dataset, body):
    folder = home / "config" / "custom_features"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{dataset}.py").write_text(body)


FAILING = '''
from mdm_core.features import custom_feature

@custom_feature(name="fragile", input_columns=["body_mass_g"])
def fragile(df):
    if len(df) < 100:   # fails on the small test table only
        raise RuntimeError("boom")
    return df["body_mass_g"] * 2

@custom_feature(name="mass_kg", input_columns=["body_mass_g"])
def mass_kg(df):
    return df["body_mass_g"] / 1000
'''


def test_failing_custom_feature_is_skipped_everywhere(home, tmp_path, penguin_tables):
    from structlog.testing import capture_logs

    _write_custom_file(home, "penguins", FAILING)
    with capture_logs() as logs:
        store, _, result = _generate(home, tmp_path, penguin_tables, PENGUIN_KINDS, "species")
    train_cols = [c.name for c in result[0].columns]
    assert "mass_kg" in train_cols and "fragile" not in train_cols
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert any(e.get("feature") == "fragile" for e in warnings), warnings
    assert "fragile" not in _frame(store, "test_features").columns
    assert not [t for t in store.list_tables() if t.endswith("__tmp")]


def test_failing_custom_feature_is_fatal_without_skip_on_error(home, tmp_path, penguin_tables):
    _write_custom_file(home, "penguins", FAILING)
    with pytest.raises(MDMError, match="fragile"):
        _generate(home, tmp_path, penguin_tables, PENGUIN_KINDS, "species", skip_on_error=False)


def test_failure_leaves_previous_feature_tables_intact(home, tmp_path, penguin_tables):
    settings = _settings(home, skip_on_error=False)
    store = _store(settings, tmp_path / "ds")
    info = _load(store, penguin_tables, PENGUIN_KINDS, "species")
    generate_features(store, feature_job(info), settings)
    before = store.checksum("train_features")
    _write_custom_file(home, "penguins", FAILING)
    with pytest.raises(MDMError):
        generate_features(store, feature_job(info), settings)
    assert store.checksum("train_features") == before
    assert sorted(store.list_tables()) == ["sample_submission", "test", "test_features", "train", "train_features"]


def test_unknown_engine_is_a_clear_error(home, tmp_path, penguin_tables):
    from mdm_core.errors import PluginError

    settings = _settings(home)
    store = _store(settings, tmp_path / "ds")
    info = _load(store, penguin_tables, PENGUIN_KINDS, "species")
    with pytest.raises(PluginError, match="'turbo' is not installed"):
        generate_features(store, feature_job(info), settings, engine_name="turbo")


def test_engine_unit_failing_on_a_late_test_batch_is_skipped_everywhere(home, tmp_path, flights_tables, monkeypatch):
    """Transforms run a batch ahead on a worker thread: a unit that fails only on a late
    batch of the test table is still reported, skipped, and missing from every table,
    which otherwise equal a run without the failure."""
    from mdm_plugin_features_new import engine as new_engine
    from structlog.testing import capture_logs

    tables = {"train": flights_tables["train"].slice(0, 3000), "test": flights_tables["test"].slice(0, 1000)}
    store, _, _ = _generate(home, tmp_path, tables, FLIGHT_KINDS, "arr_delay", sub="ok", batch_size=250)
    expected = {t: store.read_table(f"{t}_features").read_all() for t in ("train", "test")}

    def failing(op):
        def run(batch, unit):
            if unit.sources == ("dep_time",) and pa.compute.max(batch.column("id")).as_py() >= 15_700:
                raise RuntimeError("late failure")
            return op(batch, unit)
        return run

    for name, op in list(new_engine.OPS.items()):
        monkeypatch.setitem(new_engine.OPS, name, failing(op))
    with capture_logs() as logs:
        store, _, _ = _generate(home, tmp_path, tables, FLIGHT_KINDS, "arr_delay", sub="late", batch_size=250)
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert warnings and all(e["error"] == "late failure" for e in warnings), warnings
    skipped = [c for e in warnings for c in e["columns"]]
    assert skipped and all(c.startswith("dep_time__") for c in skipped)
    for table in ("train", "test"):
        got = store.read_table(f"{table}_features").read_all()
        assert got.equals(expected[table].drop_columns(skipped)), table
    assert not [t for t in store.list_tables() if t.endswith("__tmp")]


class _CountingStore:
    """A store wrapper counting full reads of each table."""

    def __init__(self, store):
        self.store = store
        self.reads = 0

    def read_table(self, name, **kw):
        self.reads += 1
        return self.store.read_table(name, **kw)


@pytest.mark.parametrize(("cache_bytes", "reads"), [(10**9, 1), (1000, 3), (0, 3)])
def test_table_source_replays_from_memory_only_within_its_limit(home, tmp_path, flights_tables, cache_bytes, reads):
    from mdm_core.features.runner import TableSource

    table = flights_tables["train"].slice(0, 3000)
    store = _store(_settings(home), tmp_path / "src")
    store.write_table("train", table.schema, table.to_batches())
    counting = _CountingStore(store)
    source = TableSource(counting, "train", 700, cache_bytes)
    passes = [pa.Table.from_batches(list(source.batches()), schema=table.schema) for _ in range(3)]
    assert all(p.equals(table) for p in passes)
    assert counting.reads == reads
    assert source.cached == (reads == 1)


def test_table_source_does_not_keep_a_pass_that_stopped_early(home, tmp_path, flights_tables):
    from mdm_core.features.runner import TableSource

    table = flights_tables["train"].slice(0, 3000)
    store = _store(_settings(home), tmp_path / "src")
    store.write_table("train", table.schema, table.to_batches())
    source = TableSource(store, "train", 700, 10**9)
    first = source.batches()
    next(first)
    first.close()
    assert not source.cached
    assert pa.Table.from_batches(list(source.batches())).equals(table)
    assert source.cached


def test_new_engine_defaults_skip_rescalings_and_log_of_unskewed_columns(home, tmp_path, flights_tables):
    """zscore and count are exact rescalings (off by default); log1p only where skewed."""
    import pandas as pd

    tables = {"train": flights_tables["train"].slice(0, 3000), "test": flights_tables["test"].slice(0, 500)}
    store, _, result = _generate(home, tmp_path, tables, FLIGHT_KINDS, "arr_delay", engine="new")
    names = {c.name for c in result[0].columns}
    assert not any(n.endswith(("__zscore", "__count")) for n in names)
    train = tables["train"].to_pandas()
    for column in ("dep_time", "sched_dep_time", "hour", "minute", "distance", "air_time", "dep_delay"):
        skew = pd.Series(train[column]).dropna().skew()
        assert (f"{column}__log1p" in names) == (abs(skew) >= 1.0), (column, skew)
