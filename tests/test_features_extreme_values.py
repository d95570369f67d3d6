"""Features on values across the whole range of their Arrow types: dates 0001..9999,
timestamps of every unit, integers past 2**53 and at int64's limits, NaN/inf, empty
strings next to nulls, long text. Registration with features must succeed on every
backend, the data must read back exactly, and the features must hold sensible values."""

from __future__ import annotations

import datetime as dt
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mdm_core.datasets.client import MDMClient
from mdm_core.sources import reader_for
from mdm_core.testing.checks import capability
from mdm_core.testing.data import assert_tables_equal, nan_to_null, unsign_zeros

BACKENDS = ["sqlite", "duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)]
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
BIG = 2**53 + 1


@pytest.fixture
def backend_client(home, monkeypatch, request):
    """A client whose PostgreSQL backend (when asked for) points at a database of the
    test's own (dropped after: nothing is left on the server)."""
    if request.param == "postgresql":
        monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", request.getfixturevalue("pg_database"))
    return request.param, MDMClient()


def _as_read(path) -> pa.Table:
    """The file as registration's reader reads it."""
    return reader_for(path, 1000).open().read_all()


def _expected(client: MDMClient, backend: str, table: pa.Table) -> pa.Table:
    from mdm_core.backends import get_backend

    engine = get_backend(backend, client.settings)
    if not capability(engine, "nan_distinct_from_null"):
        table = nan_to_null(table)
    if not capability(engine, "signed_zero_preserved"):
        table = unsign_zeros(table)
    return table


def _register_and_check(client: MDMClient, backend: str, name: str, path, **kw) -> pa.Table:
    """Register ``path`` with features; assert the data reads back as read; return the
    feature table."""
    info = client.register_dataset(name, path, backend=backend, **kw)
    assert f"{info.default_table}_features" in [t.name for t in info.tables]
    assert_tables_equal(_expected(client, backend, _as_read(path)), client.load_arrow(name))
    features = client.load_arrow(name, f"{info.default_table}_features")
    assert features.num_rows == info.table(info.default_table).row_count
    return features


@pytest.mark.parametrize("backend_client", BACKENDS, indirect=True)
def test_date_9999_12_31_registers_with_features(backend_client, tmp_path):
    backend, client = backend_client
    path = tmp_path / "s.csv"
    path.write_text("valid_to,likes\n9999-12-31,3\n2020-01-01,5\n0001-01-01,7\n")
    features = _register_and_check(client, backend, "s", path)
    rows = features.to_pylist()
    assert [r["valid_to"] for r in rows] == [dt.date(9999, 12, 31), dt.date(2020, 1, 1), dt.date(1, 1, 1)]
    assert [r["valid_to__year"] for r in rows] == [9999, 2020, 1]
    assert [r["valid_to__month"] for r in rows] == [12, 1, 1]
    assert [r["valid_to__day"] for r in rows] == [31, 1, 1]
    assert [r["valid_to__dayofweek"] for r in rows] == [4, 2, 0]  # Friday, Wednesday, Monday
    first = dt.date(1, 1, 1)
    assert [r["valid_to__days_since_start"] for r in rows] == [(d - first).days for d in
                                                               (dt.date(9999, 12, 31), dt.date(2020, 1, 1), first)]


@pytest.mark.parametrize("backend_client", BACKENDS, indirect=True)
def test_integer_past_2_53_registers_with_features(backend_client, tmp_path):
    backend, client = backend_client
    path = tmp_path / "b.csv"
    values = [BIG, 5, 7, 11, 2, INT64_MAX, 3, 1, 4]
    path.write_text("id,big\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values)))
    features = _register_and_check(client, backend, "b", path)
    assert features.column("big").to_pylist() == values
    assert features.schema.field("big").type == pa.int64()
    log = features.column("big__log1p").to_pylist()  # skewed: log1p is on
    assert log == pytest.approx([math.log1p(float(v)) for v in values])


@pytest.mark.parametrize("backend_client", BACKENDS, indirect=True)
def test_extreme_mix_registers_with_features(backend_client, tmp_path):
    """int64 limits outside ID columns, NaN/inf, empty strings vs nulls, long text,
    timestamps at both ends of the calendar, zoned timestamps, from Parquet."""
    backend, client = backend_client
    rows = 12
    long_text = "word " * 4000
    table = pa.table({
        "id": pa.array(range(rows), pa.int64()),
        "small": pa.array([INT64_MIN, INT64_MAX, 0, -1, BIG, None] * 2, pa.int64()),
        "ratio": pa.array([math.nan, math.inf, -math.inf, -0.0, 1e308, None, 1.5, -2.5, 3.0, 1e-308, 7.0, 8.0]),
        "cat": pa.array(["", None, "a", "b", "", "a", None, "b", "a", "", "b", "a"]),
        "note": pa.array([long_text, "", None, "short #tag @you", "x" * 10_000, "see www.example.com"] * 2),
        "when": pa.array([dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59), None,
                          dt.datetime(2020, 2, 29, 12, 30), dt.datetime(1969, 12, 31, 23, 59, 59),
                          dt.datetime(2262, 4, 12)] * 2, pa.timestamp("s")),
        "zoned": pa.array([dt.datetime(1, 1, 2, tzinfo=dt.UTC), dt.datetime(9999, 12, 30, tzinfo=dt.UTC), None,
                           dt.datetime(2000, 1, 1, tzinfo=dt.UTC)] * 3, pa.timestamp("us", tz="UTC")),
    })
    path = tmp_path / "mix.parquet"
    pq.write_table(table, path)
    features = _register_and_check(client, backend, "mix", path, column_types={"note": "text"})
    names = features.column_names
    assert features.column("when__year").to_pylist() == [1, 9999, None, 2020, 1969, 2262] * 2
    assert features.column("when__hour").to_pylist() == [0, 23, None, 12, 23, 0] * 2
    assert features.column("zoned__year").to_pylist() == [1, 9999, None, 2000] * 3
    assert features.column("note__len").to_pylist() == [len(long_text), 0, None, 15, 10_000, 19] * 2
    assert "cat__freq" in names
    freq = dict(zip(features.column("cat").to_pylist(), features.column("cat__freq").to_pylist(), strict=True))
    assert freq[""] == pytest.approx(3 / 12) and freq[None] is None
    assert any(n.startswith("small__") for n in names)


@pytest.mark.parametrize("engine", ["new", "legacy"])
def test_both_engines_fit_and_transform_extremes(home, tmp_path, engine):
    path = tmp_path / "e.csv"
    path.write_text(
        "id,d,t,big,neg,label\n"
        + "".join(f"{i},{d},{t},{b},{n},{i % 2}\n" for i, (d, t, b, n) in enumerate([
            ("0001-01-01", "2020-01-01T10:00:00", INT64_MAX, INT64_MIN),
            ("9999-12-31", "9999-12-31T23:59:59", BIG, 5),
            ("2020-02-29", "0001-01-01T00:00:01", 3, -7),
            ("1970-01-01", "1969-12-31T23:59:59", 10, 0),
        ] * 3))
    )
    client = MDMClient()
    info = client.register_dataset("e", path, target="label")
    client.regenerate_features("e", engine=engine)
    features = client.load_arrow("e", "data_features")
    year = "d__year" if engine == "new" else "d_year"
    assert features.column(year).to_pylist() == [1, 9999, 2020, 1970] * 3
    assert features.column("big").to_pylist() == [INT64_MAX, BIG, 3, 10] * 3
    assert info.table("data").row_count == 12


MAGIC = -777.25  # a value the patched conversion below refuses


@pytest.fixture
def refusing_conversion(monkeypatch):
    """Numeric statistics fail on any column holding :data:`MAGIC` (stands for a value
    no conversion handles), in the fit and in the transform."""
    from mdm_featurekit import profile, to_float_array

    def convert(column):
        values = to_float_array(column)
        if (values == MAGIC).any():
            raise ValueError("value out of this world")
        return values

    monkeypatch.setattr(profile, "to_float_array", convert)


def _two_columns(path):
    path.write_text("code,amount\n" + "".join(f"{MAGIC if i == 7 else i},{i * i}\n" for i in range(30)))
    return path


def test_a_column_whose_statistics_fail_is_skipped_with_a_warning(home, tmp_path, refusing_conversion):
    """That column gets no features, the others do, and the warning names the column."""
    from structlog.testing import capture_logs

    client = MDMClient()
    with capture_logs() as logs:
        info = client.register_dataset("f", _two_columns(tmp_path / "f.csv"))
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert any(e.get("column") == "code" and "out of this world" in e["error"] for e in warnings), warnings
    names = client.load_arrow("f", "data_features").column_names
    assert not [n for n in names if n.startswith("code__")]
    assert [n for n in names if n.startswith("amount__")]
    assert info.table("data").row_count == 30


def test_without_skip_on_error_the_failure_names_the_column(home, tmp_path, monkeypatch, refusing_conversion):
    from mdm_core.errors import MDMError

    monkeypatch.setenv("MDM_FEATURE_ENGINEERING_SKIP_ON_ERROR", "false")
    client = MDMClient()
    assert client.settings.feature_engineering.skip_on_error is False
    with pytest.raises(MDMError, match="column 'code' failed: ValueError: value out of this world"):
        client.register_dataset("f", _two_columns(tmp_path / "f.csv"))
    assert client.list_datasets() == []


def test_a_unit_failing_in_transform_loses_only_its_failing_outputs(home, tmp_path, monkeypatch):
    """An op that computes only the outputs it is given: the one failing output is
    skipped (warning naming it and its column), the unit's other outputs are kept."""
    from mdm_plugin_features_new import engine as new_engine
    from mdm_plugin_features_new import numeric
    from structlog.testing import capture_logs

    def failing(batch, unit):
        if any(spec.name == "amount__is_outlier" for spec in unit.outputs):
            raise ValueError("cannot flag")
        return numeric.compute(batch, unit)

    monkeypatch.setitem(new_engine.OPS, "numeric", failing)
    path = tmp_path / "g.csv"
    path.write_text("amount\n" + "".join(f"{v}\n" for v in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 500, 1000, 2] * 3))
    client = MDMClient()
    with capture_logs() as logs:
        client.register_dataset("g", path)
    names = client.load_arrow("g", "data_features").column_names
    assert "amount__is_outlier" not in names
    assert "amount__log1p" in names and "amount__bin_quantile" in names
    warned = [e for e in logs if e["log_level"] == "warning"]
    assert [(e["column"], e["columns"]) for e in warned] == [("amount", ["amount__is_outlier"])]


def test_custom_int64_feature_keeps_values_past_2_53():
    import pandas as pd

    from mdm_core.features.custom_stage import to_arrow

    series = pd.Series([INT64_MAX, INT64_MIN, BIG])
    assert to_arrow(series, "int64", 3).to_pylist() == [INT64_MAX, INT64_MIN, BIG]
