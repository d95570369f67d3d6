"""hypothesis: arbitrary tables round-trip through the SQLite plugin unchanged."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TYPES = {
    "int8": (pa.int8(), st.integers(-128, 127)),
    "int16": (pa.int16(), st.integers(-(2**15), 2**15 - 1)),
    "int32": (pa.int32(), st.integers(-(2**31), 2**31 - 1)),
    "int64": (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    "float64": (pa.float64(), st.floats(allow_nan=False, allow_infinity=True)),
    "float32": (pa.float32(), st.floats(width=32, allow_nan=False)),
    "bool": (pa.bool_(), st.booleans()),
    "string": (pa.string(), st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=20)),
    "date": (pa.date32(), st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))),
    "ts": (pa.timestamp("us"), st.datetimes(dt.datetime(1700, 1, 1), dt.datetime(2200, 1, 1))),
    "ts_tz": (pa.timestamp("us", tz="UTC"), st.datetimes(dt.datetime(1700, 1, 1), dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC))),
    "ts_ny": (pa.timestamp("ms", tz="America/New_York"), st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))),
    "binary": (pa.binary(), st.binary(max_size=10)),
}


NAME = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=12)


@st.composite
def tables(draw, name=NAME):
    names = draw(st.lists(name, min_size=1, max_size=6, unique_by=str.lower))
    rows = draw(st.integers(0, 30))
    columns = {}
    for name in names:
        typ, values = TYPES[draw(st.sampled_from(sorted(TYPES)))]
        columns[name] = pa.array(draw(st.lists(st.none() | values, min_size=rows, max_size=rows)), typ)
    return pa.table(columns)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(table=tables(), batch=st.integers(1, 7))
def test_store_round_trip(tmp_path_factory, table, batch):
    from mdm_core.backends import get_backend
    from mdm_core.config import load_settings
    from mdm_core.storage import StoreRef

    folder = tmp_path_factory.mktemp("rt")
    settings = load_settings(folder).settings
    backend = get_backend("sqlite", settings)
    with backend.create_store(StoreRef("rt", folder / "ds")) as store:
        written = store.write_table("t", table.schema, table.to_batches(max_chunksize=batch))
        assert written == table.num_rows
        back = store.read_table("t", batch_size=batch).read_all()
        assert back.schema == table.schema
        assert back.to_pylist() == table.to_pylist()
        assert store.row_count("t") == table.num_rows


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(table=tables(name=NAME.filter(str.strip)))
def test_registration_round_trip_via_parquet(tmp_path_factory, table):
    from mdm_core.datasets.client import MDMClient

    folder = tmp_path_factory.mktemp("reg")
    pq.write_table(table, folder / "t.parquet")
    client = MDMClient(home=folder / "home")
    client.register_dataset("t", folder / "t.parquet", generate_features=False)
    back = client.load_arrow("t")
    assert back.schema == table.schema
    assert back.to_pylist() == table.to_pylist()
