"""A dataset whose ``dataset.yaml`` is unreadable never hides the others and can be
replaced or removed with its store, on every backend: ``dataset list`` shows it as
broken (naming ``mdm dataset repair``), ``register --force`` replaces it, ``remove``
drops it, and a removal killed half-way is finished by the next command."""

from __future__ import annotations

import json
import os

from mdm_core.datasets import journal
from mdm_core.datasets.handover import REMOVED_DIR

BROKEN_TAIL = "oops: [unclosed\n"  # YAML no longer parses; backend and store lines stay legible


def _break(home, name: str) -> None:
    path = home / "datasets" / name / "dataset.yaml"
    path.write_text(path.read_text(encoding="utf-8") + BROKEN_TAIL, encoding="utf-8")


def _leftovers(home) -> list[str]:
    staging = home / "datasets" / ".staging"
    return sorted(p.name for p in staging.iterdir()) if staging.is_dir() else []


def test_list_shows_a_broken_dataset_beside_the_others(any_backend, home, client, cli, penguins):
    client.register_dataset("good", penguins, generate_features=False)
    client.register_dataset("bad", penguins, generate_features=False)
    _break(home, "bad")

    result = cli("dataset", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    listed = {d["name"]: d for d in json.loads(result.stdout)}
    assert listed["good"]["status"] == "ok" and listed["good"]["tables"]
    bad = listed["bad"]
    assert bad["status"] == "broken" and bad["tables"] == [] and bad["backend"] == any_backend.name
    assert "dataset.yaml" in bad["problems"][0] and "mdm dataset repair bad" in bad["problems"][0]

    text = cli("dataset", "list")
    assert text.exit_code == 0 and "bad: broken:" in text.stdout and "new BROKEN" in text.stdout

    info = cli("dataset", "info", "bad")
    assert info.exit_code == 1 and "mdm dataset repair bad" in info.output


def test_register_force_replaces_a_broken_dataset_and_its_store(any_backend, home, client, penguins):
    first = client.register_dataset("bad", penguins, generate_features=False)
    schemas = any_backend.schemas()
    _break(home, "bad")

    again = client.register_dataset("bad", penguins, generate_features=False, force=True)
    assert again.status == "ok" and client.load_arrow("bad", "train").num_rows == first.table("train").row_count
    after = any_backend.schemas()
    assert len(after) == len(schemas) and (not schemas or after != schemas)  # the old schema was dropped
    assert _leftovers(home) == []


def test_remove_drops_a_broken_dataset_and_its_store(any_backend, home, client, cli, penguins):
    client.register_dataset("bad", penguins, generate_features=False)
    _break(home, "bad")

    dry = cli("dataset", "remove", "bad", "--dry-run")
    assert dry.exit_code == 0 and "metadata unreadable" in dry.stdout
    result = cli("dataset", "remove", "bad", "--force")
    assert result.exit_code == 0, result.output
    assert not (home / "datasets" / "bad").exists() and _leftovers(home) == []
    assert any_backend.schemas() == []
    assert [d.name for d in client.list_datasets()] == []


def test_an_interrupted_removal_of_a_broken_dataset_is_finished(home, client, penguins):
    client.register_dataset("bad", penguins, backend="duckdb", generate_features=False)
    _break(home, "bad")
    # the state a removal killed right after setting the folder aside leaves behind
    operation = journal.begin(home / "datasets", "bad", "remove", "unknown")
    os.replace(home / "datasets" / "bad", operation.file(REMOVED_DIR))
    assert (operation.file(REMOVED_DIR) / "dataset.duckdb").is_file()

    assert client.list_datasets() == []  # the next command finishes it
    assert _leftovers(home) == [] and not operation.folder.exists()


def test_a_broken_postgresql_dataset_is_kept_while_its_server_is_unreachable(home, cli, penguins, pg_database,
                                                                           monkeypatch):
    """Its store may still exist: nothing is removed until the server answers."""
    import socket

    from mdm_core.datasets.client import MDMClient

    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", pg_database)  # the test's own database, dropped after it
    client = MDMClient()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    info = client.register_dataset("bad", penguins, backend="postgresql", generate_features=False)
    path = home / "datasets" / "bad" / "dataset.yaml"
    port = info.store["port"]
    path.write_text(path.read_text(encoding="utf-8").replace(f"port: '{port}'", f"port: '{closed}'") + BROKEN_TAIL,
                    encoding="utf-8")

    result = cli("dataset", "remove", "bad", "--force")
    assert result.exit_code == 1 and path.is_file() and _leftovers(home) == []
