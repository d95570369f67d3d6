"""The readers' own behaviour: batches, names, widening, messages, the --type check,
the JSON guards, and winding pyarrow down when a stream is dropped early."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mdm_plugin_files.columns import unique_names
from mdm_plugin_files.csv_dialect import sniff_csv
from mdm_plugin_files.csv_reader import CsvReader
from mdm_plugin_files.json_guard import MAX_JSON_DEPTH
from mdm_plugin_files.json_reader import JsonReader
from mdm_plugin_files.parquet_reader import ParquetReader

from mdm_core.errors import DatasetError


def test_unique_names_keep_spelling_fill_blanks_and_number_repeats():
    assert unique_names(["a", "A", " ", "a", "a_2", ""]) == ["a", "A_2", "column_3", "a_3", "a_2_2", "column_6"]


@pytest.mark.parametrize(
    ("content", "encoding", "delimiter"),
    [
        (b"a;b\n1;2\n", "utf-8", ";"),
        (b"a|b\n1|2\n", "utf-8", "|"),
        (b"a\tb\n1\t2\n", "utf-8", "\t"),
        ("\ufeffa,b\n1,2\n".encode(), "utf-8", ","),
        ("name,v\ncafé,1\n".encode("cp1252"), "cp1252", ","),
        (b"name,v\nx\x81y,1\n", "latin-1", ","),
    ],
)
def test_dialect_is_sniffed(tmp_path, content, encoding, delimiter):
    path = tmp_path / "d.csv"
    path.write_bytes(content)
    dialect = sniff_csv(path)
    assert (dialect.encoding, dialect.delimiter) == (encoding, delimiter)
    assert dialect.column_names[0] in {"a", "name"}


def test_tsv_name_means_tab_whatever_the_sample(tmp_path):
    path = tmp_path / "d.tsv"
    path.write_text("a,b\tc\n1,2\t3\n")
    assert sniff_csv(path).delimiter == "\t"


@pytest.mark.parametrize("batch_size", [1, 7, 1000])
def test_batches_never_exceed_batch_size_and_cover_the_file(tmp_path, batch_size):
    path = tmp_path / "b.csv"
    path.write_text("id,v\n" + "".join(f"{i},{i * 2}\n" for i in range(50)))
    stream = CsvReader(path, batch_size, {}).open()
    sizes = [b.num_rows for b in stream]
    assert sum(sizes) == 50 and max(sizes) <= batch_size


def test_late_values_widen_int_to_float_then_text(tmp_path, ingest):
    rows = "".join(f"{i},{i}\n" for i in range(200_000))  # past the first 1 MiB block
    path = tmp_path / "late.csv"
    path.write_text(f"id,v\n{rows}200000,1.5\n200001,word\n")
    reader = CsvReader(path, 1, {})
    widened, table = ingest(reader)
    assert widened == [True, True] and reader.overrides == {"v": pa.string()}
    assert table.schema.field("v").type == pa.string() and table.num_rows == 200_002
    assert table.column("v")[-1].as_py() == "word"


def test_a_parse_error_is_a_sentence_not_a_widening(tmp_path, ingest):
    path = tmp_path / "r.csv"
    path.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(DatasetError, match=r"^r\.csv: ragged rows are not supported: .*Expected 2 columns, got 3"):
        ingest(CsvReader(path, 100, {}))


def test_error_for_names_column_row_value_and_the_override_to_drop(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("a,b\n1,2\n")
    reader = CsvReader(path, 100, {"b": "categorical"})
    error = pa.ArrowInvalid("In CSV column #1: Row #9: CSV conversion error to int64: invalid value 'x'")
    assert str(reader.error_for(error)) == (
        "e.csv: column 'b' holds 'x' (row 9), which cannot be read as int64; "
        "drop the --type b=categorical override or fix the value."
    )
    other = pa.ArrowInvalid("In CSV column #0: CSV conversion error to int64: invalid value 'y'")
    assert str(reader.error_for(other)) == "e.csv: column 'a' holds 'y', which cannot be read as int64."
    assert str(reader.error_for(pa.ArrowInvalid("something\nelse"))) == "e.csv: something"
    assert reader.widen_for(pa.ArrowInvalid("not a conversion error")) is False


def test_numeric_override_checks_every_batch_and_names_the_first_bad_row(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("id,amount\n" + "".join(f"{i},{i}\n" for i in range(100)) + "100,ten\n101,x\n")
    reader = CsvReader(path, 30, {"amount": "numeric"})
    reader.overrides["amount"] = pa.string()
    with pytest.raises(DatasetError) as error:
        reader.open().read_all()
    assert str(error.value) == (
        "n.csv: column 'amount' holds 'ten' (row 101), which is not a number; "
        "drop the --type amount=numeric override or fix the value."
    )


def test_csv_column_names_come_from_the_header_without_reading(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("x,x,\n1,2,3\n")
    reader = CsvReader(path, 10, {})
    path.write_text("garbage")  # the header was read once, at construction
    assert reader.column_names() == ["x", "x_2", "column_3"]


@pytest.mark.parametrize("wrap", ["gzip", "zip"])
def test_compressed_csv_reads_like_plain(tmp_path, wrap):
    content = b"a,b\n1,x\n2,y\n"
    path = tmp_path / f"c.csv.{'gz' if wrap == 'gzip' else 'zip'}"
    if wrap == "gzip":
        path.write_bytes(gzip.compress(content))
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("c.csv", content)
    assert CsvReader(path, 10, {}).open().read_all().to_pydict() == {"a": [1, 2], "b": ["x", "y"]}


def test_truncated_gzip_is_one_sentence(tmp_path, ingest):
    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(200_000)))[:5000])
    with pytest.raises(DatasetError, match=r"^t\.csv\.gz is truncated: its gzip data ends early"):
        ingest(CsvReader(path, 1000, {}))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("e.csv", b"", "e.csv is empty."),
        ("b.csv", b"\x00\x01" * 50, "b.csv is not a text file (it contains binary data); expected CSV, Parquet or JSON."),
        ("s.xlsx", b"PK\x03\x04", "s.xlsx is a spreadsheet; export it as CSV (or Parquet) and register that file."),
    ],
)
def test_csv_refusals(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DatasetError) as error:
        CsvReader(path, 10, {})
    assert str(error.value) == message


def test_parquet_names_are_normalised_and_nested_values_are_json_text(tmp_path):
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"a": [1, 2], "A": [3, 4], "n": [[1], None], "s": [{"k": "é"}, {"k": None}]}), path)
    reader = ParquetReader(path, 1, {})
    assert reader.column_names() == ["a", "A_2", "n", "s"]
    table = reader.open().read_all()
    assert table.column("n").to_pylist() == ["[1]", None]
    assert table.column("s").to_pylist() == ['{"k": "é"}', '{"k": null}']
    assert [b.num_rows for b in reader.open()] == [1, 1]


def test_corrupt_parquet_is_one_sentence(tmp_path):
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"a": list(range(1000))}), path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DatasetError, match=r"^c\.parquet is not a readable Parquet file: it is truncated, corrupt or not Parquet \("):
        ParquetReader(path, 10, {}).open()


def test_json_lines_stream_with_names_from_the_first_block(tmp_path):
    path = tmp_path / "l.jsonl"
    path.write_text("".join(json.dumps({"a": i, "b": {"c": [i]}, "e": None}) + "\n" for i in range(25)))
    reader = JsonReader(path, 10, {})
    assert reader.layout == "jsonl" and reader.column_names() == ["a", "b", "e"]
    batches = list(reader.open())
    assert [b.num_rows for b in batches] == [10, 10, 5]
    assert batches[0].schema.field("e").type == pa.string()
    assert batches[0].column("b")[3].as_py() == '{"c": [3]}'


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"a": 1}\n{"a": 2}\nnull\n', "g.jsonl: line 3 holds null; expected JSON Lines of objects (one object per line)."),
        ('{"a": 1}\n  7\n', "g.jsonl: line 2 holds a number; expected JSON Lines of objects (one object per line)."),
        ('{"a": 1}\n{"a": ' + "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1) + "}\n",
         f"g.jsonl: line 2 nests objects or arrays more than {MAX_JSON_DEPTH} levels deep, which MDM does not read."),
    ],
)
def test_json_lines_guard_stops_before_pyarrow_sees_a_bad_line(tmp_path, content, message):
    path = tmp_path / "g.jsonl"
    path.write_text(content)
    with pytest.raises(DatasetError) as error:
        JsonReader(path, 10, {}).open().read_all()
    assert str(error.value) == message


def test_json_lines_type_change_is_one_sentence(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"a": 1}\n' * 3 + '{"a": "x"}\n')
    with pytest.raises(DatasetError, match=r"^t\.jsonl is not valid JSON Lines: "):
        JsonReader(path, 10, {}).open().read_all()


def test_json_array_of_objects_with_mixed_nested_shapes(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps([{"a": 1, "b": [1, 2]}, {"a": 2, "b": {"x": 1}}, {"a": None, "b": None}]))
    reader = JsonReader(path, 2, {})
    assert reader.layout == "json"
    assert [b.num_rows for b in reader.open()] == [2, 1]
    assert reader.open().read_all().to_pydict() == {"a": [1, 2, None], "b": ["[1, 2]", '{"x": 1}', None]}


def test_json_array_keys_that_first_appear_in_later_objects_are_kept(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps([{"a": 1}, {"a": 2, "b": "x"}, {"c": 3.5}]))
    table = JsonReader(path, 10, {}).open().read_all()
    assert table.to_pydict() == {"a": [1, 2, None], "b": [None, "x", None], "c": [None, None, 3.5]}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1,2]", "a.json: expected a JSON array of objects (one object per row), item 1 is a number."),
        ('[{"a": 1}, null]', "a.json: expected a JSON array of objects (one object per row), item 2 is null."),
        ("[]", "a.json holds an empty JSON array; there is nothing to register."),
        ('[{"a": 1}, {"a": "x"}]', "a.json: key 'a' mixes number and string values ("),
    ],
)
def test_json_array_refusals(tmp_path, content, message):
    path = tmp_path / "a.json"
    path.write_text(content)
    with pytest.raises(DatasetError) as error:
        JsonReader(path, 10, {}).open()
    assert str(error.value).startswith(message)


def test_a_stream_dropped_early_exits_cleanly(tmp_path):
    """pyarrow's read-ahead must be wound down, or the interpreter aborts at exit."""
    path = tmp_path / "big.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i}\n" for i in range(300_000)))
    code = (
        "import sys\nfrom pathlib import Path\nfrom mdm_plugin_files.csv_reader import CsvReader\n"
        f"stream = CsvReader(Path({str(path)!r}), 1000, {{}}).open()\n"
        "next(iter(stream))\nstream.close()\nprint('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
