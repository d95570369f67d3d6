"""Reading a WAL-mode store read-only leaves its folder as it was: the ``-wal``/``-shm``
files its opening created are gone after it closes, unless another connection (in
this process or another one) still has the database open; the database file is not
changed by a byte, and a concurrent writer goes on undisturbed."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import textwrap

import pyarrow as pa
import pytest
from mdm_plugin_sqlite.backend import SQLiteBackend, db_path
from mdm_plugin_sqlite.settings import SQLiteSettings

from mdm_core.storage import StoreRef

TABLE = pa.table({"x": pa.array([1, 2, 3], pa.int64()), "s": pa.array(["a", "b", None])})
MORE = pa.table({"y": pa.array([10, 20], pa.int64())})


def _store(tmp_path, folder: str = "ds") -> tuple[SQLiteBackend, StoreRef]:
    """A WAL-mode store holding ``TABLE`` as ``t``, moved into ``folder``."""
    backend = SQLiteBackend(SQLiteSettings(journal_mode="WAL"))
    staging, ref = StoreRef("s", tmp_path / "staging"), StoreRef("d", tmp_path / folder)
    with backend.create_store(staging) as store:
        store.write_table("t", TABLE.schema, TABLE.to_batches())
    backend.move_store(staging, ref)
    return backend, ref


def _listing(ref: StoreRef) -> list[str]:
    return sorted(p.name for p in ref.folder.iterdir())


def _digest(ref: StoreRef) -> str:
    return hashlib.sha256(db_path(ref).read_bytes()).hexdigest()


def _read(backend: SQLiteBackend, ref: StoreRef) -> None:
    with backend.open_store(ref, read_only=True) as store:
        assert store.read_table("t").read_all().equals(TABLE)
        assert store.row_count("t") == 3


@pytest.mark.parametrize("folder", ["ds", "a #1 ?data set"])
def test_read_only_open_read_close_leaves_the_folder_as_it_was(tmp_path, folder) -> None:
    backend, ref = _store(tmp_path, folder)
    before, digest = _listing(ref), _digest(ref)
    assert before == ["dataset.sqlite"]
    with backend.open_store(ref, read_only=True) as store:
        assert store.read_table("t").read_all().equals(TABLE)
        assert _listing(ref) == ["dataset.sqlite", "dataset.sqlite-shm", "dataset.sqlite-wal"]
        store.checksum("t")
    assert _listing(ref) == before
    assert _digest(ref) == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder, "staging"]  # nothing opened beside it


def test_leftover_wal_files_found_at_opening_are_left_alone(tmp_path) -> None:
    backend, ref = _store(tmp_path)
    con = sqlite3.connect(f"file:{db_path(ref)}?mode=ro", uri=True)  # a reader that leaves them
    con.execute("SELECT count(*) FROM t").fetchall()
    con.close()
    before = _listing(ref)
    assert before == ["dataset.sqlite", "dataset.sqlite-shm", "dataset.sqlite-wal"]
    _read(backend, ref)
    assert _listing(ref) == before


def test_a_writer_opened_meanwhile_in_this_process_is_unaffected(tmp_path) -> None:
    backend, ref = _store(tmp_path)
    reader = backend.open_store(ref, read_only=True)
    reader.read_table("t").read_all()
    writer = backend.open_store(ref)
    writer.read_table("t").read_all()
    reader.close()  # the writer holds the database: the WAL files stay
    assert _listing(ref) == ["dataset.sqlite", "dataset.sqlite-shm", "dataset.sqlite-wal"]
    writer.write_table("more", MORE.schema, MORE.to_batches())
    assert writer.read_table("more").read_all().equals(MORE)
    writer.close()  # the last connection: SQLite checkpoints and removes them
    assert _listing(ref) == ["dataset.sqlite"]
    with backend.open_store(ref, read_only=True) as store:
        assert store.read_table("more").read_all().equals(MORE)
        assert store.read_table("t").read_all().equals(TABLE)
    assert _listing(ref) == ["dataset.sqlite"]


def test_a_sqlite3_module_connection_of_this_process_keeps_its_files(tmp_path) -> None:
    """The standard ``sqlite3`` module is another SQLite library: its connection is seen
    through the process's open files, and the reader leaves the WAL files to it."""
    backend, ref = _store(tmp_path)
    reader = backend.open_store(ref, read_only=True)
    other = sqlite3.connect(db_path(ref))
    try:
        assert other.execute("SELECT count(*) FROM t").fetchone() == (3,)
        reader.close()
        assert _listing(ref) == ["dataset.sqlite", "dataset.sqlite-shm", "dataset.sqlite-wal"]
        other.execute("CREATE TABLE extra (v INTEGER)")
        other.execute("INSERT INTO extra VALUES (7)")
        other.commit()
        assert other.execute("SELECT v FROM extra").fetchall() == [(7,)]
    finally:
        other.close()
    assert _listing(ref) == ["dataset.sqlite"]


WRITER = """
    import sqlite3, sys
    con = sqlite3.connect(sys.argv[1], isolation_level=None)
    con.execute("SELECT count(*) FROM sqlite_master").fetchall()
    print("open", flush=True)
    sys.stdin.readline()
    con.execute("CREATE TABLE extra (v INTEGER)")
    con.executemany("INSERT INTO extra VALUES (?)", [(i,) for i in range(1000)])
    print(con.execute("SELECT count(*) FROM extra").fetchone()[0], flush=True)
    sys.stdin.readline()
    con.close()
"""


def test_a_writer_in_another_process_is_unaffected(tmp_path) -> None:
    backend, ref = _store(tmp_path)
    reader = backend.open_store(ref, read_only=True)
    reader.read_table("t").read_all()
    writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(WRITER), str(db_path(ref))],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "open"
        reader.close()  # the other process holds the database: the WAL files stay
        assert _listing(ref) == ["dataset.sqlite", "dataset.sqlite-shm", "dataset.sqlite-wal"]
        writer.stdin.write("\n")
        writer.stdin.flush()
        assert writer.stdout.readline().strip() == "1000"
        with backend.open_store(ref, read_only=True) as store:  # reads the writer's WAL
            assert store.execute_sql("SELECT count(*) FROM extra").column(0).to_pylist() == [1000]
        writer.stdin.write("\n")
        writer.stdin.flush()
        assert writer.wait(timeout=60) == 0
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert _listing(ref) == ["dataset.sqlite"]
    _read(backend, ref)
    assert _listing(ref) == ["dataset.sqlite"]
