"""One process at a time works on a dataset name: real concurrent ``mdm`` processes on
every backend, and the lock's refusal message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

MDM = str(Path(sys.executable).with_name("mdm"))


def _csv(path: Path, rows: int, offset: int = 0) -> Path:
    lines = ["id,value,label"] + [f"{i},{(i + offset) * 0.5},{'ab'[i % 2]}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([MDM, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ.copy())


def _finish(procs: list[subprocess.Popen]) -> list[tuple[int, str]]:
    return [(p.wait(timeout=300), p.communicate()[1]) for p in procs]


def _no_leftovers(home: Path, backend, name: str) -> None:
    assert not (home / "datasets" / ".staging").exists()
    schemas = backend.schemas()
    if backend.dsn is not None:
        assert len([s for s in schemas if s.startswith(f"mdm_{name}_")]) == 1, schemas
        assert not [s for s in schemas if s.startswith(("mdm_stage_", "mdm_old_"))], schemas


def test_two_registrations_of_one_name_one_wins(any_backend, home, client, tmp_path):
    data = _csv(tmp_path / "race.csv", 20_000)
    procs = [_start("dataset", "register", "race", str(data), "--no-features") for _ in range(2)]
    results = _finish(procs)
    assert sorted(code for code, _ in results) == [0, 1], results
    loser = next(err for code, err in results if code == 1)
    assert "already exists" in loser or "is busy" in loser, loser
    assert len(loser.strip().splitlines()) == 1
    assert len(client.load_dataset("race")) == 20_000
    _no_leftovers(home, any_backend, "race")


def test_concurrent_force_leaves_one_complete_dataset(any_backend, home, client, tmp_path):
    client.register_dataset("hot", _csv(tmp_path / "first.csv", 100), generate_features=False)
    sizes = [3_000, 6_000, 9_000]
    files = [_csv(tmp_path / f"f{n}.csv", n, offset=n) for n in sizes]
    procs = [_start("dataset", "register", "hot", str(f), "--force", "--no-features") for f in files]
    results = _finish(procs)
    for code, err in results:
        assert code == 0 or "is busy" in err, err
    winners = [n for n, (code, _) in zip(sizes, results, strict=True) if code == 0]
    assert winners
    assert len(client.load_dataset("hot")) in winners
    assert client.get_dataset_info("hot").tables[0].row_count == len(client.load_dataset("hot"))
    _no_leftovers(home, any_backend, "hot")


def test_busy_dataset_is_refused_with_the_holder_named(home, client, run_mdm, tmp_path):
    from mdm_core.datasets.locks import dataset_lock

    client.register_dataset("held", _csv(tmp_path / "h.csv", 10), generate_features=False)
    with dataset_lock(home / "datasets", "held", "register"):
        result = run_mdm("dataset", "remove", "held", "--force")
    assert result.returncode == 1
    assert f"Dataset 'held' is busy (pid {os.getpid()}, register since" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert len(client.load_dataset("held")) == 10  # nothing was removed


def test_force_on_duckdb_while_another_process_reads(home, client, tmp_path):
    client.register_dataset("shared", _csv(tmp_path / "a.csv", 50_000), backend="duckdb", generate_features=False)
    reader = subprocess.Popen(
        [sys.executable, "-c",
         "import sys\n"
         "from mdm_core.datasets.client import MDMClient\n"
         "batches = MDMClient().iter_batches('shared', batch_size=1000)\n"
         "first = next(batches)\n"
         "print('reading', flush=True)\n"
         "sys.stdin.readline()\n"
         "print(first.num_rows + sum(b.num_rows for b in batches), flush=True)\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
    )
    try:
        assert reader.stdout.readline().strip() == "reading", reader.stderr.read()
        result = subprocess.run([MDM, "dataset", "register", "shared", str(_csv(tmp_path / "b.csv", 70)),
                                 "--force", "--backend", "duckdb", "--no-features"],
                                capture_output=True, text=True, env=os.environ.copy())
        assert result.returncode == 0, result.stderr
        out, err = reader.communicate("\n", timeout=60)
        assert reader.returncode == 0, err
        assert out.strip().splitlines()[-1] == "50000"  # the reader finished on the old data
    finally:
        reader.kill()
    assert len(client.load_dataset("shared")) == 70
    assert not (home / "datasets" / ".staging").exists()


@pytest.mark.parametrize("operation", ["remove", "register"])
def test_dead_lock_holder_never_blocks(home, client, tmp_path, operation):
    client.register_dataset("orphaned", _csv(tmp_path / "o.csv", 5), generate_features=False)
    code = (
        "import os, signal\n"
        "from pathlib import Path\n"
        "from mdm_core.datasets.locks import dataset_lock\n"
        f"with dataset_lock(Path({str(home / 'datasets')!r}), 'orphaned', {operation!r}):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == -9
    client.register_dataset("orphaned", _csv(tmp_path / "p.csv", 7), generate_features=False, force=True)
    assert len(client.load_dataset("orphaned")) == 7
