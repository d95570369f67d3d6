"""A registration killed with SIGKILL leaves no dataset, and the next run cleans up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


@pytest.mark.slow
def test_sigkill_during_ingest_leaves_nothing_listed_and_is_reclaimed(home, client, flights_csv, penguins):
    mdm = str(Path(sys.executable).with_name("mdm"))
    proc = subprocess.Popen([mdm, "dataset", "register", "flights", str(flights_csv), "--no-features"],
                            env={**os.environ, "MDM_PERFORMANCE_BATCH_SIZE": "5000"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    staging = home / "datasets" / ".staging"
    assert _wait_for(lambda: any(staging.glob("*/dataset.sqlite")))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert client.list_datasets() == []
    assert not client.dataset_exists("flights")
    assert any(staging.iterdir())  # the killed run's work is still there...

    client.register_dataset("penguins", penguins, generate_features=False)
    assert not staging.exists()  # ...until the next registration reclaims it
    assert [d.name for d in client.list_datasets()] == ["penguins"]


def test_dataset_set_aside_by_a_killed_force_is_restored(home, client, penguins, tmp_path):
    client.register_dataset("keep", penguins, generate_features=False)
    rows = len(client.load_dataset("keep"))
    code = (
        "import os, signal\n"
        "from mdm_core.config import load_settings\n"
        "from mdm_core.datasets.catalog import Catalog\n"
        "from mdm_core.datasets.registration import _set_aside\n"
        "settings = load_settings().settings\n"
        "_set_aside(Catalog(settings), 'keep', settings)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=os.environ.copy())
    assert proc.returncode == -signal.SIGKILL
    assert not client.dataset_exists("keep")  # killed between set-aside and commit

    (tmp_path / "other.csv").write_text("a\n1\n")
    client.register_dataset("other", tmp_path / "other.csv", generate_features=False)
    assert client.dataset_exists("keep")
    assert len(client.load_dataset("keep")) == rows
    assert not (home / "datasets" / ".staging").exists()
