"""hypothesis: frames with values at the edges of their types register with features on
every backend, from CSV and from Parquet, and read back exactly.

Columns are drawn from: dates 0001-01-01..9999-12-31, second timestamps over the same
span, integers including int64's limits and 2**53 + 1 (never an ID column), floats with
NaN, infinities, -0.0 and extremes, categories where empty strings sit next to nulls, and
long text. The expected data is what registration's own reader makes of the file, adjusted
for the backend's declared capabilities (SQLite: NaN -> NULL, -0.0 -> 0.0), as in the
round-trip and cross-backend tests.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdm_core.backends import get_backend
from mdm_core.datasets.client import MDMClient
from mdm_core.sources import reader_for
from mdm_core.testing.checks import capability
from mdm_core.testing.data import assert_tables_equal, nan_to_null, unsign_zeros

BACKENDS = ["sqlite", "duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)]
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
EDGE_INTS = [INT64_MIN, INT64_MAX, 2**53 + 1, -(2**53 + 1), 0, -1]
EDGE_FLOATS = [math.nan, math.inf, -math.inf, -0.0, 0.0, 1e308, -1e308, 5e-324, 2.0**53 + 2]
EDGE_DATES = [dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(1970, 1, 1), dt.date(2000, 2, 29)]
EDGE_STAMPS = [dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59), dt.datetime(1969, 12, 31, 23, 59, 59)]
LONG = "lorem ipsum #tag @who www.example.com " * 300

COLUMNS = {
    "amount_int": (pa.int64(), st.sampled_from(EDGE_INTS) | st.integers(INT64_MIN, INT64_MAX)),
    "ratio": (pa.float64(), st.sampled_from(EDGE_FLOATS) | st.floats()),
    "day": (pa.date32(), st.sampled_from(EDGE_DATES) | st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))),
    "stamp": (pa.timestamp("s"), st.sampled_from(EDGE_STAMPS)
              | st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59)).map(
                  lambda d: d.replace(microsecond=0))),
    "color": (pa.string(), st.sampled_from(["", "red", "blue", "Red", "x" * 40])),
    "note": (pa.string(), st.sampled_from(["", LONG, LONG + "!", "short text, here"])
             | st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=60,
                       max_size=400)),
}


@st.composite
def frames(draw) -> pa.Table:
    """A few of :data:`COLUMNS` (at least one), 1..30 rows, nulls anywhere, plus an id."""
    names = draw(st.lists(st.sampled_from(sorted(COLUMNS)), min_size=1, max_size=len(COLUMNS), unique=True))
    rows = draw(st.integers(1, 30))
    columns = {"id": pa.array(range(rows), pa.int64())}
    for name in sorted(names):
        typ, values = COLUMNS[name]
        columns[name] = pa.array(draw(st.lists(st.none() | values, min_size=rows, max_size=rows)), typ)
    return pa.table(columns)


@pytest.fixture
def backend_client(home, monkeypatch, request):
    if request.param == "postgresql":
        from mdm_core.testing.postgres import require_server

        monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", require_server())
    return request.param, MDMClient()


def _expected(settings, backend: str, table: pa.Table) -> pa.Table:
    engine = get_backend(backend, settings)
    if not capability(engine, "nan_distinct_from_null"):
        table = nan_to_null(table)
    if not capability(engine, "signed_zero_preserved"):
        table = unsign_zeros(table)
    return table


_names = itertools.count()


@pytest.mark.slow
@pytest.mark.parametrize("backend_client", BACKENDS, indirect=True)
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(table=frames(), fmt=st.sampled_from(["csv", "parquet"]))
def test_extreme_frames_register_with_features_and_read_back(backend_client, tmp_path_factory, table, fmt):
    backend, client = backend_client
    folder = tmp_path_factory.mktemp("extreme")
    path = folder / f"data.{fmt}"
    if fmt == "csv":
        pacsv.write_csv(table, path)
    else:
        pq.write_table(table, path)
    name = f"x{next(_names)}"
    info = client.register_dataset(name, path, backend=backend, id_columns=["id"])
    try:
        as_read = reader_for(path, 1000).open().read_all()
        assert_tables_equal(_expected(client.settings, backend, as_read), client.load_arrow(name))
        assert "data_features" in [t.name for t in info.tables]
        features = client.load_arrow(name, "data_features")
        assert features.num_rows == table.num_rows
        assert_tables_equal(client.load_arrow(name), features.select(as_read.column_names))
        for column in ("day", "stamp"):
            if f"{column}__year" in features.column_names:
                years = [v.year if v is not None else None for v in as_read.column(column).to_pylist()]
                assert features.column(f"{column}__year").to_pylist() == years
    finally:
        client.remove_dataset(name)
