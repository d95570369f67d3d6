"""Registration: every input format, odd-but-valid files, bad input leaving nothing behind."""

from __future__ import annotations

import gzip
import json
import zipfile

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mdm_core.errors import DatasetError, MDMError


def _leftovers(home):
    """Everything under the datasets folder (staging included)."""
    root = home / "datasets"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def _register(client, name, path, **kw):
    kw.setdefault("generate_features", False)
    return client.register_dataset(name, path, **kw)


def test_single_csv_becomes_table_data(client, tmp_path):
    path = tmp_path / "iris.csv"
    path.write_text("sepal,petal,species\n1.5,0.2,setosa\n4.9,1.4,versicolor\n6.1,2.5,virginica\n")
    info = _register(client, "Iris-Data", path, target="species")
    assert info.name == "iris_data" and info.display_name == "Iris-Data"
    assert [t.name for t in info.tables] == ["data"]
    assert info.problem_type == "multiclass_classification"
    frame = client.load_dataset("iris-data")
    assert list(frame.columns) == ["sepal", "petal", "species"]
    assert frame["species"].tolist() == ["setosa", "versicolor", "virginica"]


def test_kaggle_folder_target_from_sample_submission(client, penguins):
    info = _register(client, "penguins", penguins)
    assert [t.name for t in info.tables] == ["train", "test", "sample_submission"]
    assert info.target_column == "species"
    assert info.id_columns == ["id"]
    assert info.problem_type == "multiclass_classification"
    train = pd.read_csv(penguins / "train.csv")
    assert info.table("train").row_count == len(train)
    loaded = client.load_dataset("penguins")
    pd.testing.assert_frame_equal(loaded, train, check_dtype=False)


@pytest.mark.parametrize(
    "files,tables",
    [
        (["training", "testing"], ["train", "test"]),
        (["train", "val"], ["train", "validation"]),
        (["train", "dev", "sample_submission"], ["train", "validation", "sample_submission"]),
    ],
)
def test_split_aliases(client, tmp_path, files, tables):
    folder = tmp_path / "kag"
    folder.mkdir()
    for stem in files:
        (folder / f"{stem}.csv").write_text("id,x,y\n1,2,0\n2,3,1\n")
    info = _register(client, "kag", folder, target="y")
    assert [t.name for t in info.tables] == tables


def test_other_folder_gives_one_table_per_file(client, tmp_path):
    folder = tmp_path / "multi"
    folder.mkdir()
    (folder / "users.csv").write_text("user_id,age\n1,30\n2,40\n")
    pq.write_table(pa.table({"order_id": [1, 2, 3], "amount": [1.5, 2.5, 3.5]}), folder / "orders.parquet")
    info = _register(client, "shop", folder)
    assert sorted(t.name for t in info.tables) == ["orders", "users"]
    assert client.load_dataset("shop", table="orders")["amount"].tolist() == [1.5, 2.5, 3.5]


def test_latin1_file_registers_exactly(client, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("name;city;score\nJosé;Zürich;1,5\nFrançoise;Köln;2\n".encode("latin-1"))
    _register(client, "latin", path)
    frame = client.load_dataset("latin")
    assert list(frame.columns) == ["name", "city", "score"]
    assert frame["name"].tolist() == ["José", "Françoise"]
    assert frame["city"].tolist() == ["Zürich", "Köln"]


def test_cp1252_specific_characters(client, tmp_path):
    path = tmp_path / "win.csv"
    path.write_bytes("label,price\n“quoted”,5\n€uro,6\n".encode("cp1252"))
    _register(client, "win", path)
    assert client.load_dataset("win")["label"].tolist() == ["“quoted”", "€uro"]


def test_utf8_bom_is_not_part_of_the_first_column(client, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffid,value\n1,ä\n".encode())
    _register(client, "bom", path)
    assert list(client.load_dataset("bom").columns) == ["id", "value"]


def test_odd_column_names_kept_exactly(client, tmp_path):
    names = ['Body Mass (g)', 'say "hi"', "it's", "select", "from", "naïve 🐧", "a;b", "Order"]
    frame = pd.DataFrame({n: [i, i + 1] for i, n in enumerate(names)})
    path = tmp_path / "odd.csv"
    frame.to_csv(path, index=False)
    info = _register(client, "odd", path)
    assert [c.name for c in info.table("data").columns] == names
    loaded = client.load_dataset("odd")
    assert list(loaded.columns) == names
    assert loaded.iloc[1].tolist() == [i + 1 for i in range(len(names))]


def test_empty_and_duplicate_header_cells_get_stable_names(client, tmp_path):
    path = tmp_path / "hdr.csv"
    path.write_text(",a,a,A\n1,2,3,4\n")
    info = _register(client, "hdr", path)
    assert [c.name for c in info.table("data").columns] == ["column_1", "a", "a_2", "A_3"]


@pytest.mark.parametrize("sep,suffix", [("\t", ".tsv"), ("|", ".csv"), (";", ".txt")])
def test_delimiters(client, tmp_path, sep, suffix):
    path = tmp_path / f"d{suffix}"
    path.write_text(sep.join(["a", "b c", "d"]) + "\n" + sep.join(["1", "x y", "2.5"]) + "\n")
    _register(client, "d", path)
    assert client.load_dataset("d").iloc[0].tolist() == [1, "x y", 2.5]


def test_gzip_and_zip_compressed_csv(client, tmp_path):
    body = "a,b\n1,x\n2,y\n"
    gz = tmp_path / "data.csv.gz"
    gz.write_bytes(gzip.compress(body.encode()))
    zp = tmp_path / "data.zip"
    with zipfile.ZipFile(zp, "w") as zf:
        zf.writestr("inner.csv", body)
    for name, path in (("gz", gz), ("zp", zp)):
        _register(client, name, path)
        assert client.load_dataset(name)["b"].tolist() == ["x", "y"]


def test_parquet_keeps_arrow_types(client, tmp_path):
    table = pa.table({
        "i8": pa.array([1, None], pa.int8()),
        "ts": pa.array([0, 10**9], pa.timestamp("ms", tz="Europe/Berlin")),
        "flag": [True, None],
        "d": pa.array([1, 2], pa.date32()),
    })
    pq.write_table(table, tmp_path / "t.parquet")
    info = _register(client, "pq", tmp_path / "t.parquet")
    assert client.load_arrow("pq").equals(table)
    kinds = info.table("data").column_types()
    assert kinds["ts"] == "datetime" and kinds["flag"] == "boolean" and kinds["d"] == "datetime"


def test_json_array_and_json_lines(client, tmp_path):
    rows = [{"id": 1, "tags": ["a", "b"], "score": 0.5}, {"id": 2, "tags": [], "score": None}]
    (tmp_path / "a.json").write_text(json.dumps(rows))
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    for name, file in (("ja", "a.json"), ("jl", "b.jsonl")):
        _register(client, name, tmp_path / file)
        frame = client.load_dataset(name)
        assert frame["id"].tolist() == [1, 2]
        assert frame["tags"].tolist() == ['["a", "b"]', "[]"]


def test_late_type_change_in_csv_widens_the_column(client, tmp_path):
    path = tmp_path / "late.csv"
    rows = [f"{i},{i}" for i in range(120_000)]
    rows.append("120000,not-a-number")
    path.write_text("id,value\n" + "\n".join(rows) + "\n")
    info = _register(client, "late", path)
    assert info.table("data").row_count == 120_001
    frame = client.load_dataset("late")
    assert frame["value"].iloc[-1] == "not-a-number"
    assert frame["value"].iloc[5] == "5"


def test_int_column_with_late_floats_becomes_float(client, tmp_path):
    path = tmp_path / "late.csv"
    path.write_text("x\n" + "\n".join(str(i) for i in range(120_000)) + "\n0.5\n")
    _register(client, "latef", path)
    frame = client.load_dataset("latef")
    assert frame["x"].dtype.kind == "f" and frame["x"].iloc[-1] == 0.5


def test_id_detection_ignores_humid_paid_valid(client, tmp_path):
    frame = pd.DataFrame({
        "humid": [50.1 + i for i in range(50)], "paid": list(range(50)), "valid": [i % 2 for i in range(50)],
        "user_id": list(range(50)), "PassengerId": list(range(100, 150)), "y": [i % 2 for i in range(50)],
    })
    frame.to_csv(tmp_path / "w.csv", index=False)
    info = _register(client, "w", tmp_path / "w.csv", target="y")
    assert info.id_columns == ["user_id", "PassengerId"]
    assert info.problem_type == "binary_classification"


def test_explicit_id_columns_and_type_overrides(client, tmp_path):
    pd.DataFrame({"code": ["a", "b"], "n": [1, 2], "note": ["x", "y"]}).to_csv(tmp_path / "o.csv", index=False)
    info = _register(client, "o", tmp_path / "o.csv", id_columns=["code"], column_types={"n": "categorical", "note": "text"})
    kinds = info.table("data").column_types()
    assert info.id_columns == ["code"]
    assert kinds == {"code": "id", "n": "categorical", "note": "text"}


@pytest.mark.parametrize("given,expected", [("classification", "multiclass_classification"), ("binary", "binary_classification"), ("regression", "regression")])
def test_problem_type_aliases(client, tmp_path, given, expected):
    pd.DataFrame({"x": [1, 2], "y": [0, 1]}).to_csv(tmp_path / "p.csv", index=False)
    assert _register(client, "p", tmp_path / "p.csv", target="y", problem_type=given).problem_type == expected


def test_regression_inferred_for_float_target(client, tmp_path):
    pd.DataFrame({"x": range(100), "y": [i * 0.37 for i in range(100)]}).to_csv(tmp_path / "r.csv", index=False)
    assert _register(client, "r", tmp_path / "r.csv", target="y").problem_type == "regression"


def test_duplicate_name_refused_then_replaced_with_force(client, tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "b.csv").write_text("x\n1\n2\n")
    _register(client, "dup", tmp_path / "a.csv")
    with pytest.raises(DatasetError, match="already exists; use --force"):
        _register(client, "DUP", tmp_path / "b.csv")
    assert client.load_dataset("dup")["x"].tolist() == [1]
    _register(client, "dup", tmp_path / "b.csv", force=True)
    assert client.load_dataset("dup")["x"].tolist() == [1, 2]
    assert _leftovers_clean(client)


def _leftovers_clean(client):
    root = client.settings.datasets_dir
    return not (root / ".staging").exists()


def test_failed_force_keeps_the_old_dataset(client, tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "bad.csv").write_text("x,y\n1,2\n3\n")
    _register(client, "keep", tmp_path / "a.csv")
    with pytest.raises(DatasetError):
        _register(client, "keep", tmp_path / "bad.csv", force=True)
    assert client.load_dataset("keep")["x"].tolist() == [1]
    assert _leftovers_clean(client)


BAD_INPUTS = {
    "missing": (lambda p: p / "nope.csv", "does not exist"),
    "empty": (lambda p: _write(p / "empty.csv", b""), "empty"),
    "blank": (lambda p: _write(p / "blank.csv", b"\n\n  \n"), "empty"),
    "garbage": (lambda p: _write(p / "garbage.csv", bytes(range(256)) * 64), "not a text file"),
    "ragged": (lambda p: _write(p / "ragged.csv", b"a,b\n1,2\n3,4,5\n"), "ragged rows"),
    "fake_parquet": (lambda p: _write(p / "x.parquet", b"PAR1 this is not parquet"), "not a readable Parquet"),
    "bad_json": (lambda p: _write(p / "x.json", b"[{\"a\": 1},"), "not valid JSON"),
    "empty_folder": (lambda p: (p / "emptydir").mkdir() or p / "emptydir", "holds no CSV"),
}


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_fails_cleanly_and_leaves_nothing(client, home, tmp_path, case):
    make, message = BAD_INPUTS[case]
    path = make(tmp_path)
    with pytest.raises(MDMError, match=message):
        _register(client, "bad", path)
    assert client.list_datasets() == []
    assert _leftovers(home) == []


def test_wrong_target_names_the_columns(client, home, penguins):
    with pytest.raises(DatasetError, match="Target column 'spieces' is not in table 'train'.*'species'"):
        _register(client, "p", penguins, target="spieces")
    assert _leftovers(home) == []


@pytest.mark.parametrize("name", ["../evil", "a b", "x;DROP TABLE y", "", "a" * 101, "naïve", "a/b", "Robert'); --"])
def test_hostile_dataset_names_are_refused(client, home, penguins, name):
    with pytest.raises(DatasetError, match="Invalid dataset name"):
        _register(client, name, penguins)
    assert _leftovers(home) == []


def test_interrupt_during_write_leaves_nothing(client, home, penguins, monkeypatch):
    from mdm_plugin_sqlite.backend import SQLiteStore

    original = SQLiteStore.write_table
    calls = {"n": 0}

    def interrupted(self, name, schema, batches, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(self, name, schema, batches, **kw)

    monkeypatch.setattr(SQLiteStore, "write_table", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _register(client, "p", penguins)
    assert client.list_datasets() == []
    assert _leftovers(home) == []


def test_names_accepted_in_either_spelling(client, penguins):
    _register(client, "My-Penguins", penguins)
    assert client.get_dataset_info("my_penguins").display_name == "My-Penguins"
    assert client.load_dataset("MY-PENGUINS", limit=3).shape[0] == 3
    client.remove_dataset("my-penguins")
    assert client.list_datasets() == []


def test_load_columns_limit_and_batches(client, penguins):
    _register(client, "p", penguins)
    frame = client.load_dataset("p", table="test", columns=["island", "id"], limit=5)
    assert list(frame.columns) == ["island", "id"] and len(frame) == 5
    batches = list(client.iter_batches("p", batch_size=50))
    assert all(b.num_rows <= 50 for b in batches)
    assert sum(b.num_rows for b in batches) == client.get_dataset_info("p").table("train").row_count


def test_home_is_relocatable(client, home, penguins, tmp_path, monkeypatch):
    _register(client, "p", penguins)
    text = (home / "datasets" / "p" / "dataset.yaml").read_text()
    assert str(home) not in text
    moved = tmp_path / "moved"
    home.rename(moved)
    monkeypatch.setenv("MDM_HOME_DIR", str(moved))
    from mdm_core.datasets.client import MDMClient

    assert len(MDMClient().load_dataset("p")) == len(pd.read_csv(penguins / "train.csv"))
