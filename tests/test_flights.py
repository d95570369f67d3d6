"""The NYC flights CSV (336,776 rows) registers into SQLite and reads back identical."""

from __future__ import annotations

import pyarrow.csv as pacsv
import pytest


@pytest.mark.slow
def test_flights_round_trip_sqlite(run_mdm, client, flights_csv):
    result = run_mdm("dataset", "register", "flights", str(flights_csv), "--target", "arr_delay", "--no-features")
    assert result.returncode == 0, result.stderr
    info = client.get_dataset_info("flights")
    assert info.table("data").row_count == 336_776
    assert info.problem_type == "regression"
    expected = pacsv.read_csv(
        flights_csv, convert_options=pacsv.ConvertOptions(strings_can_be_null=True)
    )
    back = client.load_arrow("flights")
    assert back.schema == expected.schema
    assert back.num_rows == expected.num_rows == 336_776
    for name in expected.column_names:
        assert back[name].equals(expected[name]), name
    with client.open_store("flights") as store:
        assert store.row_count("data") == 336_776
