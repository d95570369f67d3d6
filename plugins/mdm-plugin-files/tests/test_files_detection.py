"""Which format claims a file, and the checks that settle what a claimed file holds."""

from __future__ import annotations

import gzip

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mdm_plugin_files.detection import (
    BY_CONTENT,
    BY_NAME,
    FALLBACK,
    claim_csv,
    claim_json,
    claim_parquet,
    data_name,
    json_layout,
)

from mdm_core.errors import DatasetError

CLAIMS = {
    # name: (content, parquet, json, csv)
    "t.parquet": (b"junk", BY_NAME, 0.0, FALLBACK),
    "t.PQ": (b"junk", BY_NAME, 0.0, FALLBACK),
    "t.csv": (b"a\n1\n", 0.0, 0.0, BY_NAME),
    "t.tsv.gz": (b"a\n1\n", 0.0, 0.0, BY_NAME),
    "t.txt.zip": (b"a\n1\n", 0.0, 0.0, BY_NAME),
    "t.json": (b"{}", 0.0, BY_NAME, FALLBACK),
    "t.jsonl.gz": (b"{}", 0.0, BY_NAME, FALLBACK),
    "t.NDJSON": (b"{}", 0.0, BY_NAME, FALLBACK),
    "t.xlsx": (b"PK\x03\x04", 0.0, 0.0, FALLBACK),
    "t.dat": (b"a\n1\n", 0.0, 0.0, FALLBACK),
    "noname": (b"a\n1\n", 0.0, 0.0, FALLBACK),
    "t.parquet.gz": (b"junk", 0.0, 0.0, FALLBACK),
}


@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_claims_by_name(tmp_path, name):
    content, parquet, json_, csv = CLAIMS[name]
    path = tmp_path / name
    path.write_bytes(content)
    assert (claim_parquet(path), claim_json(path), claim_csv(path)) == (parquet, json_, csv)


@pytest.mark.parametrize("name", ["hidden.json", "hidden.csv", "hidden.xlsx", "hidden"])
def test_parquet_content_outranks_every_name(tmp_path, name):
    path = tmp_path / name
    pq.write_table(pa.table({"a": [1]}), path)
    assert claim_parquet(path) == BY_CONTENT > max(claim_json(path), claim_csv(path))


def test_claims_never_raise_on_a_file_they_cannot_open(tmp_path):
    folder = tmp_path / "folder.parquet"  # opening a folder fails for root too
    folder.mkdir()
    assert (claim_parquet(folder), claim_json(folder), claim_csv(folder)) == (BY_NAME, 0.0, FALLBACK)


def test_data_name_drops_gz_then_zip():
    from pathlib import Path

    assert data_name(Path("A.CSV.GZ")) == "a.csv"
    assert data_name(Path("a.csv.zip.gz")) == "a.csv"
    assert data_name(Path("a.gz.zip")) == "a.gz"


LAYOUTS = {
    "a.json": (b'[{"a": 1}]', "json"),
    "l.json": (b'  {"a": 1}\n', "jsonl"),
    "l.jsonl": (b'\xef\xbb\xbf{"a": 1}\n', "jsonl"),
    "arr.jsonl": (b'[{"a": 1}]', "l.jsonl: expected JSON Lines of objects (one object per line), found an array."),
    "null.json": (b"null\n", "null.json: expected a JSON array of objects or JSON Lines of objects, found null."),
    "n.json": (b"-1", "n.json: expected a JSON array of objects or JSON Lines of objects, found a number."),
    "s.ndjson": (b'"x"', "s.ndjson: expected JSON Lines of objects (one object per line), found a string."),
    "w.json": (b"hello", "w.json: expected a JSON array of objects or JSON Lines of objects, found text that is not JSON."),
    "e.json": (b" \n\t", "e.json is empty."),
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_json_layout_from_the_first_significant_byte(tmp_path, name):
    content, expected = LAYOUTS[name]
    path = tmp_path / name
    path.write_bytes(content)
    if expected in ("json", "jsonl"):
        assert json_layout(path) == expected
    else:
        with pytest.raises(DatasetError) as error:
            json_layout(path)
        assert str(error.value) == expected.replace("l.jsonl", name)


def test_json_layout_reads_through_gzip(tmp_path):
    path = tmp_path / "g.json.gz"
    path.write_bytes(gzip.compress(b'[{"a": 1}]'))
    assert json_layout(path) == "json"
