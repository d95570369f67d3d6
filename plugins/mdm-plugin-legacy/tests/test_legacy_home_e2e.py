"""End to end: a real MDM 1.0.6 home as its user meets it after installing the new MDM.

Nothing is configured: the home's 1.x datasets make MDM start on the legacy generation of
config, catalog and storage ("1.x home detected"). Everything goes through what a user
has: the ``mdm`` command in a subprocess and :class:`mdm_core.MDMClient`. Values are
checked against the CSV files 1.x registered (the fixture's ``data/`` folder); the home is
hashed, file by file, before and after every read. The library under it has unit tests of
its own (``test_home_reader*.py``); damaged homes: ``test_legacy_home_damaged.py``;
PostgreSQL: ``test_legacy_home_e2e_postgres.py``.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from mdm_core.errors import MDMError
from mdm_core.testing.home import snapshot

FIXTURE = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "legacy-mdm-1.0.6"
MDM = Path(sys.executable).with_name("mdm")

#: (dataset, data table) -> the source file 1.x registered it from (relative to data/).
SOURCES = {
    ("penguins", "train"): "penguins/train.csv",
    ("penguins", "test"): "penguins/test.csv",
    ("penguins", "sample_submission"): "penguins/sample_submission.csv",
    ("penguins_raw", "data"): "penguins_raw.csv",
    ("sample", "train"): "sample/train.csv",
    ("sample", "test"): "sample/test.csv",
    ("sample", "sample_submission"): "sample/sample_submission.csv",
    ("weather", "data"): "weather/weather.csv",
}
#: What `mdm dataset list` must say of each 1.x dataset of the fixture.
EXPECTED = {
    "penguins": {"display_name": "penguins", "backend": "sqlite", "target_column": "species",
                 "tags": ["birds", "classification"], "description": "Palmer penguins, Kaggle-style split",
                 "rows": {"train": 272, "test": 72, "sample_submission": 72, "train_features": 272,
                          "test_features": 72, "sample_submission_features": 72}},
    "penguins_raw": {"display_name": "Penguins-Raw", "backend": "sqlite", "target_column": "Body Mass (g)",
                     "tags": [], "description": "", "rows": {"data": 344, "data_features": 344}},
    "sample": {"display_name": "sample", "backend": "sqlite", "target_column": "target",
               "tags": ["demo", "tiny"], "description": "Tiny sample competition",
               "rows": {"train": 10, "test": 5, "sample_submission": 5}},
    "weather": {"display_name": "weather", "backend": "duckdb", "target_column": "temp", "tags": [],
                "description": "", "rows": {"data": 26115, "data_features": 5000}},
}
HINT = "4 MDM 1.x dataset(s), served read-only as they are: run `mdm-migrate plan` to migrate."
INCOMPLETE = "Table 'data_features' of MDM 1.x dataset 'weather' is incomplete"


# -- fixtures and helpers -----------------------------------------------------------------
@pytest.fixture(autouse=True)
def _nothing_from_outside(monkeypatch):
    """No MDM_* setting (in particular no MDM_FLAGS_*) and no PG* variable of the caller."""
    for key in list(os.environ):
        if (key.startswith("MDM_") and key not in {"MDM_TEST_POSTGRES_DSN", "MDM_STRICT_PLUGINS"}) \
                or key.startswith("PG"):
            monkeypatch.delenv(key)


@pytest.fixture
def home(legacy, monkeypatch) -> Path:
    monkeypatch.setenv("MDM_HOME_DIR", str(legacy / "home"))
    return legacy / "home"


@pytest.fixture
def mdm(home):
    """Run ``mdm ARGS`` in a subprocess on the home (wide terminal, so table cells stay whole)."""

    def run(*args: str, input: str | None = None, env: dict | None = None, cwd: Path | None = None):
        full = {k: v for k, v in os.environ.items() if not k.startswith(("MDM_", "PG"))}
        full.update({"MDM_HOME_DIR": str(home), "COLUMNS": "250", **(env or {})})
        return subprocess.run([str(MDM), *args], capture_output=True, text=True, env=full, input=input,
                              cwd=cwd, timeout=300)

    return run


def new_client(home: Path):
    from mdm_core import MDMClient

    return MDMClient(home)


def plain(values: list) -> list:
    """Values as Python objects, every missing value (None, NaN) as None."""
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else (v.item() if hasattr(v, "item") else v)
            for v in values]


def assert_same_column(where: str, expected: list, got: list) -> None:
    """Equal values; floats within one unit in the last place (1.x parsed CSVs with pandas'
    fast float parser: weather.csv's ``10.357019999999999`` was stored as ``10.35702``)."""
    assert len(expected) == len(got), where
    for row, (want, have) in enumerate(zip(expected, got, strict=True)):
        if isinstance(want, float) and isinstance(have, float):
            assert abs(want - have) <= math.ulp(want), (where, row, want, have)
        else:
            assert want == have, (where, row, want, have)


def assert_frame_is_source(frame: pd.DataFrame, source: pd.DataFrame, where: str) -> None:
    assert list(frame.columns) == list(source.columns), where
    assert len(frame) == len(source), where
    for column in source.columns:
        assert_same_column(f"{where}.{column}", plain(source[column].tolist()), plain(frame[column].tolist()))


def source_csv(legacy: Path, name: str, table: str) -> pd.DataFrame:
    """The CSV as 1.x read it: dates stay text (1.x stored them as TEXT)."""
    return pd.read_csv(legacy / "data" / SOURCES[name, table])


def one_sentence(text: str) -> str:
    """The single ``Error: ...`` line of a failed command (no traceback)."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), text
    assert "Traceback" not in text
    return lines[0]


# -- what the user sees first ----------------------------------------------------------------
def test_the_home_starts_on_the_legacy_generation_without_any_setting(mdm):
    result = mdm("flags", "list", "--format", "json")
    assert result.returncode == 0, result.stderr
    flags = json.loads(result.stdout)
    for flag in ("use_new_config", "use_new_dataset", "use_new_storage"):
        entry = flags[flag]
        assert entry["value"] is False, entry
        assert entry["source"].startswith("1.x home detected"), entry
    table = mdm("flags", "list").stdout
    assert "1.x home detected" in table


def test_flags_the_user_sets_win_over_the_detection(legacy, home, mdm):
    before = snapshot(legacy)
    new_dataset = mdm("dataset", "list", env={"MDM_FLAGS_USE_NEW_DATASET": "1"})
    assert new_dataset.returncode == 0
    assert new_dataset.stdout.strip() == "No datasets registered yet. Try: mdm dataset register NAME PATH"
    new_storage = {"MDM_FLAGS_USE_NEW_STORAGE": "1"}
    listed = json.loads(mdm("dataset", "list", "--format", "json", env=new_storage).stdout)
    assert [d["name"] for d in listed] == sorted(EXPECTED)  # the catalog still lists them...
    code = "from mdm_core import MDMClient; MDMClient().load_dataset('penguins')"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env={**{k: v for k, v in os.environ.items() if not k.startswith("MDM_")},
                                 "MDM_HOME_DIR": str(home), **new_storage})
    assert loaded.returncode == 1
    assert ("which the new sqlite backend does not read: turn use_new_storage off (mdm flags set "
            "use_new_storage off) or migrate it (mdm-migrate plan).") in loaded.stderr  # ...the new storage cannot read them
    flags = json.loads(mdm("flags", "list", "--format", "json", env=new_storage).stdout)
    assert flags["use_new_storage"] == {"value": True, "source": "env MDM_FLAGS_USE_NEW_STORAGE"}
    assert flags["use_new_dataset"]["source"].startswith("1.x home detected")
    assert snapshot(legacy) == before
    # `mdm flags set` is the one reading-time command that writes: a flags section in mdm.yaml
    original = (home / "mdm.yaml").read_text()
    assert mdm("flags", "set", "use_new_dataset", "on").returncode == 0
    assert (home / "mdm.yaml").read_text().startswith(original)
    assert json.loads(mdm("flags", "list", "--format", "json").stdout)["use_new_dataset"]["value"] is True
    assert mdm("flags", "set", "use_new_dataset", "off").returncode == 0
    assert [d["name"] for d in json.loads(mdm("dataset", "list", "--format", "json").stdout)] == sorted(EXPECTED)


def test_list_shows_every_1x_dataset_marked_with_the_migrate_hint(mdm):
    result = mdm("dataset", "list")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[1:-1]]
            for line in out.splitlines() if line.startswith("│") and line.split("│")[1].strip()}
    assert set(rows) == set(EXPECTED)
    header = [c.strip() for c in next(line for line in out.splitlines() if line.startswith("┃")).split("┃")[1:-1]]
    assert header == ["name", "display name", "backend", "tables (rows)", "target", "tags", "description",
                      "registered", "layout"]
    for name, want in EXPECTED.items():
        row = dict(zip(header, rows[name], strict=True))
        assert row["display name"] == want["display_name"]
        assert row["backend"] == want["backend"]
        assert row["target"] == want["target_column"]
        assert row["tags"] == ", ".join(want["tags"])
        assert row["description"] == want["description"]
        assert row["layout"] == "1.x"
        assert row["registered"] == "2026-11-21"
    assert rows["penguins"][3] == "train 272, test 72, sample_submission 72; +3 features"
    assert rows["penguins_raw"][3] == "data 344; +1 features"
    assert rows["sample"][3] == "train 10, test 5, sample_submission 5"
    assert rows["weather"][3] == "data 26,115; +1 features (1 incomplete)"
    # the findings, one line per dataset, and the hint as the last line
    assert "sample: note: datasets/sample/dataset_info.json is stale" in out
    assert "weather: note: Feature table 'data_features' is in the database but not in the YAML" in out
    assert "penguins: " not in out and "penguins_raw: " not in out
    assert out.strip().splitlines()[-1] == HINT
    assert result.stderr == ""


def test_list_json_says_the_same_for_scripts(mdm):
    result = mdm("dataset", "list", "--format", "json")
    assert result.returncode == 0
    listing = {d["name"]: d for d in json.loads(result.stdout)}
    assert list(listing) == sorted(EXPECTED)
    for name, want in EXPECTED.items():
        got = listing[name]
        assert got["layout"] == "1.x" and got["format_version"] == 1, name
        assert got["store"]["layout"] == "1.x" and "password" not in json.dumps(got["store"])
        for key in ("display_name", "backend", "target_column", "tags", "description"):
            assert got[key] == want[key], (name, key)
        assert {t["name"]: t["row_count"] for t in got["tables"]} == want["rows"], name
        assert all("columns" not in t for t in got["tables"])
        assert got["status"] == "ok"
    weather = listing["weather"]
    assert weather["incomplete_tables"] == ["data_features"]
    assert {t["name"]: t["complete"] for t in weather["tables"]} == {"data": True, "data_features": False}
    assert {t["name"]: t["kind"] for t in weather["tables"]} == {"data": "data", "data_features": "features"}
    assert weather["datetime_columns"] == ["time_hour"] and weather["time_column"] == "time_hour"
    assert listing["penguins_raw"]["datetime_columns"] == ["Date Egg"]
    assert listing["penguins"]["problems"] == [] and listing["penguins"]["incomplete_tables"] == []
    assert listing["sample"]["problems"][0].startswith("datasets/sample/dataset_info.json is stale")
    assert listing["weather"]["store"]["path"] == "datasets/weather/weather.duckdb"  # relative to the home
    # stdout is JSON alone; the hint goes to stderr
    assert result.stderr.strip() == HINT


def test_info_text_of_a_duckdb_dataset_with_an_incomplete_feature_table(mdm):
    result = mdm("dataset", "info", "weather")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for line in ("Dataset: weather  (display name: weather)", "Backend:          duckdb",
                 "Target:           temp", "Problem type:     regression", "Time column:      time_hour",
                 "Datetime columns: time_hour", "Layout:           1.x", "Source:           weather/weather.csv"):
        assert line in out, line
    assert "Problem:          Feature table 'data_features' is in the database but not in the YAML" in out
    assert "5,000 of 26,115 rows" in out
    assert "│ data_features │ features (incomplete: not served) │ 5,000  │ 95      │" in out
    assert "│ data          │ data                              │ 26,115 │ 15      │" in out
    assert "run `mdm-migrate plan` to migrate" in out
    assert "│ time_hour  │ datetime    │ string     │" in out  # declared datetime, stored as text
    assert "Status:" not in out


def test_info_text_of_sqlite_datasets(mdm):
    raw = mdm("dataset", "info", "Penguins-Raw")  # the name as typed at registration
    assert raw.returncode == 0, raw.stderr
    assert "Dataset: penguins_raw  (display name: Penguins-Raw)" in raw.stdout
    assert "Datetime columns: Date Egg" in raw.stdout
    assert "│ Date Egg            │ datetime    │ string     │" in raw.stdout
    assert "│ Individual ID       │ id          │ string     │" in raw.stdout
    assert "│ Body Mass (g)       │ numeric     │ double     │" in raw.stdout
    penguins = mdm("dataset", "info", "penguins").stdout
    assert "Tags:             birds, classification" in penguins
    assert "Description:      Palmer penguins, Kaggle-style split" in penguins
    for table in ("train_features", "test_features", "sample_submission_features"):
        assert f"│ {table}" in penguins
    assert "incomplete" not in penguins and "Problem:" not in penguins
    assert "_metadata" not in penguins and "_columns" not in penguins and "_statistics" not in penguins
    sample = mdm("dataset", "info", "sample").stdout
    assert "Datetime columns: feature3" in sample
    assert "Problem:          datasets/sample/dataset_info.json is stale" in sample


def test_info_json(mdm):
    result = mdm("dataset", "info", "weather", "--format", "json")
    assert result.returncode == 0
    info = json.loads(result.stdout)
    assert info["name"] == "weather" and info["layout"] == "1.x" and info["status"] == "ok"
    assert info["datetime_columns"] == ["time_hour"] and info["incomplete_tables"] == ["data_features"]
    assert info["id_columns"] == ["humid"]  # the 1.x detection bug, reported as 1.x recorded it
    tables = {t["name"]: t for t in info["tables"]}
    assert tables["data_features"]["complete"] is False and tables["data_features"]["row_count"] == 5000
    columns = {c["name"]: c for c in tables["data"]["columns"]}
    assert list(columns)[:2] == ["origin", "year"] and len(columns) == 15
    assert columns["time_hour"] == {"name": "time_hour", "type": "datetime", "arrow_type": "string"}
    assert columns["temp"]["type"] == "numeric" and columns["temp"]["arrow_type"] == "double"
    assert any("5,000 of 26,115 rows" in p for p in info["problems"])
    raw = json.loads(mdm("dataset", "info", "penguins_raw", "--format", "json").stdout)
    assert raw["display_name"] == "Penguins-Raw" and raw["datetime_columns"] == ["Date Egg"]
    data = next(t for t in raw["tables"] if t["name"] == "data")
    assert {c["name"]: c["type"] for c in data["columns"]}["Date Egg"] == "datetime"
    assert [c["name"] for c in data["columns"]] == list(pd.read_csv(FIXTURE / "data" / "penguins_raw.csv").columns)


# -- reading through the client ---------------------------------------------------------------
@pytest.mark.parametrize(("name", "table"), sorted(SOURCES))
def test_load_dataset_returns_what_1x_stored(home, legacy, name, table):
    frame = new_client(home).load_dataset(name, table=table)
    assert_frame_is_source(frame, source_csv(legacy, name, table), f"{name}.{table}")


def test_the_default_table_columns_and_limit(home, legacy):
    client = new_client(home)
    train = client.load_dataset("penguins")  # default: train
    assert_frame_is_source(train, source_csv(legacy, "penguins", "train"), "penguins.train")
    weather = client.load_dataset("weather", columns=["time_hour", "temp", "origin"], limit=3)
    assert list(weather.columns) == ["time_hour", "temp", "origin"]
    assert weather["time_hour"].tolist() == ["2013-01-01T06:00:00Z", "2013-01-01T07:00:00Z", "2013-01-01T08:00:00Z"]
    assert weather["origin"].tolist() == ["EWR"] * 3 and weather["temp"].tolist()[:2] == [39.02, 39.02]
    raw = client.load_dataset("Penguins-Raw", columns=["Date Egg", "Body Mass (g)"], limit=2)
    assert raw["Date Egg"].tolist() == ["2007-11-11", "2007-11-11"]  # CSV dates: text, as stored
    assert raw["Body Mass (g)"].tolist() == [3750.0, 3800.0]
    assert client.load_dataset("sample", table="test", columns=["feature3"])["feature3"].tolist() == [
        "2024-01-11", "2024-01-12", "2024-01-13", "2024-01-14", "2024-01-15"]
    assert len(client.load_dataset("sample", limit=0)) == 0
    arrow = client.load_arrow("sample", table="sample_submission")
    assert arrow.schema == pa.schema([("id", pa.int64()), ("target", pa.int64())])


def test_complete_feature_tables_are_served_and_begin_with_their_source_columns(home, legacy):
    client = new_client(home)
    for name, table in (("penguins", "train"), ("penguins", "test"), ("penguins_raw", "data")):
        features = client.load_dataset(name, table=f"{table}_features")
        source = source_csv(legacy, name, table)
        assert len(features) == len(source) and features.shape[1] > source.shape[1]
        assert list(features.columns[: source.shape[1]]) == list(source.columns)
        dates = client.get_dataset_info(name).datetime_columns
        kept = [c for c in source.columns if c not in dates]
        assert_frame_is_source(features[kept], source[kept], f"{name}.{table}_features")
        for column in dates:  # 1.x parsed them for its features and stored the text of a timestamp
            got = plain(features[column].tolist())
            assert [v[:10] if v else v for v in got] == plain(source[column].tolist()), column
            assert got[0] == f"{source[column][0]} 00:00:00.000000"


def test_iter_batches_streams_every_row(home, legacy):
    client = new_client(home)
    batches = list(client.iter_batches("weather"))  # the 1.x mdm.yaml's performance.batch_size: 5000
    assert [b.num_rows for b in batches] == [5000] * 5 + [1115]
    frame = pa.Table.from_batches(batches).to_pandas()
    assert_frame_is_source(frame, source_csv(legacy, "weather", "data"), "weather.data")
    sized = [b.num_rows for b in client.iter_batches("penguins", table="test_features", batch_size=50)]
    assert sized == [50, 22]
    picked = list(client.iter_batches("penguins_raw", columns=["Sample Number", "Date Egg"], limit=150, batch_size=100))
    assert [b.num_rows for b in picked] == [100, 50]
    assert picked[0].schema.names == ["Sample Number", "Date Egg"]
    source = source_csv(legacy, "penguins_raw", "data")
    assert pa.Table.from_batches(picked).column("Date Egg").to_pylist() == source["Date Egg"].tolist()[:150]
    sample = pa.Table.from_batches(list(client.iter_batches("sample", table="train")))
    assert_frame_is_source(sample.to_pandas(), source_csv(legacy, "sample", "train"), "sample.train")


def test_get_dataset_info(home):
    client = new_client(home)
    for name, want in EXPECTED.items():
        info = client.get_dataset_info(name)
        assert info.legacy and info.format_version == 1 and info.status == "ok", name
        assert {t.name: t.row_count for t in info.tables} == want["rows"], name
        assert info.display_name == want["display_name"] and info.backend == want["backend"]
        assert info.target_column == want["target_column"] and info.tags == want["tags"]
        assert "password" not in info.store
    raw = client.get_dataset_info("Penguins-Raw")
    assert raw.name == "penguins_raw" and raw.problem_type == "regression"
    assert raw.id_columns == ["Individual ID"] and raw.datetime_columns == ["Date Egg"]
    assert raw.table("data").column_types()["Date Egg"] == "datetime"
    assert raw.table("data").column_types()["Body Mass (g)"] == "numeric"
    assert raw.source == "penguins_raw.csv"
    assert raw.registered_at == "2026-11-21T01:50:45.468334+00:00"
    weather = client.get_dataset_info("weather")
    assert weather.incomplete_tables == ["data_features"] and weather.time_column == "time_hour"
    assert weather.default_table == "data"
    sample = client.get_dataset_info("sample")
    assert sample.last_updated_at == "2026-11-21T01:50:33.684647+00:00"  # naive in the YAML: UTC
    assert sample.datetime_columns == ["feature3"]
    assert [t.name for t in sample.data_tables] == ["train", "test", "sample_submission"]
    assert client.dataset_exists("penguins") and client.dataset_exists("PENGUINS")
    assert not client.dataset_exists("nosuch")
    assert [i.name for i in client.list_datasets()] == sorted(EXPECTED)


def test_the_incomplete_feature_table_is_refused_in_one_sentence(home):
    client = new_client(home)
    for read in (lambda: client.load_dataset("weather", table="data_features"),
                 lambda: list(client.iter_batches("weather", table="data_features")),
                 lambda: client.load_dataset("weather", table="data_features", columns=["temp"], limit=1)):
        with pytest.raises(MDMError) as caught:
            read()
        message = str(caught.value)
        assert message.startswith(INCOMPLETE) and message.count(". ") == 0 and message.endswith(".")
        assert "migrate" in message
    assert len(client.load_dataset("weather", table="data", limit=5)) == 5  # the rest still works


def test_unknown_names_tables_and_columns_are_one_sentence(home, mdm):
    client = new_client(home)
    with pytest.raises(MDMError, match=r"Dataset 'nosuch' not found \(known: penguins, penguins_raw, sample, weather\)"):
        client.load_dataset("nosuch")
    with pytest.raises(MDMError, match=r"Dataset 'sample' has no table '_metadata'"):
        client.load_dataset("sample", table="_metadata")
    with pytest.raises(MDMError, match="has no column 'nope'"):
        client.load_dataset("penguins", columns=["nope"])
    failed = mdm("dataset", "info", "nosuch")
    assert failed.returncode == 1 and failed.stdout == ""
    assert one_sentence(failed.stderr).startswith("Error: Dataset 'nosuch' not found")


def test_sql_on_a_1x_dataset_is_refused_with_what_to_do(home):
    with pytest.raises(MDMError, match="read-only until migrated"):
        new_client(home).query("penguins", "SELECT 1")


# -- reading never writes ----------------------------------------------------------------------
def test_no_read_changes_a_byte_of_the_home(legacy, home, mdm):
    for name in ("penguins", "penguins_raw", "sample"):  # WAL mode: bytes 18-19 of the header are 2
        header = (home / "datasets" / name / f"{name}.sqlite").read_bytes()[:20]
        assert header[18] == header[19] == 2
    before = snapshot(legacy)

    def unchanged(step: str) -> None:
        after = snapshot(legacy)
        assert after.keys() == before.keys(), f"{step} created or deleted {set(after) ^ set(before)}"
        assert after == before, f"{step} changed {[k for k in after if after[k] != before[k]]}"
        assert not [p for p in legacy.rglob("*") if p.name.endswith(("-wal", "-shm", ".wal"))], step

    commands = [
        ("dataset", "list"), ("dataset", "list", "--format", "json"),
        ("dataset", "info", "weather"), ("dataset", "info", "penguins"), ("dataset", "info", "sample"),
        ("dataset", "info", "penguins_raw", "--format", "json"), ("dataset", "remove", "sample", "--dry-run"),
        ("config", "show"), ("config", "show", "--sources"), ("flags", "list"), ("plugins", "list"),
    ]
    for args in commands:
        result = mdm(*args)
        assert result.returncode == 0, (args, result.stderr)
        unchanged(" ".join(args))
    for args in (("dataset", "info", "nosuch"), ("dataset", "remove", "nosuch", "--force"),
                 ("features", "regenerate", "weather", "--force")):
        result = mdm(*args)
        assert result.returncode == 1, (args, result.stdout)
        unchanged(" ".join(args) + " (failed)")

    client = new_client(home)
    for name, table in sorted(SOURCES):
        client.load_dataset(name, table=table)
        unchanged(f"load_dataset({name!r}, table={table!r})")
    client.load_dataset("penguins", table="train_features", columns=["id", "species"], limit=10)
    for name in EXPECTED:
        for _ in client.iter_batches(name, batch_size=100):
            pass
        unchanged(f"iter_batches({name!r})")
        client.get_dataset_info(name)
        unchanged(f"get_dataset_info({name!r})")
    client.list_datasets()
    with pytest.raises(MDMError):
        client.load_dataset("weather", table="data_features")
    with pytest.raises(MDMError):
        list(client.iter_batches("weather", table="data_features"))
    with pytest.raises(MDMError):
        client.load_dataset("nosuch")
    unchanged("failed loads through the client")


# -- writes: the new layout beside the 1.x datasets ----------------------------------------------
def _one_x_files(legacy: Path, *names: str) -> dict[str, str]:
    """The snapshot of the 1.x files of ``names`` (YAML, folder) and of the rest of the home."""
    state = snapshot(legacy / "home")
    return {k: v for k, v in state.items()
            if any(k == f"config/datasets/{n}.yaml" or k.startswith(f"datasets/{n}/") or k == f"datasets/{n}"
                   for n in names) or not k.startswith(("datasets/", "config/datasets/"))}


def test_a_new_dataset_registers_beside_the_1x_ones(legacy, home, mdm):
    before = _one_x_files(legacy, *EXPECTED)
    result = mdm("dataset", "register", "flights2", "weather/weather.csv", "--target", "temp", "--no-features",
                 cwd=legacy / "data")
    assert result.returncode == 0, result.stderr
    assert "Registered dataset 'flights2' on sqlite: data (26,115 rows)." in result.stdout
    assert (home / "datasets" / "flights2" / "dataset.yaml").is_file()
    assert not (home / "config" / "datasets" / "flights2.yaml").exists()  # never the 1.x layout
    assert _one_x_files(legacy, *EXPECTED) == before  # not one byte of the 1.x datasets changed
    listing = {d["name"]: d for d in json.loads(mdm("dataset", "list", "--format", "json").stdout)}
    assert list(listing) == ["flights2", *sorted(EXPECTED)]
    assert listing["flights2"]["layout"] == "new" and listing["flights2"]["format_version"] == 2
    assert all(listing[n]["layout"] == "1.x" for n in EXPECTED)
    table = mdm("dataset", "list").stdout
    assert [line.split("│")[-2].strip() for line in table.splitlines() if line.startswith("│ flights2")] == ["new"]
    client = new_client(home)
    new = client.load_dataset("flights2", columns=["temp", "origin"])
    old = client.load_dataset("weather", columns=["temp", "origin"])
    assert new.equals(old)
    assert_frame_is_source(client.load_dataset("sample"), source_csv(legacy, "sample", "train"), "sample.train")


def test_a_1x_name_is_refused_without_force(legacy, home, mdm):
    before = snapshot(legacy)
    for name in ("penguins", "Penguins-Raw"):
        result = mdm("dataset", "register", name, "penguins_raw.csv", "--no-features", cwd=legacy / "data")
        assert result.returncode == 1 and result.stdout == ""
        line = one_sentence(result.stderr)
        assert "already exists" in line and "--force" in line
    assert snapshot(legacy) == before


def test_force_over_a_1x_name_replaces_it(legacy, home, mdm):
    others = _one_x_files(legacy, "penguins_raw", "sample", "weather")
    result = mdm("dataset", "register", "penguins", "penguins", "--force", "--no-features", cwd=legacy / "data")
    assert result.returncode == 0, result.stderr
    assert not (home / "config" / "datasets" / "penguins.yaml").exists()
    folder = home / "datasets" / "penguins"
    assert (folder / "dataset.yaml").is_file()
    assert not (folder / "penguins.sqlite").exists() and not (folder / "dataset_info.json").exists()
    assert not [p for p in (home / "datasets").iterdir() if p.name.startswith(".")]  # nothing left aside
    listing = {d["name"]: d for d in json.loads(mdm("dataset", "list", "--format", "json").stdout)}
    assert listing["penguins"]["layout"] == "new" and listing["penguins"]["format_version"] == 2
    assert [t["name"] for t in listing["penguins"]["tables"]] == ["train", "test", "sample_submission"]
    assert sorted(n for n, d in listing.items() if d["layout"] == "1.x") == ["penguins_raw", "sample", "weather"]
    info = mdm("dataset", "info", "penguins").stdout
    assert "Layout:" not in info and "1.x" not in info
    client = new_client(home)
    train = client.load_dataset("penguins", table="train")
    source = source_csv(legacy, "penguins", "train")
    assert len(train) == len(source) and list(train.columns) == list(source.columns)
    assert train["species"].tolist() == source["species"].tolist()
    assert _one_x_files(legacy, "penguins_raw", "sample", "weather") == others
    assert_frame_is_source(client.load_dataset("weather"), source_csv(legacy, "weather", "data"), "weather")
    assert "3 MDM 1.x dataset(s)" in mdm("dataset", "list").stdout


def test_remove_of_a_1x_dataset_asks_first(legacy, home, mdm):
    before = snapshot(legacy)
    refused = mdm("dataset", "remove", "sample", input="n\n")
    assert refused.returncode == 0
    assert "Remove dataset 'sample' and its 1.x YAML and folder (train, test, sample_submission)?" in refused.stdout
    assert refused.stdout.strip().endswith("Nothing removed.")
    no_answer = mdm("dataset", "remove", "sample", input="")
    assert "Removed" not in no_answer.stdout
    assert snapshot(legacy) == before

    others = _one_x_files(legacy, "penguins", "penguins_raw", "weather")
    removed = mdm("dataset", "remove", "sample", "--force")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.strip() == "Removed dataset 'sample'."
    assert not (home / "config" / "datasets" / "sample.yaml").exists()
    assert not (home / "datasets" / "sample").exists()
    assert not [p for p in (home / "datasets").iterdir() if p.name.startswith(".")]
    assert _one_x_files(legacy, "penguins", "penguins_raw", "weather") == others
    listing = json.loads(mdm("dataset", "list", "--format", "json").stdout)
    assert [d["name"] for d in listing] == ["penguins", "penguins_raw", "weather"]
    client = new_client(home)
    for name, table in SOURCES:
        if name != "sample":
            assert_frame_is_source(client.load_dataset(name, table=table), source_csv(legacy, name, table), name)
    gone = mdm("dataset", "info", "sample")
    assert gone.returncode == 1 and "not found" in one_sentence(gone.stderr)


def test_remove_answered_yes_and_through_the_client(legacy, home, mdm):
    yes = mdm("dataset", "remove", "penguins_raw", input="y\n")
    assert yes.returncode == 0 and "Removed dataset 'penguins_raw'." in yes.stdout
    assert not (home / "config" / "datasets" / "penguins_raw.yaml").exists()
    assert not (home / "datasets" / "penguins_raw").exists()
    removed = new_client(home).remove_dataset("Weather")
    assert removed.name == "weather" and removed.legacy
    assert not (home / "datasets" / "weather").exists()
    assert [i.name for i in new_client(home).list_datasets()] == ["penguins", "sample"]
    assert (home / "config" / "custom_features" / "penguins.py").is_file()  # only what belongs to the dataset


def test_feature_regeneration_of_a_1x_dataset_is_refused_with_what_to_do(legacy, mdm):
    before = snapshot(legacy)
    for args in (("features", "regenerate", "sample"), ("features", "regenerate", "weather", "--force"),
                 ("features", "regenerate", "penguins", "--force", "--engine", "legacy")):
        result = mdm(*args)
        assert result.returncode == 1, args
        line = one_sentence(result.stderr)
        assert "is an MDM 1.x dataset, read-only until migrated (mdm-migrate plan shows how)" in line, line
    assert snapshot(legacy) == before


def test_feature_regeneration_without_force_says_migrate_first(mdm):
    line = one_sentence(mdm("features", "regenerate", "penguins_raw").stderr)
    assert "read-only until migrated" in line
