"""SQLite under concurrent use: 8 readers and 2 writers on one dataset store, plus a
registration of another dataset meanwhile. No "database is locked" reaches the user and
no write is lost."""

from __future__ import annotations

import threading

import pyarrow as pa
import pytest

from mdm_core.datasets.client import MDMClient

READERS = 8
WRITERS = 2
WRITES_EACH = 12


def _table(writer: int, k: int) -> pa.Table:
    rows = 50 + 10 * k
    return pa.table({"writer": pa.array([writer] * rows, pa.int64()), "k": pa.array(range(rows), pa.int64())})


@pytest.mark.slow
@pytest.mark.parametrize("busy_timeout", ["10000", "0"], ids=["default-busy-timeout", "no-busy-timeout"])
def test_readers_and_writers_share_a_sqlite_store(home, penguins, tmp_path, monkeypatch, busy_timeout) -> None:
    """With ``busy_timeout`` 0 SQLite returns "locked" at once: the plugin's retry absorbs it."""
    monkeypatch.setenv("MDM_DATABASE_SQLITE_BUSY_TIMEOUT", busy_timeout)
    MDMClient().register_dataset("pen", penguins, target="species", generate_features=False, backend="sqlite")
    other = tmp_path / "other.csv"
    other.write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(500)))
    expected_rows = MDMClient().get_dataset_info("pen").table("train").row_count

    errors: list[BaseException] = []
    reads = [0] * READERS
    writers_done = threading.Event()

    def reader(index: int) -> None:
        client = MDMClient()
        try:
            while not writers_done.is_set():
                assert client.load_arrow("pen").num_rows == expected_rows
                count = client.query("pen", 'SELECT COUNT(*) AS n FROM "train"', as_arrow=True)
                assert count.column("n")[0].as_py() == expected_rows
                with client.open_store("pen") as store:
                    store.list_tables()
                reads[index] += 1
        except BaseException as exc:  # noqa: BLE001 - collected and re-raised by the test
            errors.append(exc)

    def writer(index: int) -> None:
        client = MDMClient()
        try:
            for k in range(WRITES_EACH):
                table = _table(index, k)
                with client.open_store("pen", read_only=False) as store:
                    store.write_table(f"w{index}_{k}", table.schema, table.to_batches(max_chunksize=20))
                    store.write_table(f"last_{index}", table.schema, table.to_batches(), replace=True)
                if index == 0 and k == WRITES_EACH // 2:
                    client.register_dataset("other", other, generate_features=False, backend="sqlite")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(READERS)]
    writer_threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads + writer_threads:
        thread.start()
    for thread in writer_threads:
        thread.join(timeout=120)
    writers_done.set()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, [str(e) for e in errors]
    assert all(n > 0 for n in reads), reads
    with MDMClient().open_store("pen") as store:
        tables = set(store.list_tables())
        for index in range(WRITERS):
            for k in range(WRITES_EACH):
                got = store.read_table(f"w{index}_{k}").read_all()
                assert got.equals(_table(index, k)), (index, k)
            assert store.row_count(f"last_{index}") == _table(index, WRITES_EACH - 1).num_rows
    assert {f"w{i}_{k}" for i in range(WRITERS) for k in range(WRITES_EACH)} <= tables
    assert MDMClient().load_arrow("other").num_rows == 500
