"""Registrations and removals killed with SIGKILL at each step of the hand-over, on every
backend: the next command finishes or undoes the work, never lists a dataset that cannot
load, and leaves no staging folder or orphan PostgreSQL schema.

Each kill is a real SIGKILL of a real ``mdm`` process; a test picks *when* by making one
step of the hand-over kill its own process (the step is wrapped in the child only).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

MDM = str(Path(sys.executable).with_name("mdm"))

KILL_IN_CHILD = """
import os, signal, sys
import mdm_core.datasets.handover as handover
import mdm_core.datasets.registration as registration
from mdm_core.datasets.catalog import Catalog
from mdm_core.datasets.client import MDMClient

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

def killing_backend(make):
    def wrapped(*args):
        backend = make(*args)
        setattr(backend, STEP, die)
        return backend
    return wrapped

if STEP == "save_metadata":
    real_save = Catalog.save
    def save(self, info, folder=None, *, file_name="dataset.yaml"):
        if folder is None:
            die()
        return real_save(self, info, folder, file_name=file_name)
    Catalog.save = save
elif STEP == "move_store":
    registration.get_backend = killing_backend(registration.get_backend)
elif STEP == "drop_store":
    handover.backend_at = killing_backend(handover.backend_at)

client = MDMClient()
if ACTION == "remove":
    client.remove_dataset(NAME)
else:
    client.register_dataset(NAME, PATH, force=True, generate_features=False)
"""


def _csv(path: Path, rows: int, offset: int = 0) -> Path:
    path.write_text("x,y\n" + "".join(f"{i},{i + offset}\n" for i in range(rows)))
    return path


def _killed(step: str, action: str, name: str, path: Path | None = None) -> None:
    code = f"STEP = {step!r}\nACTION = {action!r}\nNAME = {name!r}\nPATH = {str(path)!r}\n" + KILL_IN_CHILD
    proc = subprocess.run([sys.executable, "-c", code], env=os.environ.copy(), capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr


def _clean(home: Path, backend, datasets: dict[str, int]) -> None:
    """The home holds exactly ``datasets`` (name -> rows), each loadable, nothing else."""
    from mdm_core.datasets.client import MDMClient

    client = MDMClient()
    listed = {info.name: info for info in client.list_datasets()}
    assert sorted(listed) == sorted(datasets)
    for name, rows in datasets.items():
        assert len(client.load_dataset(name)) == rows
    assert not (home / "datasets" / ".staging").exists()
    if backend.dsn is not None:
        keys = sorted(info.store["key"] for info in listed.values())
        assert backend.schemas() == [f"mdm_{key}" for key in keys]


def test_kill_before_metadata_is_finished_by_the_next_command(any_backend, home, tmp_path):
    _killed("save_metadata", "register", "fresh", _csv(tmp_path / "a.csv", 30))
    # The store was in place: listing finishes the registration instead of failing later.
    _clean(home, any_backend, {"fresh": 30})


def test_kill_after_force_set_aside_restores_the_old_dataset(any_backend, home, client, tmp_path):
    client.register_dataset("kept", _csv(tmp_path / "old.csv", 10), generate_features=False)
    _killed("move_store", "register", "kept", _csv(tmp_path / "new.csv", 20))
    _clean(home, any_backend, {"kept": 10})


def test_kill_after_force_moved_the_new_store_keeps_the_new_dataset(any_backend, home, client, tmp_path):
    client.register_dataset("swapped", _csv(tmp_path / "old.csv", 10), generate_features=False)
    _killed("save_metadata", "register", "swapped", _csv(tmp_path / "new.csv", 20))
    _clean(home, any_backend, {"swapped": 20})


def test_kill_during_remove_is_finished(any_backend, home, client, tmp_path):
    client.register_dataset("gone", _csv(tmp_path / "g.csv", 10), generate_features=False)
    client.register_dataset("stays", _csv(tmp_path / "s.csv", 5), generate_features=False)
    _killed("drop_store", "remove", "gone")
    _clean(home, any_backend, {"stays": 5})
    assert not (home / "datasets" / "gone").exists()


@pytest.mark.parametrize("command", [["dataset", "list"], ["dataset", "info", "other"],
                                     ["dataset", "remove", "other", "--force"]])
def test_every_command_recovers(home, client, tmp_path, run_mdm, command):
    client.register_dataset("other", _csv(tmp_path / "o.csv", 3), generate_features=False)
    client.register_dataset("victim", _csv(tmp_path / "v.csv", 4), generate_features=False)
    _killed("move_store", "register", "victim", _csv(tmp_path / "n.csv", 8))
    assert (home / "datasets" / ".staging").exists()
    result = run_mdm(*command)
    assert result.returncode == 0, result.stderr
    assert not (home / "datasets" / ".staging").exists()
    assert (home / "datasets" / "victim" / "dataset.yaml").is_file()


@pytest.mark.slow
def test_sigkill_during_ingest_leaves_nothing_listed(home, client, flights_csv):
    proc = subprocess.Popen([MDM, "dataset", "register", "flights", str(flights_csv), "--no-features"],
                            env={**os.environ, "MDM_PERFORMANCE_BATCH_SIZE": "5000"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    staging = home / "datasets" / ".staging"
    deadline = time.monotonic() + 60
    while not any(staging.glob("*/dataset.sqlite")) and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert client.list_datasets() == []
    assert not staging.exists()


@pytest.mark.slow
def test_random_kills_during_force_never_lose_the_dataset(any_backend, home, client, tmp_path):
    """SIGKILL at random moments of ``register --force``: after each, the dataset is
    listed and loads with either its old or its new rows, and nothing is left over."""
    sizes = [2_000, 3_000]
    files = [_csv(tmp_path / f"{n}.csv", n, offset=n) for n in sizes]
    client.register_dataset("target", files[0], generate_features=False)
    rng = random.Random(8)
    started = time.monotonic()
    subprocess.run([MDM, "dataset", "register", "target", str(files[1]), "--force", "--no-features"],
                   env=os.environ.copy(), check=True, capture_output=True)
    full = time.monotonic() - started
    for attempt in range(8):
        proc = subprocess.Popen([MDM, "dataset", "register", "target", str(files[attempt % 2]), "--force",
                                 "--no-features"], env=os.environ.copy(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 1.0) * full)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        infos = client.list_datasets()
        assert [i.name for i in infos] == ["target"]
        assert len(client.load_dataset("target")) in sizes
        _clean(home, any_backend, {"target": infos[0].tables[0].row_count})
