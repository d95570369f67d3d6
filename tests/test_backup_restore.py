"""``mdm backup`` / ``mdm restore``: one archive of datasets from every backend, restored
onto every other backend with identical checksums and data; damaged archives refused
naming the table, with nothing left behind; interrupted backups leave no complete file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings

from mdm_core.datasets.archive_manifest import MANIFEST_MEMBER
from mdm_core.datasets.journal import staging_root
from mdm_core.testing.data import extra_types_table, nan_to_null, sample_table, unsign_zeros
from mdm_core.testing.strategies import arrow_tables

BACKENDS = ("sqlite", "duckdb", "postgresql")


def _json(result) -> dict:
    assert result.exit_code == 0, result.output + (result.stderr if result.stderr_bytes else "")
    return json.loads(result.stdout)


def _checksums(client, name: str) -> dict[str, str]:
    info = client.get_dataset_info(name)
    with client.open_store(name) as store:
        return {t.name: store.checksum(t.name) for t in info.tables}


def _data(client, name: str) -> dict[str, pa.Table]:
    """Every table as read (stores give rows back in insertion order, and a restore
    inserts them in the order the backup read them: no sorting needed)."""
    return {t.name: client.load_arrow(name, t.name) for t in client.get_dataset_info(name).tables}


def _mixed_parquet(folder: Path) -> Path:
    """Every supported type with nulls, hostile text and extreme values (no NaN or -0.0,
    which SQLite does not keep: the checksums must be identical on every engine), and
    types Parquet has no place for (seconds, date64), which a restore must cast back."""
    table = nan_to_null(unsign_zeros(sample_table(60)))
    extra = extra_types_table().drop_columns(["uint64"])  # SQLite refuses its maximum
    extra = extra.append_column("ts_s_utc", pa.array([0, 1_700_000_000, None], pa.timestamp("s", tz="UTC")))
    extra = extra.append_column("date64", pa.array([0, 86_400_000 * 3, None], pa.date64()))
    for field in extra.schema:
        table = table.append_column(field, pa.concat_arrays([extra[field.name].combine_chunks()] * 20))
    path = folder / "mixed.parquet"
    pq.write_table(table, path)
    return path


@pytest.fixture
def three_backends(home, monkeypatch, pg_database, tmp_path):
    """A client on a home with dataset ``on_<backend>`` on each backend (PostgreSQL in
    the test's own database); the SQLite one is the penguins folder with features."""
    from mdm_core.datasets.client import MDMClient

    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", pg_database)
    client = MDMClient()
    source = _mixed_parquet(tmp_path)
    client.register_dataset("on_sqlite", Path(__file__).parents[1] / "examples" / "penguins", backend="sqlite")
    client.register_dataset("on_duckdb", source, backend="duckdb", generate_features=False)
    client.register_dataset("on_postgresql", source, backend="postgresql", generate_features=False)
    return client


@pytest.mark.postgres
@pytest.mark.slow
def test_one_archive_restores_onto_every_other_backend_identically(three_backends, cli, tmp_path):
    client = three_backends
    archive = tmp_path / "all.tar"
    report = _json(cli("backup", "-o", str(archive), "--format", "json"))
    assert archive.is_file() and not Path(f"{archive}.partial").exists()
    manifest = {d["name"]: d for d in report["datasets"]}
    assert {n: d["backend"] for n, d in manifest.items()} == {f"on_{b}": b for b in BACKENDS}
    for name in manifest:
        original = _checksums(client, name)
        assert {t["name"]: t["checksum"] for t in manifest[name]["tables"]} == original
        data = _data(client, name)
        for backend in BACKENDS:
            if name == f"on_{backend}" and backend != "sqlite":  # SQLite: its feature tables as extensions
                continue
            copy = f"{name}_to_{backend}"
            restored = _json(cli("restore", str(archive), name, "--as", copy, "--backend", backend, "--format", "json"))
            assert restored["datasets"][0]["backend"] == backend
            info = client.get_dataset_info(copy)
            assert info.backend == backend and [t.name for t in info.tables] == list(original)
            assert _checksums(client, copy) == original
            got = _data(client, copy)
            for table, want in data.items():
                assert got[table].equals(want), f"{copy}/{table} differs"
    with client.open_store("on_sqlite_to_sqlite") as store:  # stored as registration stores them
        kinds = store.execute_sql("SELECT type FROM sqlite_master WHERE name = ?", ["train_features"])
    assert kinds.column(0).to_pylist() == ["view"]


@pytest.fixture
def small(client, tmp_path):
    """A client with dataset ``mixed`` (SQLite, no features) and its archive."""
    client.register_dataset("mixed", _mixed_parquet(tmp_path), generate_features=False)
    return client


def _backup(cli, folder: Path, *names: str) -> Path:
    archive = folder / "b.tar"
    _json(cli("backup", *names, "-o", str(archive), "--format", "json"))
    return archive


def _nothing_left(client, names: set[str]) -> None:
    assert {i.name for i in client.list_datasets()} == names
    assert not staging_root(client.catalog.root).exists()
    leftovers = {p.name for p in client.catalog.root.iterdir() if not p.name.startswith(".")}
    assert leftovers == names


def test_restore_refuses_an_existing_name_then_as_and_force(small, cli, tmp_path):
    archive = _backup(cli, tmp_path)
    before = _checksums(small, "mixed")
    refused = cli("restore", str(archive))
    assert refused.exit_code == 1 and "Dataset 'mixed' already exists; use --force" in refused.stderr
    bad_name = cli("restore", str(archive), "--as", "mixed copy")
    assert bad_name.exit_code == 1 and "Invalid dataset name" in bad_name.stderr
    copy = _json(cli("restore", str(archive), "--as", "Mixed-Copy", "--format", "json"))
    assert copy["datasets"][0]["name"] == "mixed_copy" and _checksums(small, "mixed_copy") == before
    small.update_dataset("mixed", description="changed after the backup")
    forced = _json(cli("restore", str(archive), "--force", "--backend", "duckdb", "--format", "json"))
    assert forced["datasets"][0]["replaced"] is True
    info = small.get_dataset_info("mixed")
    assert info.backend == "duckdb" and info.description == "" and _checksums(small, "mixed") == before
    _nothing_left(small, {"mixed", "mixed_copy"})


def test_as_needs_one_dataset(small, cli, tmp_path):
    small.register_dataset("other", _mixed_parquet(tmp_path), generate_features=False)
    archive = _backup(cli, tmp_path)
    refused = cli("restore", str(archive), "--as", "x")
    assert refused.exit_code == 1 and "--as renames one dataset, but 2 are chosen" in refused.stderr
    unknown = cli("restore", str(archive), "nope")
    assert unknown.exit_code == 1 and "has no dataset 'nope' (it holds: mixed, other)" in unknown.stderr


def _rewrite(archive: Path, target: Path, change) -> None:
    """Copy ``archive`` to ``target`` with ``change(name, data) -> data`` applied to each member."""
    with tarfile.open(archive) as src, tarfile.open(target, "w", format=tarfile.GNU_FORMAT) as dst:
        for member in src.getmembers():
            data = change(member.name, src.extractfile(member).read())
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            dst.addfile(info, pa.BufferReader(data))


def _flip_middle(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]


def _manifest_rows_plus_one(data: bytes) -> bytes:
    manifest = json.loads(data)
    manifest["datasets"][0]["tables"][0]["rows"] += 1
    return json.dumps(manifest).encode()


def _manifest_checksum_changed(data: bytes) -> bytes:
    manifest = json.loads(data)
    table = manifest["datasets"][0]["tables"][0]
    table["checksum"] = table["checksum"][:-1] + ("0" if table["checksum"][-1] != "0" else "1")
    return json.dumps(manifest).encode()


CORRUPTIONS = {
    "flipped-byte": ("tables/data.parquet", _flip_middle, "is damaged: table 'data' of dataset 'mixed'"),
    "truncated-member": ("tables/data.parquet", lambda d: d[: len(d) // 2],
                         "is damaged: table 'data' of dataset 'mixed': it has"),
    "manifest-rows": (MANIFEST_MEMBER, _manifest_rows_plus_one,
                      "Restoring table 'data' of dataset 'mixed' from"),
    "manifest-checksum": (MANIFEST_MEMBER, _manifest_checksum_changed,
                          "Restoring table 'data' of dataset 'mixed' from"),
    "manifest-not-json": (MANIFEST_MEMBER, lambda d: d[:-20], "The manifest of backup"),
    "metadata": ("dataset.yaml", lambda d: d.replace(b"mixed", b"mixxd", 1),
                 "is damaged: the metadata of dataset 'mixed'"),
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_damaged_archive_is_refused_naming_the_table(small, cli, tmp_path, corruption):
    archive = _backup(cli, tmp_path)
    before = _checksums(small, "mixed")
    suffix, change, message = CORRUPTIONS[corruption]
    damaged = tmp_path / "damaged.tar"
    _rewrite(archive, damaged, lambda name, data: change(data) if name.endswith(suffix) else data)
    for args in (("--as", "restored"), ("--force",)):
        refused = cli("restore", str(damaged), *args)
        assert refused.exit_code == 1, refused.output
        assert message in refused.stderr and "\n" not in refused.stderr.strip()
        _nothing_left(small, {"mixed"})
        assert _checksums(small, "mixed") == before  # --force replaced nothing


def test_a_cut_archive_has_no_manifest_and_is_refused(small, cli, tmp_path):
    archive = _backup(cli, tmp_path)
    cut = tmp_path / "cut.tar"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    refused = cli("restore", str(cut), "--as", "restored")
    assert refused.exit_code == 1 and "is not a complete MDM backup: it has no manifest.json" in refused.stderr
    not_tar = tmp_path / "note.tar"
    not_tar.write_text("hello")
    refused = cli("restore", str(not_tar))
    assert refused.exit_code == 1 and "is not an MDM backup archive" in refused.stderr
    _nothing_left(small, {"mixed"})


def test_dry_run_reports_the_space_and_writes_nothing(small, cli, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    plan = _json(cli("backup", "--dry-run", "-o", str(folder), "--format", "json"))
    assert plan["dry_run"] is True and Path(plan["path"]).parent == folder
    assert Path(plan["path"]).name.startswith("mdm-backup-") and plan["path"].endswith("Z.tar")
    assert plan["datasets"][0]["rows"] == 60 and 0 < plan["needed_bytes"] <= plan["free_bytes"]
    assert list(folder.iterdir()) == []


def test_dry_run_names_a_folder_it_cannot_write(small, cli, tmp_path):
    regular = tmp_path / "file.txt"
    regular.write_text("x")
    under_file = cli("backup", "--dry-run", "-o", str(regular / "b.tar"))
    assert under_file.exit_code == 1
    assert f"Cannot write the backup into {regular}: it is not an existing folder." in under_file.stderr
    existing = cli("backup", "-o", str(regular))
    assert existing.exit_code == 1 and f"{regular} already exists; choose another file name" in existing.stderr
    assert regular.read_text() == "x"
    if os.geteuid() == 0:
        return  # root writes into a read-only folder: the chmod case below cannot fail for it
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        refused = cli("backup", "--dry-run", "-o", str(locked / "b.tar"))
    finally:
        locked.chmod(0o755)
    assert refused.exit_code == 1 and f"Cannot write the backup into {locked}:" in refused.stderr


def test_dry_run_and_backup_refuse_without_enough_free_space(small, cli, tmp_path, monkeypatch):
    import mdm_core.datasets.backup as backup_module

    real = shutil.disk_usage
    monkeypatch.setattr(backup_module.shutil, "disk_usage", lambda p: real(p)._replace(free=1000))
    for args in (("--dry-run",), ()):
        refused = cli("backup", *args, "-o", str(tmp_path / "b.tar"))
        assert refused.exit_code == 1
        assert f"Not enough free space in {tmp_path}: the backup needs about" in refused.stderr
    assert not list(tmp_path.glob("b.tar*"))


def test_a_backup_failing_mid_table_leaves_no_file(small, cli, tmp_path, monkeypatch):
    from mdm_core.datasets.client import MDMClient

    monkeypatch.setenv("MDM_PERFORMANCE_BATCH_SIZE", "10")
    opened = MDMClient.open_store

    def failing_store(self, name, **kwargs):
        store = opened(self, name, **kwargs)
        read = store.read_table

        def read_table(table, **options):
            reader = read(table, **options)
            if options.get("limit") is not None:  # the size estimate's sample
                return reader

            def batches():
                for i, batch in enumerate(reader):
                    if i == 2:
                        raise KeyboardInterrupt
                    yield batch
            return pa.RecordBatchReader.from_batches(reader.schema, batches())

        store.read_table = read_table
        return store

    monkeypatch.setattr(MDMClient, "open_store", failing_store)
    archive = tmp_path / "b.tar"
    interrupted = cli("backup", "-o", str(archive))
    assert interrupted.exit_code == 130
    assert list(tmp_path.glob("b.tar*")) == []


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return -1


@pytest.mark.slow
def test_a_killed_backup_leaves_no_complete_looking_file(home, run_mdm, flights_20k, tmp_path):
    from mdm_core.datasets.client import MDMClient

    MDMClient().register_dataset("flights", flights_20k, generate_features=False)
    archive = tmp_path / "b.tar"
    partial = Path(f"{archive}.partial")
    env = {**os.environ, "MDM_PERFORMANCE_BATCH_SIZE": "20"}  # 1,000 batches: time to kill it mid-table
    process = subprocess.Popen([str(Path(sys.executable).with_name("mdm")), "backup", "-o", str(archive)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while _size(partial) <= 4096 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the backup finished before it could be killed"
    assert not archive.exists() and partial.exists()
    refused = run_mdm("restore", str(partial), "--as", "again")
    assert refused.returncode == 1 and "Error:" in refused.stderr and str(partial) in refused.stderr
    assert [i.name for i in MDMClient().list_datasets()] == ["flights"]


@pytest.mark.slow
def test_a_1x_home_is_backed_up_and_restored(legacy_fixture, use_home, cli, tmp_path, monkeypatch):
    from mdm_core.datasets.client import MDMClient

    use_home(legacy_fixture / "home")
    archive = tmp_path / "legacy.tar"
    report = _json(cli("backup", "weather", "penguins_raw", "-o", str(archive), "--format", "json"))
    weather = {d["name"]: d for d in report["datasets"]}["weather"]
    assert weather["layout"] == "1.x" and weather["backend"] == "duckdb"
    assert [t["name"] for t in weather["tables"]] == ["data"] and weather["tables"][0]["rows"] == 26115
    assert weather["skipped"][0]["table"] == "data_features"
    restored = _json(cli("restore", str(archive), "weather", "--as", "weather_new", "--backend", "sqlite",
                         "--format", "json"))
    client = MDMClient()
    info = client.get_dataset_info("weather_new")
    assert not info.legacy and info.backend == "sqlite" and [t.name for t in info.tables] == ["data"]
    assert restored["datasets"][0]["tables"][0]["checksum"] == weather["tables"][0]["checksum"]
    assert client.load_arrow("weather_new", "data").equals(client.load_arrow("weather", "data"))
    monkeypatch.setenv("MDM_FLAGS_USE_NEW_STORAGE", "true")  # the new backends do not read the 1.x layout
    plan = cli("backup", "--dry-run", "-o", str(tmp_path), "--format", "json")
    assert plan.exit_code == 1
    assert [d["name"] for d in json.loads(plan.stdout)["datasets"]] == ["weather_new"]
    left_out = {d["name"]: d["reason"] for d in json.loads(plan.stdout)["not_backed_up"]}
    assert sorted(left_out) == ["penguins", "penguins_raw", "sample", "weather"]
    assert all("stored in the MDM 1.x layout" in reason for reason in left_out.values())
    assert "Not backed up: dataset 'weather' cannot be read: This dataset is stored in the MDM 1.x" in plan.stderr


@pytest.mark.slow
@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(table=arrow_tables(max_rows=30))
def test_random_tables_round_trip_through_backup_and_restore(client, cli, tmp_path, table):
    source = tmp_path / "random.parquet"
    pq.write_table(table, source)
    client.register_dataset("random", source, generate_features=False, force=True)
    archive = tmp_path / "random.tar"
    archive.unlink(missing_ok=True)
    _json(cli("backup", "random", "-o", str(archive), "--format", "json"))
    _json(cli("restore", str(archive), "--as", "random_back", "--force", "--format", "json"))
    assert _checksums(client, "random_back") == _checksums(client, "random")
    assert _data(client, "random_back") == _data(client, "random")


def test_nan_and_negative_zero_restore_onto_sqlite_as_sqlite_keeps_them(client, tmp_path):
    """DuckDB keeps NaN and -0.0, SQLite stores NULL and 0.0: the restore onto SQLite is
    verified against the archive as SQLite keeps it, and says so in its checksum."""
    from mdm_core.checksum import checksum_batches

    table = pa.table({"x": pa.array([1.5, float("nan"), -0.0, None]), "k": pa.array(["a", "b", "c", "d"])})
    pq.write_table(table, tmp_path / "nan.parquet")
    client.register_dataset("nan", tmp_path / "nan.parquet", backend="duckdb", generate_features=False)
    backup = client.backup(["nan"], tmp_path / "nan.tar")  # the Python API
    assert backup.path == tmp_path / "nan.tar" and backup.rows == 4
    restored = client.restore(backup.path, backend="sqlite", as_name="nan_sqlite")
    expected = checksum_batches(nan_to_null(unsign_zeros(client.load_arrow("nan"))).to_batches())
    assert restored.datasets[0].tables[0].checksum == expected != _checksums(client, "nan")["data"]
    assert client.load_arrow("nan_sqlite").column("x").to_pylist() == [1.5, None, 0.0, None]


def test_force_restores_over_a_dataset_whose_metadata_is_broken(small, cli, tmp_path):
    """What ``mdm doctor`` suggests for a broken dataset: restore it from a backup with --force."""
    archive = _backup(cli, tmp_path)
    before = _checksums(small, "mixed")
    (small.catalog.folder("mixed") / "dataset.yaml").write_text("{{{ not yaml")
    refused = cli("restore", str(archive))
    assert refused.exit_code == 1 and "Dataset 'mixed' already exists" in refused.stderr
    forced = _json(cli("restore", str(archive), "--force", "--format", "json"))
    assert forced["datasets"][0]["replaced"] is True
    assert _checksums(small, "mixed") == before
    _nothing_left(small, {"mixed"})
