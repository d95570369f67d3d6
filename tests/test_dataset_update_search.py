"""``mdm dataset update``, ``search`` and ``list --sort-by/--limit/--backend`` through the
real console script, on every backend, with real data (penguins and a tiny CSV)."""

from __future__ import annotations

import json

import pytest

from mdm_core.datasets.metadata_ops import apply_update, search
from mdm_core.errors import DatasetError

PENGUIN_COLUMNS = "id, species, island, bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g, sex, year"


def _ok(result):
    assert result.returncode == 0, result.stderr
    return result


def _json(result):
    return json.loads(_ok(result).stdout)


@pytest.fixture
def tiny_csv(tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text("key,when,amount,label\na,2024-01-01,1.5,x\nb,2024-01-02,2.5,y\nc,2024-01-03,3.5,x\n")
    return path


def test_update_on_every_backend(run_mdm, any_backend, home, penguins):
    _ok(run_mdm("dataset", "register", "Penguins", str(penguins), "--description", "Palmer penguins",
                "--tags", "birds,demo"))
    yaml_path = home / "datasets" / "penguins" / "dataset.yaml"
    before = _json(run_mdm("dataset", "info", "penguins", "--format", "json"))
    assert before["target_column"] == "species" and before["last_updated_at"] is None

    out = run_mdm("dataset", "update", "penguins", "--description", "Antarctic birds", "--target", "island",
                  "--problem-type", "classification", "--id-columns", "id", "--time-column", "year",
                  "--group-column", "sex", "--add-tags", "antarctica,birds", "--remove-tags", "demo",
                  "--format", "json")
    data = _json(out)
    assert data["name"] == "penguins" and data["backend"] == any_backend.name
    assert data["description"] == "Antarctic birds"
    assert data["target_column"] == "island"
    assert data["problem_type"] == "multiclass_classification"
    assert data["id_columns"] == ["id"]
    assert data["time_column"] == "year"
    assert data["group_column"] == "sex"
    assert data["tags"] == ["birds", "antarctica"]
    assert data["last_updated_at"] and data["last_updated_at"] >= data["registered_at"][:19]
    assert data["features_stale"] is True
    # penguins were already multiclass with ID column ``id``: not changes
    assert set(data["changed"]) == {"description", "target_column", "time_column", "group_column", "tags"}
    assert "mdm features regenerate penguins" in out.stderr
    assert data["tables"] == before["tables"]  # data untouched

    # what was written is what info reads back
    after = _json(run_mdm("dataset", "info", "penguins", "--format", "json"))
    for key in ("description", "target_column", "problem_type", "id_columns", "time_column", "group_column",
                "tags", "last_updated_at"):
        assert after[key] == data[key], key
    assert not list(yaml_path.parent.glob(".*.tmp"))

    # the data is still served
    assert _json(run_mdm("dataset", "list", "--format", "json"))[0]["tables"][0]["row_count"] == 272

    # text output; a description-only change does not make features stale
    text = _ok(run_mdm("dataset", "update", "penguins", "--tags", "x, y"))
    assert text.stdout.strip() == "Updated dataset 'penguins': tags."
    assert "stale" not in text.stdout + text.stderr
    assert _json(run_mdm("dataset", "info", "penguins", "--format", "json"))["tags"] == ["x", "y"]


def test_update_refusals_leave_the_yaml_byte_identical(run_mdm, home, penguins):
    _ok(run_mdm("dataset", "register", "penguins", str(penguins), "--no-features"))
    yaml_path = home / "datasets" / "penguins" / "dataset.yaml"
    original = yaml_path.read_bytes()
    cases = [
        (["--target", "beak"], f"Column 'beak' (--target) is not a column of table 'train' of dataset 'penguins' "
                               f"(columns: {PENGUIN_COLUMNS})."),
        (["--description", "changed", "--id-columns", "id,nope"], "ID column(s) 'nope' (--id-columns) not in table"),
        (["--problem-type", "astrology"], "Unknown problem type 'astrology'"),
        (["--time-column", "when"], "Column 'when' (--time-column)"),
        ([], "Nothing to update for dataset 'penguins'"),
    ]
    for args, message in cases:
        result = run_mdm("dataset", "update", "penguins", *args)
        assert result.returncode == 1, args
        assert result.stderr.startswith("Error: ") and message in result.stderr, result.stderr
        assert result.stderr.strip().count("\n") == 0
        assert yaml_path.read_bytes() == original, args
    assert sorted(p.name for p in yaml_path.parent.iterdir() if p.name.startswith(".")) == []
    missing = run_mdm("dataset", "update", "ghost", "--description", "x")
    assert missing.returncode == 1 and "Dataset 'ghost' not found" in missing.stderr


def test_update_without_feature_tables_is_not_stale_and_clears(run_mdm, home, tiny_csv):
    _ok(run_mdm("dataset", "register", "tiny", str(tiny_csv), "--no-features", "--target", "label"))
    data = _json(run_mdm("dataset", "update", "tiny", "--target", "amount", "--problem-type", "regression",
                         "--format", "json"))
    assert data["target_column"] == "amount" and data["problem_type"] == "regression"
    assert data["features_stale"] is False  # no feature tables to go stale
    cleared = _json(run_mdm("dataset", "update", "tiny", "--target", "", "--problem-type", "", "--id-columns", "",
                            "--format", "json"))
    assert cleared["target_column"] is None and cleared["problem_type"] is None and cleared["id_columns"] == []


def test_update_of_a_1x_dataset_is_refused(run_mdm, legacy_fixture, monkeypatch):
    monkeypatch.setenv("MDM_HOME_DIR", str(legacy_fixture / "home"))
    yaml_files = {p: p.read_bytes() for p in (legacy_fixture / "home").rglob("*") if p.is_file()}
    result = run_mdm("dataset", "update", "sample", "--description", "new")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: Dataset 'sample' is an MDM 1.x dataset, read-only until migrated (mdm-migrate plan shows how); "
        "the migration regenerates its features.")
    for path, content in yaml_files.items():
        if path.suffix in {".yaml", ".json"}:
            assert path.read_bytes() == content, path


def test_update_through_the_client(client, penguins):
    client.register_dataset("p", penguins, generate_features=False)
    info = client.update_dataset("P", description="d", add_tags=["a", "b"], problem_type="binary")
    assert info.description == "d" and info.tags == ["a", "b"] and info.problem_type == "binary_classification"
    assert client.get_dataset_info("p").tags == ["a", "b"]
    with pytest.raises(DatasetError, match="Cannot update color"):
        client.update_dataset("p", color="red")


def test_apply_update_is_pure(client, penguins):
    info = client.register_dataset("p", penguins, generate_features=False)
    result = apply_update(info, now="2030-01-01T00:00:00+00:00", tags=["z"], add_tags=["z", "y"], remove_tags=["y"])
    assert result.info.tags == ["z"] and info.tags == []
    assert result.info.last_updated_at == "2030-01-01T00:00:00+00:00" and info.last_updated_at is None
    assert result.changed == ("tags",) and not result.features_stale


def _register_three(run_mdm, penguins, tiny_csv):
    _ok(run_mdm("dataset", "register", "penguins", str(penguins), "--no-features", "--description",
                "Palmer Archipelago birds", "--tags", "birds,demo"))
    _ok(run_mdm("dataset", "register", "Tiny-Sales", str(tiny_csv), "--no-features", "--target", "amount",
                "--problem-type", "regression", "--tags", "demo", "--description", "three rows"))
    _ok(run_mdm("dataset", "register", "tiny_labels", str(tiny_csv), "--no-features", "--target", "label",
                "--problem-type", "binary", "--tags", "Labels"))


def _names(result) -> list[str]:
    return [d["name"] for d in _json(result)]


def test_search_filters(run_mdm, any_backend, penguins, tiny_csv):
    _register_three(run_mdm, penguins, tiny_csv)

    def found(*args):
        return _names(run_mdm("dataset", "search", *args, "--format", "json"))

    assert found() == ["penguins", "tiny_labels", "tiny_sales"]
    assert found("TINY") == ["tiny_labels", "tiny_sales"]
    assert found("archipelago") == ["penguins"]          # description, case-insensitive
    assert found("Tiny-S") == ["tiny_sales"]             # display name
    assert found("tiny_*") == ["tiny_labels", "tiny_sales"]  # glob
    assert found("*rows") == ["tiny_sales"]              # glob over the description
    assert found("p?nguins") == ["penguins"]
    assert found("nothing-like-this") == []
    assert found("--tag", "demo") == ["penguins", "tiny_sales"]
    assert found("--tag", "demo", "--tag", "birds") == ["penguins"]
    assert found("--tag", "labels") == ["tiny_labels"]  # tags case-insensitive
    assert found("--problem-type", "regression") == ["tiny_sales"]
    assert found("--problem-type", "binary") == ["tiny_labels"]
    assert found("--backend", any_backend.name) == ["penguins", "tiny_labels", "tiny_sales"]
    assert found("--backend", "nowhere") == []
    assert found("--min-rows", "100") == ["penguins"]
    assert found("tiny", "--tag", "demo", "--min-rows", "3") == ["tiny_sales"]
    assert found("tiny", "--tag", "demo", "--min-rows", "4") == []
    assert found("--max-rows", "3") == ["tiny_labels", "tiny_sales"]
    assert found("--max-rows", "2") == []

    entry = _json(run_mdm("dataset", "search", "tiny_sales", "--format", "json"))[0]
    listed = next(d for d in _json(run_mdm("dataset", "list", "--format", "json")) if d["name"] == "tiny_sales")
    assert entry == listed  # same JSON as `dataset list`
    assert entry["backend"] == any_backend.name and entry["target_column"] == "amount"
    assert entry["tables"] == [{"name": "data", "kind": "data", "row_count": 3, "source": "tiny.csv",
                                "complete": True}]

    table = _ok(run_mdm("dataset", "search", "penguins", env={"COLUMNS": "200"}))
    assert "penguins" in table.stdout and "tiny" not in table.stdout
    assert _ok(run_mdm("dataset", "search", "zzz")).stdout.strip() == "No datasets match."
    bad = run_mdm("dataset", "search", "--problem-type", "astrology")
    assert bad.returncode == 1 and "Unknown problem type 'astrology'" in bad.stderr


def test_list_sort_limit_backend(run_mdm, home, penguins, tiny_csv):
    _register_three(run_mdm, penguins, tiny_csv)

    def listed(*args):
        return _names(run_mdm("dataset", "list", *args, "--format", "json"))

    assert listed() == ["penguins", "tiny_labels", "tiny_sales"]
    assert listed("--reverse") == ["tiny_sales", "tiny_labels", "penguins"]
    assert listed("--limit", "2") == ["penguins", "tiny_labels"]
    assert listed("--limit", "0") == []
    assert listed("--sort-by", "registered") == ["penguins", "tiny_sales", "tiny_labels"]
    assert listed("--sort-by", "registered", "--reverse", "--limit", "1") == ["tiny_labels"]
    assert listed("--sort-by", "rows") == ["tiny_labels", "tiny_sales", "penguins"]  # ties by name
    assert listed("--sort-by", "rows", "--reverse")[0] == "penguins"
    assert listed("--sort-by", "size", "--reverse")[0] == "penguins"
    assert listed("--backend", "sqlite") == ["penguins", "tiny_labels", "tiny_sales"]
    assert listed("--backend", "duckdb") == []
    assert "No datasets on backend 'duckdb'." in _ok(run_mdm("dataset", "list", "--backend", "duckdb")).stdout
    bad = run_mdm("dataset", "list", "--sort-by", "colour")
    assert bad.returncode != 0 and "colour" in bad.stderr


def test_list_backend_filter_across_backends(run_mdm, home, penguins, tiny_csv):
    _ok(run_mdm("dataset", "register", "a", str(tiny_csv), "--no-features", "--backend", "duckdb"))
    _ok(run_mdm("dataset", "register", "b", str(tiny_csv), "--no-features", "--backend", "sqlite"))
    assert _names(run_mdm("dataset", "list", "--backend", "duckdb", "--format", "json")) == ["a"]
    assert _names(run_mdm("dataset", "search", "--backend", "sqlite", "--format", "json")) == ["b"]


def test_search_function_on_legacy_home(legacy_fixture, monkeypatch):
    monkeypatch.setenv("MDM_HOME_DIR", str(legacy_fixture / "home"))
    from mdm_core.datasets.client import MDMClient

    client = MDMClient()
    assert [i.name for i in client.search_datasets("penguin")] == ["penguins", "penguins_raw"]
    assert [i.name for i in client.search_datasets(tags=["tiny"])] == ["sample"]
    assert [i.name for i in search(client.list_datasets(), backend="duckdb")] == ["weather"]


def test_a_failed_write_leaves_the_old_yaml_and_no_temp_file(client, home, penguins, monkeypatch):
    import mdm_core.datasets.catalog as catalog_module

    client.register_dataset("p", penguins, generate_features=False)
    yaml_path = home / "datasets" / "p" / "dataset.yaml"
    original = yaml_path.read_bytes()

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(catalog_module.os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        client.update_dataset("p", description="never written")
    monkeypatch.undo()
    assert yaml_path.read_bytes() == original
    assert [f.name for f in yaml_path.parent.iterdir() if f.name.startswith(".")] == []
    assert client.update_dataset("p", description="written").description == "written"


def test_update_waits_for_and_names_the_lock_holder(run_mdm, client, home, penguins):
    from mdm_core.datasets.locks import dataset_lock

    client.register_dataset("p", penguins, generate_features=False)
    original = (home / "datasets" / "p" / "dataset.yaml").read_bytes()
    with dataset_lock(client.catalog.root, "p", "regenerate features"):
        busy = run_mdm("dataset", "update", "p", "--description", "x")
    assert busy.returncode == 1
    assert "Dataset 'p' is busy" in busy.stderr and "regenerate features" in busy.stderr
    assert (home / "datasets" / "p" / "dataset.yaml").read_bytes() == original
