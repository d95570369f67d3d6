"""``mdm dataset export`` / ``client.export_dataset`` and ``mdm dataset query`` /
``client.query`` on every backend, with the penguins example and 20,000 NYC flights."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq
import pytest

from mdm_core.datasets import export as export_module
from mdm_core.errors import MDMError

FLIGHT_ROWS = 20_000
PLACEHOLDER = {"sqlite": "?", "duckdb": "?", "postgresql": "$1"}



def _read_back(path: Path, fmt: str, schema: pa.Schema) -> pa.Table:
    """The exported file read with pyarrow's own readers, typed as the stored table."""
    if fmt == "parquet":
        return pq.read_table(path)
    if fmt == "csv":
        return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            column_types=schema, strings_can_be_null=True, quoted_strings_can_be_null=False))
    if fmt == "jsonl":
        return pajson.read_json(path, parse_options=pajson.ParseOptions(explicit_schema=schema))
    opener = gzip.open if path.suffix == ".gz" else open
    if path.suffix == ".zst":
        with pa.CompressedInputStream(pa.OSFile(str(path)), "zstd") as stream:
            records = json.loads(stream.read())
    else:
        with opener(path, "rt", encoding="utf-8") as handle:
            records = json.load(handle)
    return pa.Table.from_pylist(records, schema=schema)


def _assert_equal(got: pa.Table, expected: pa.Table) -> None:
    assert got.column_names == expected.column_names
    assert got.num_rows == expected.num_rows
    for name in expected.column_names:
        assert got[name].combine_chunks().equals(expected[name].combine_chunks()), name


COMBINATIONS = [
    ("csv", "none"), ("csv", "gzip"), ("csv", "zstd"),
    ("parquet", "none"), ("parquet", "snappy"), ("parquet", "zstd"), ("parquet", "gzip"),
    ("json", "none"), ("json", "gzip"), ("json", "zstd"),
    ("jsonl", "none"), ("jsonl", "gzip"), ("jsonl", "zstd"),
]


def test_every_format_and_compression_reads_back_equal(any_backend, client, penguins, tmp_path):
    client.register_dataset("penguins", penguins)
    tables = ["train", "test", "sample_submission", "train_features", "test_features"]
    assert [t.name for t in client.get_dataset_info("penguins").tables] == tables
    for fmt, compression in COMBINATIONS:
        out = tmp_path / f"{fmt}-{compression}"
        files = client.export_dataset("penguins", out, format=fmt, compression=compression)
        suffix = {"gzip": ".gz", "zstd": ".zst"}.get(compression, "") if fmt != "parquet" else ""
        assert files == [out / f"penguins_{t}.{fmt}{suffix}" for t in tables]
        assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in files)  # no temp file left
        for table, path in zip(tables, files, strict=True):
            expected = client.load_arrow("penguins", table=table)
            _assert_equal(_read_back(path, fmt, expected.schema), expected)
        if fmt == "parquet" and compression != "none":
            codec = pq.ParquetFile(files[0]).metadata.row_group(0).column(0).compression
            assert codec.lower() == compression


def test_table_columns_and_no_features(client, home, penguins, tmp_path):
    client.register_dataset("penguins", penguins)
    files = client.export_dataset("penguins", tmp_path / "nf", include_features=False, format="parquet")
    assert [p.name for p in files] == ["penguins_train.parquet", "penguins_test.parquet",
                                       "penguins_sample_submission.parquet"]
    [only] = client.export_dataset("penguins", tmp_path / "one" / "deep", table="test", format="jsonl",
                                   columns=["island", "id"])
    assert only.name == "penguins_test.jsonl"
    first = json.loads(only.read_text().splitlines()[0])
    assert list(first) == ["island", "id"]
    # each table gets the listed columns it has: test has no species, train does
    files = client.export_dataset("penguins", tmp_path / "cols", columns=["id", "species"], include_features=False)
    assert pacsv.read_csv(files[0]).column_names == ["id", "species"]
    assert pacsv.read_csv(files[1]).column_names == ["id"]
    with pytest.raises(MDMError, match="has no column 'nope'"):
        client.export_dataset("penguins", tmp_path / "bad", columns=["nope"])
    with pytest.raises(MDMError, match="has no table 'nope'"):
        client.export_dataset("penguins", tmp_path / "bad", table="nope")
    with pytest.raises(MDMError, match="either --table or --all-tables"):
        client.export_dataset("penguins", tmp_path / "bad", table="train", all_tables=True)
    for fmt, compression, message in [
        ("csv", "snappy", r"csv files compress with gzip, zstd or none, not 'snappy' \(snappy compresses Parquet"),
        ("parquet", "lz4", "Parquet files compress with snappy, zstd, gzip or none"),
        ("xlsx", None, "Unknown export format 'xlsx'"),
    ]:
        with pytest.raises(MDMError, match=message):
            client.export_dataset("penguins", tmp_path / "bad", format=fmt, compression=compression)
    assert not (tmp_path / "bad").exists()
    (tmp_path / "a file").write_text("")
    with pytest.raises(MDMError, match="Cannot create the output folder .*a file"):
        client.export_dataset("penguins", tmp_path / "a file")


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json", "jsonl"])
def test_a_failure_mid_stream_leaves_no_file(home, flights_20k, tmp_path, monkeypatch, fmt):
    from mdm_core.datasets.client import MDMClient

    monkeypatch.setenv("MDM_PERFORMANCE_BATCH_SIZE", "1000")
    client = MDMClient()
    client.register_dataset("flights", flights_20k, generate_features=False)
    out = tmp_path / "out"
    out.mkdir()
    (out / f"flights_data.{fmt}").write_text("an earlier export\n")  # kept unless an export succeeds
    calls = {"n": 0}
    original = export_module.pa.RecordBatchReader

    class Failing:
        """A reader that fails after three batches (what a lost server connection does)."""

        def __init__(self, reader):
            self.reader, self.schema = reader, reader.schema

        def __iter__(self):
            for batch in self.reader:
                calls["n"] += 1
                if calls["n"] > 3:
                    raise KeyboardInterrupt  # Ctrl-C: the harshest case
                yield batch

    real_export = export_module.write_file

    def wrapped(reader, target, fmt_, codec):
        assert isinstance(reader, original)
        return real_export(Failing(reader), target, fmt_, codec)

    monkeypatch.setattr(export_module, "write_file", wrapped)
    with pytest.raises(KeyboardInterrupt):
        client.export_dataset("flights", out, format=fmt, compression="none")
    assert calls["n"] == 4
    assert sorted(p.name for p in out.iterdir()) == [f"flights_data.{fmt}"]
    assert (out / f"flights_data.{fmt}").read_text() == "an earlier export\n"


def test_a_writer_failing_leaves_no_file(client, home, penguins, tmp_path, monkeypatch):
    client.register_dataset("penguins", penguins, generate_features=False)

    def broken(reader, sink):
        sink.write(b"half a file")
        raise OSError("No space left on device")

    monkeypatch.setitem(export_module._WRITERS, "jsonl", broken)
    with pytest.raises(MDMError, match=r"Cannot write .*penguins_train.jsonl: No space left on device"):
        client.export_dataset("penguins", tmp_path / "out", format="jsonl")
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json", "jsonl"])
def test_an_exported_file_registers_back_into_an_identical_dataset(any_backend, client, flights_20k, tmp_path, fmt):
    client.register_dataset("flights", flights_20k, target="arr_delay", generate_features=False)
    [path] = client.export_dataset("flights", tmp_path / "out", format=fmt)
    client.register_dataset("flights_again", path, target="arr_delay", generate_features=False)
    original, again = client.get_dataset_info("flights"), client.get_dataset_info("flights_again")
    assert again.table("data").row_count == original.table("data").row_count == FLIGHT_ROWS
    assert again.problem_type == original.problem_type
    with client.open_store("flights") as a, client.open_store("flights_again") as b:
        schema = a.table_schema("data")
        if fmt == "parquet":
            # Parquet has no seconds unit: time_hour (timestamp[s]) comes back in milliseconds,
            # same instants; everything else is identical
            assert b.table_schema("data") == schema.set(
                schema.get_field_index("time_hour"), pa.field("time_hour", pa.timestamp("ms", tz="UTC")))
            back = b.read_table("data").read_all().cast(schema)
            assert back.equals(a.read_table("data").read_all())
            return
        assert again.table("data").columns == original.table("data").columns
        assert b.table_schema("data") == schema
        assert a.checksum("data") == b.checksum("data")


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json", "jsonl"])
def test_penguins_register_back_identical(any_backend, client, penguins, tmp_path, fmt):
    client.register_dataset("penguins", penguins, generate_features=False)
    files = client.export_dataset("penguins", tmp_path / "folder", format=fmt, include_features=False)
    for path in files:
        path.rename(path.with_name(path.name.removeprefix("penguins_")))  # a Kaggle-style folder again
    client.register_dataset("penguins_again", tmp_path / "folder", generate_features=False)
    original, again = client.get_dataset_info("penguins"), client.get_dataset_info("penguins_again")
    assert (again.target_column, again.id_columns) == (original.target_column, original.id_columns)
    for table in ("train", "test", "sample_submission"):
        assert again.table(table).columns == original.table(table).columns, table
        with client.open_store("penguins") as a, client.open_store("penguins_again") as b:
            assert a.row_count(table) == b.row_count(table)
            assert a.checksum(table) == b.checksum(table), table
        _assert_equal(client.load_arrow("penguins_again", table), client.load_arrow("penguins", table))


def test_query_returns_pandas_or_arrow(any_backend, client, penguins):
    client.register_dataset("penguins", penguins, generate_features=False)
    sql = f'SELECT species, count(*) AS n FROM "train" WHERE island = {PLACEHOLDER[any_backend.name]} ' \
          'GROUP BY species ORDER BY species'
    frame = client.query("penguins", sql, params=["Biscoe"])
    expected = pd.read_csv(penguins / "train.csv").query("island == 'Biscoe'").groupby("species").size()
    assert isinstance(frame, pd.DataFrame)
    assert frame["species"].tolist() == expected.index.tolist()
    assert frame["n"].tolist() == expected.tolist()
    table = client.query("penguins", sql, params=["Biscoe"], as_arrow=True)
    assert isinstance(table, pa.Table)
    assert table.column("species").to_pylist() == expected.index.tolist()
    with pytest.raises(MDMError, match="nosuch"):
        client.query("penguins", 'SELECT * FROM "nosuch"')


def test_cli_export_json_field_by_field(any_backend, run_mdm, client, penguins, tmp_path):
    client.register_dataset("penguins", penguins)
    out = tmp_path / "out"
    done = run_mdm("dataset", "export", "penguins", "--format", "parquet", "-o", str(out), "--output-format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["dataset"] == "penguins"
    assert report["format"] == "parquet"
    assert report["compression"] == "snappy"
    assert report["skipped"] == []
    rows = {"train": 272, "test": 72, "sample_submission": 72, "train_features": 272, "test_features": 72}
    assert [f["table"] for f in report["files"]] == list(rows)
    for entry in report["files"]:
        path = Path(entry["path"])
        assert path == out / f"penguins_{entry['table']}.parquet"
        assert entry["rows"] == rows[entry["table"]] == pq.ParquetFile(path).metadata.num_rows
        assert entry["bytes"] == path.stat().st_size
    text = run_mdm("dataset", "export", "penguins", "--table", "test", "--format", "csv", "--compression", "gzip",
                   "-o", str(out))
    assert text.returncode == 0, text.stderr
    assert text.stdout == f"Exported test (72 rows) to {out / 'penguins_test.csv.gz'}\n"
    bad = run_mdm("dataset", "export", "penguins", "--format", "json", "--compression", "snappy", "-o", str(out))
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.strip().splitlines() == [
        "Error: json files compress with gzip, zstd or none, not 'snappy' (snappy compresses Parquet files only)."]


def test_cli_query_table_json_csv_and_errors(any_backend, run_mdm, client, penguins):
    client.register_dataset("penguins", penguins, generate_features=False)
    sql = 'SELECT "id", "species", "bill_length_mm" FROM "train" ORDER BY "id"'
    expected = client.query("penguins", sql)
    done = run_mdm("dataset", "query", "penguins", sql, "--format", "json")
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    assert len(records) == len(expected) == 272
    for record, (_, row) in zip(records, expected.iterrows(), strict=True):
        assert list(record) == ["id", "species", "bill_length_mm"]
        assert record["id"] == row["id"]
        assert record["species"] == row["species"]
        if pd.isna(row["bill_length_mm"]):
            assert record["bill_length_mm"] is None
        else:
            assert record["bill_length_mm"] == row["bill_length_mm"]
    csv = run_mdm("dataset", "query", "penguins", sql, "--format", "csv")
    assert csv.returncode == 0, csv.stderr
    back = pacsv.read_csv(pa.py_buffer(csv.stdout.encode()))
    assert back.column_names == ["id", "species", "bill_length_mm"] and back.num_rows == 272
    assert back["id"].to_pylist() == expected["id"].tolist()
    table = run_mdm("dataset", "query", "penguins", sql, env={"COLUMNS": "200"})
    assert table.returncode == 0, table.stderr
    assert table.stdout.rstrip().splitlines()[-1] == \
        "... 222 more row(s) not shown (272 in all; --format csv or json prints all)."
    assert sum(1 for line in table.stdout.splitlines() if line.startswith("│")) == 1 + 50 - 1  # header, 50 rows
    failed = run_mdm("dataset", "query", "penguins", 'SELECT * FROM "nosuch"')
    assert failed.returncode == 1 and failed.stdout == ""
    [line] = failed.stderr.strip().splitlines()
    assert line.startswith("Error: The SQL names table 'nosuch', which this dataset does not have")


def test_a_1x_dataset_exports_read_only_and_refuses_sql(legacy_fixture, monkeypatch, tmp_path, run_mdm):
    for key in list(os.environ):
        if key.startswith("MDM_") and key not in {"MDM_TEST_POSTGRES_DSN", "MDM_STRICT_PLUGINS"}:
            monkeypatch.delenv(key)
    monkeypatch.setenv("MDM_HOME_DIR", str(legacy_fixture / "home"))
    from mdm_core.datasets.client import MDMClient

    client = MDMClient()
    result = client.export_dataset_result("weather", tmp_path / "out", format="parquet")
    assert [f.table for f in result.files] == ["data"]
    assert [(s.table, s.reason) for s in result.skipped] == [
        ("data_features", "incomplete feature table (1.x), not exported")]
    assert pq.read_table(result.files[0].path).num_rows == 26115
    files = client.export_dataset("penguins", tmp_path / "p", format="jsonl", include_features=False)
    expected = client.load_arrow("penguins", "train")
    _assert_equal(_read_back(files[0], "jsonl", expected.schema), expected)
    done = run_mdm("dataset", "export", "weather", "-o", str(tmp_path / "cli"), "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Skipped data_features: incomplete feature table (1.x), not exported.",
        f"Exported data (26,115 rows) to {tmp_path / 'cli' / 'weather_data.csv'}",
    ]
    with pytest.raises(MDMError, match="read-only until migrated"):
        client.query("penguins", "SELECT 1")
    refused = run_mdm("dataset", "query", "penguins", "SELECT 1")
    assert refused.returncode == 1
    assert refused.stderr.strip() == ("Error: Dataset 'penguins' is an MDM 1.x dataset, read-only until migrated "
                                      "(mdm-migrate plan shows how); SQL runs on migrated datasets.")


# -- property: any small table survives register -> export Parquet -> register, every backend --
_ARROW_TYPES = {
    "int": pa.int64(),
    "float": pa.float64(),
    "text": pa.string(),
    "flag": pa.bool_(),
}


def _tables():
    from hypothesis import strategies as st

    values = {
        "int": st.integers(-(2**62), 2**62),
        "float": st.floats(allow_nan=False, allow_infinity=False, width=64),
        "text": st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),
        "flag": st.booleans(),
    }

    @st.composite
    def table(draw):
        kinds = draw(st.lists(st.sampled_from(list(values)), min_size=1, max_size=4))
        rows = draw(st.integers(1, 30))
        columns = {}
        for i, kind in enumerate(kinds):
            column = draw(st.lists(st.none() | values[kind], min_size=rows, max_size=rows))
            if all(v is None for v in column):
                column[0] = draw(values[kind])
            columns[f"c{i}_{kind}"] = pa.array(column, _ARROW_TYPES[kind])
        return pa.table(columns)

    return table()


def test_property_register_export_parquet_register_is_identical(any_backend, tmp_path):
    from hypothesis import HealthCheck, given, settings

    from mdm_core.datasets.client import MDMClient

    counter = iter(range(10**6))

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(_tables())
    def check(table: pa.Table) -> None:
        case = next(counter)
        where = tmp_path / f"case{case}"
        where.mkdir()
        client = MDMClient(where / "home")
        source, again = f"source_{case}", f"again_{case}"  # unique: PostgreSQL schemas share one database
        pq.write_table(table, where / "source.parquet")
        client.register_dataset(source, where / "source.parquet", backend=any_backend.name, generate_features=False)
        [path] = client.export_dataset(source, where / "out", format="parquet")
        client.register_dataset(again, path, backend=any_backend.name, generate_features=False)
        first, second = client.get_dataset_info(source), client.get_dataset_info(again)
        assert second.table("data").columns == first.table("data").columns
        with client.open_store(source) as a, client.open_store(again) as b:
            assert a.table_schema("data") == b.table_schema("data")
            assert a.checksum("data") == b.checksum("data")
        _assert_equal(client.load_arrow(again), client.load_arrow(source))

    check()
    assert next(counter) >= 10  # examples really ran
