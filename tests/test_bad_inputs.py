"""Bad input files: one sentence naming the file (and column), exit 1, nothing left behind.

Every case runs the real ``mdm`` in a subprocess: some of these inputs used to crash the
process (pyarrow's JSON reader segfaults on a ``null`` line), which would kill pytest.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mdm_core.errors import MAX_SENTENCE_CHARS
from mdm_core.testing.distributions import install_distribution
from mdm_core.testing.privileges import without_root_powers

MAX_ERROR = 400


def _assert_clean_failure(result: subprocess.CompletedProcess, home: Path, run_mdm, *fragments: str) -> str:
    """Exit 1 (not a signal), one line ``Error: ...`` holding ``fragments``, no dataset,
    no staging work left in the home."""
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    message = result.stderr.strip()
    assert message.startswith("Error: ") and "\n" not in message, message
    assert len(message) <= MAX_ERROR, message
    assert "unexpected" not in message and "Traceback" not in message, message
    for fragment in fragments:
        assert fragment in message, message
    assert json.loads(run_mdm("dataset", "list", "--format", "json").stdout) == []
    staging = home / "datasets" / ".staging"
    assert not staging.exists() or not any(staging.iterdir()), list(staging.iterdir())
    return message


# -- JSON that is not objects ------------------------------------------------------------

JSON_CASES = {
    "null.json": (b"null\n", "null.json: expected a JSON array of objects or JSON Lines of objects, found null."),
    "bom-null.json": (b"\xef\xbb\xbf null", "expected a JSON array of objects or JSON Lines of objects, found null."),
    "string.json": (b'"x"', "string.json: expected a JSON array of objects or JSON Lines of objects, found a string."),
    "number.json": (b"1", "found a number."),
    "true.json": (b"true", "found true."),
    "not-json.json": (b"hello world", "found text that is not JSON."),
    "empty.json": (b"", "empty.json is empty."),
    "blank.json": (b"  \n\n ", "blank.json is empty."),
    "empty-array.json": (b"[]", "empty-array.json holds an empty JSON array"),
    "empty-object.json": (b"{}", "empty-object.json has no columns"),
    "numbers.json": (b"[1,2]", "numbers.json: expected a JSON array of objects (one object per row), item 1 is a number."),
    "arrays.json": (b"[[1]]", "item 1 is an array."),
    "null-item.json": (b'[{"a": 1}, null]', "item 2 is null."),
    "null-first.jsonl": (b'null\n{"a": 1}\n', "null-first.jsonl: expected JSON Lines of objects (one object per line), found null."),
    "null-line.jsonl": (b'{"a": 1}\n{"a": 2}\nnull\n{"a": 3}\n', "null-line.jsonl: line 3 holds null; expected JSON Lines of objects"),
    "null-line.json": (b'{"a": 1}\n  null\n', "null-line.json: line 2 holds null"),
    "string-line.jsonl": (b'{"a": 1}\n"x"\n', "line 2 holds a string"),
    "array-line.jsonl": (b'{"a": 1}\n\n[1]\n', "line 3 holds an array"),
    "array.jsonl": (b"[1]\n", "array.jsonl: expected JSON Lines of objects (one object per line), found an array."),
    "deep.jsonl": (b'{"a": ' * 100_000 + b"1" + b"}" * 100_000 + b"\n", "line 1 nests objects or arrays more than 64 levels deep"),
    "deep-array.jsonl": (b'{"a": 1}\n{"a": ' + b"[" * 70 + b"]" * 70 + b"}\n", "line 2 nests objects or arrays more than 64 levels deep"),
    "deep.json": (b'[{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}]", "deep.json nests objects or arrays too deeply"),
}


@pytest.mark.parametrize("name", sorted(JSON_CASES))
def test_json_that_is_not_objects_is_one_clear_error(run_mdm, home, tmp_path, name):
    content, expected = JSON_CASES[name]
    path = tmp_path / name
    path.write_bytes(content)
    result = run_mdm("dataset", "register", "j", str(path))
    _assert_clean_failure(result, home, run_mdm, expected)


def test_null_line_deep_inside_a_large_gzipped_json_lines_file(run_mdm, home, tmp_path):
    """The null sits in a later pyarrow block (blocks are 8 MB): the first rows were
    already written to the staging store, which is removed."""
    path = tmp_path / "big.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        for i in range(250_000):
            handle.write("null\n" if i == 200_000 else json.dumps({"a": i, "b": f"text {i}", "c": i / 7}) + "\n")
    result = run_mdm("dataset", "register", "big", str(path), "--no-features")
    _assert_clean_failure(result, home, run_mdm, "big.jsonl.gz: line 200001 holds null")


def test_json_that_is_fine_still_registers(run_mdm, tmp_path):
    cases = {
        "nested.json": b'[{"a": {"b": [1, {"c": null}]}, "n": 1}, {"a": null, "n": 2}]',
        "nested.jsonl": b'{"a": {"b": 1}, "n": 1}\n\n{"a": {"b": 2}, "n": 2}\n',
        "bom.json": b'\xef\xbb\xbf[{"a": 1}, {"a": 2}]',
        "concatenated.json": b'{"a": 1}{"a": 2}\n',
        "deep-ok.jsonl": b'{"a": ' + b"[" * 40 + b"1" + b"]" * 40 + b', "n": 1}\n',
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        result = run_mdm("dataset", "register", name.replace(".", "_").replace("-", "_"), str(tmp_path / name),
                         "--no-features", "--format", "json")
        assert result.returncode == 0, (name, result.stderr)
        assert json.loads(result.stdout)["tables"][0]["row_count"] in (1, 2)


# -- corrupt, truncated and unreadable files ---------------------------------------------


def _csv_bytes(rows: int = 50_000) -> bytes:
    return ("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(rows))).encode()


def _zip_bytes(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def _parquet_bytes() -> bytes:
    buffer = io.BytesIO()
    table = pa.table({"a": list(range(50_000)), "b": [f"value {i}" for i in range(50_000)]})
    pq.write_table(table, buffer, row_group_size=5_000, compression="snappy")
    return buffer.getvalue()


def _corrupt_middle(data: bytes, filler: bytes = b"\x07") -> bytes:
    middle = len(data) // 2
    return data[:middle] + filler * 400 + data[middle + 400:]


CORRUPT_CASES = {
    "truncated-head.csv.gz": (lambda: gzip.compress(_csv_bytes())[:20], "truncated-head.csv.gz is truncated"),
    "truncated.csv.gz": (lambda: gzip.compress(_csv_bytes())[:60_000], "truncated.csv.gz is truncated"),
    "truncated.jsonl.gz": (
        lambda: gzip.compress("".join(json.dumps({"a": i}) + "\n" for i in range(100_000)).encode())[:50_000],
        "truncated.jsonl.gz is truncated",
    ),
    "corrupt.csv.gz": (lambda: _corrupt_middle(gzip.compress(_csv_bytes()), b"\xff"), "corrupt.csv.gz is"),
    "truncated.csv.zip": (lambda: _zip_bytes("s.csv", _csv_bytes())[:5_000], "truncated.csv.zip is not a readable zip archive"),
    "bad-member.zip": (
        lambda: (lambda z: z[:30] + b"x" * 5 + z[35:])(_zip_bytes("s.csv", _csv_bytes())),
        "bad-member.zip is not a readable zip archive",
    ),
    "truncated.parquet": (lambda: _parquet_bytes()[:3_000], "truncated.parquet is not a readable Parquet file"),
    "corrupt.parquet": (lambda: _corrupt_middle(_parquet_bytes()), "corrupt.parquet is a corrupt Parquet file"),
    "garbage.csv": (lambda: bytes(range(256)) * 40, "garbage.csv is not a text file"),
    "garbage.parquet": (lambda: bytes(range(256)) * 40, "garbage.parquet is not a readable Parquet file"),
    "book.xlsx": (lambda: _zip_bytes("xl/workbook.xml", b"<x/>"), "book.xlsx is a spreadsheet; export it as CSV"),
}


@pytest.mark.parametrize("name", sorted(CORRUPT_CASES))
def test_corrupt_and_truncated_files_name_the_file(run_mdm, home, tmp_path, name):
    make, expected = CORRUPT_CASES[name]
    path = tmp_path / name
    path.write_bytes(make())
    result = run_mdm("dataset", "register", "c", str(path))
    _assert_clean_failure(result, home, run_mdm, expected)


def test_folder_without_data_files_says_what_it_holds(run_mdm, home, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "readme.md").write_text("hello")
    (folder / "images").mkdir()
    result = run_mdm("dataset", "register", "d", str(folder))
    _assert_clean_failure(result, home, run_mdm, "holds no CSV, TSV, Parquet or JSON files", "images/, readme.md")


def _as_other_user(run_mdm, home: Path):
    """Run ``mdm`` so that file modes apply to it (as root: without the capabilities that
    bypass them, :func:`mdm_core.testing.privileges.without_root_powers`)."""
    if os.geteuid() != 0:
        return run_mdm
    mdm = str(Path(sys.executable).with_name("mdm"))

    def run(*args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "HOME": str(home)}
        return subprocess.run(without_root_powers([mdm, *args]), capture_output=True, text=True, env=env,
                              timeout=300)

    return run


@pytest.mark.parametrize("name", ["test.csv", "test.parquet", "test.jsonl"])
def test_unreadable_file_in_a_folder(run_mdm, home, tmp_path, name):
    folder = tmp_path / "kaggle"
    folder.mkdir()
    (folder / "train.csv").write_text("id,y\n1,2\n2,3\n")
    (folder / name).write_bytes(b"id\n1\n" if name.endswith(".csv") else b"{}")
    (folder / name).chmod(0o000)
    run = _as_other_user(run_mdm, home)
    folder.chmod(0o755)
    (folder / "train.csv").chmod(0o644)
    result = run("dataset", "register", "k", str(folder))
    _assert_clean_failure(result, home, run_mdm, f"{name} cannot be read: permission denied")


# -- a value that contradicts --type -------------------------------------------------------


def test_type_numeric_on_text_names_file_column_value_and_fix(run_mdm, home, tmp_path):
    (tmp_path / "t.csv").write_text("a,b\n1,x\n2,w\n")
    result = run_mdm("dataset", "register", "t", str(tmp_path / "t.csv"), "--type", "b=numeric")
    message = _assert_clean_failure(result, home, run_mdm)
    assert message == (
        "Error: t.csv: column 'b' holds 'x' (row 1), which is not a number; "
        "drop the --type b=numeric override or fix the value."
    )


@pytest.mark.parametrize("backend", ["sqlite", "duckdb"])
def test_type_numeric_with_a_late_text_value(run_mdm, home, tmp_path, backend):
    """The column is numbers for 30,000 rows (typed int64 from the first block), then one
    word: the error names that value and its row, and nothing is left behind."""
    lines = ["id,amount"] + [f"{i},{i}" for i in range(30_000)] + ["30000,unknown"] + [f"{i},{i}" for i in range(30_001, 30_010)]
    (tmp_path / "late.csv").write_text("\n".join(lines) + "\n")
    result = run_mdm("dataset", "register", "late", str(tmp_path / "late.csv"), "--type", "amount=numeric",
                     "--backend", backend)
    _assert_clean_failure(
        result, home, run_mdm,
        "late.csv: column 'amount' holds 'unknown' (row 30001), which is not a number; "
        "drop the --type amount=numeric override",
    )


def test_type_numeric_on_json_text(run_mdm, home, tmp_path):
    (tmp_path / "t.jsonl").write_text('{"a": 1, "b": "1.5"}\n{"a": 2, "b": "n/a"}\n')
    result = run_mdm("dataset", "register", "t", str(tmp_path / "t.jsonl"), "--type", "b=numeric")
    _assert_clean_failure(result, home, run_mdm, "t.jsonl: column 'b' holds 'n/a' (row 2), which is not a number")
    (tmp_path / "ok.jsonl").write_text('{"a": 1, "b": "1.5"}\n{"a": 2, "b": "2"}\n')
    ok = run_mdm("dataset", "register", "ok", str(tmp_path / "ok.jsonl"), "--type", "b=numeric", "--format", "json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["tables"][0]["columns"][1]["type"] == "numeric"


# -- over-long messages ----------------------------------------------------------------------


def _plugin_raising(tmp_path: Path, raise_line: str) -> dict:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "mdm_longerror.py").write_text(
        "from mdm_core import hookimpl\n"
        "from mdm_core.errors import StorageError\n"
        "from mdm_core.hookspecs import Implementation\n"
        "STATEMENT = 'CREATE TABLE \"data\" (' + ', '.join(f'\"column_{i}\" TEXT' for i in range(8000)) + ')'\n"
        "def _factory(settings):\n"
        f"    {raise_line}\n"
        "@hookimpl\n"
        "def mdm_storage_backends():\n"
        "    return [Implementation(kind='storage', name='longerror', generation='new', factory=_factory)]\n"
    )
    install_distribution(site, "mdm-longerror", "mdm_longerror = mdm_longerror")
    return {"PYTHONPATH": str(site)}


@pytest.mark.parametrize(
    ("raise_line", "start", "end"),
    [
        (
            "raise StorageError('syntax error at or near \"(\" in statement:\\n' + STATEMENT)",
            "Error: syntax error at or near \"(\" in statement...",
            "(run with --debug for the full message)",
        ),
        (
            "raise StorageError('engine refused: ' + STATEMENT)",
            "Error: engine refused: CREATE TABLE \"data\" (\"column_0\" TEXT,",
            "... (run with --debug for the full message)",
        ),
        (
            "raise RuntimeError('driver failed: ' + STATEMENT)",
            "Error: unexpected RuntimeError: driver failed: CREATE TABLE",
            "... (run with --debug for the full message and the traceback).",
        ),
    ],
)
def test_overlong_errors_are_cut_to_one_readable_line(run_mdm, home, tmp_path, raise_line, start, end):
    (home / "mdm.yaml").write_text("logging:\n  file: mdm.log\n  format: json\n")
    (tmp_path / "d.csv").write_text("a\n1\n")
    env = _plugin_raising(tmp_path, raise_line)
    result = run_mdm("dataset", "register", "d", str(tmp_path / "d.csv"), "--backend", "longerror", env=env)
    assert result.returncode == 1
    message = result.stderr.strip()
    assert "\n" not in message and len(message) <= MAX_SENTENCE_CHARS + 60, message
    assert message.startswith(start) and message.endswith(end), message
    # the full message is in the log file, and --debug shows it with the traceback
    records = [json.loads(line) for line in (home / "logs" / "mdm.log").read_text().splitlines()]
    failed = [r for r in records if r["event"] == "command failed"]
    assert len(failed) == 1 and "column_7999" in failed[0]["error"]
    debug = run_mdm("--debug", "dataset", "register", "d", str(tmp_path / "d.csv"), "--backend", "longerror", env=env)
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "column_7999" in debug.stderr
