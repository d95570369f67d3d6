"""PostgreSQL datasets against real servers: each dataset is reached where it was
registered, long names fit, and unreachable or silent servers fail once, with the cause,
leaving nothing behind."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

pytestmark = pytest.mark.postgres


def _csv(path: Path, rows: int) -> Path:
    path.write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(rows)))
    return path


def _schemas(dsn: str) -> list[str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'mdm\\_%'")]


def _leftovers(home: Path) -> list[str]:
    root = home / "datasets"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def test_every_operation_uses_the_database_the_dataset_was_registered_in(
    home, monkeypatch, tmp_path, pg_database, run_mdm
):
    from mdm_core.datasets.client import MDMClient

    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", pg_database)
    MDMClient().register_dataset("moved", _csv(tmp_path / "m.csv", 40), backend="postgresql",
                                 generate_features=False)
    assert len(_schemas(pg_database)) == 1
    elsewhere = make_conninfo(**{**conninfo_to_dict(pg_database), "dbname": "postgres"})
    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", elsewhere)  # the user's config changed since

    info = run_mdm("dataset", "info", "moved", "--format", "json")
    assert info.returncode == 0, info.stderr
    assert len(MDMClient().load_dataset("moved")) == 40
    removed = run_mdm("dataset", "remove", "moved", "--force")
    assert removed.returncode == 0, removed.stderr
    assert _schemas(pg_database) == []  # removed from where it lives, not from the current DSN


def test_remove_on_an_unreachable_recorded_server_says_so_and_changes_nothing(
    home, monkeypatch, tmp_path, pg_database, run_mdm
):
    from mdm_core.datasets.client import MDMClient
    from mdm_core.yamlio import dump_yaml, load_yaml

    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", pg_database)
    MDMClient().register_dataset("far", _csv(tmp_path / "f.csv", 5), backend="postgresql", generate_features=False)
    meta = home / "datasets" / "far" / "dataset.yaml"
    data = load_yaml(meta.read_text())
    data["store"]["port"] = _closed_port()
    meta.write_text(dump_yaml(data))

    result = run_mdm("dataset", "remove", "far", "--force")
    assert result.returncode == 1
    assert f":{data['store']['port']} " in result.stderr and "where the dataset was registered" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert meta.is_file() and len(_schemas(pg_database)) == 1
    assert _leftovers(home) == ["far", "far/dataset.yaml"]


def test_names_of_up_to_100_characters_work(home, monkeypatch, tmp_path, pg_database):
    from mdm_core.datasets.client import MDMClient

    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", pg_database)
    client = MDMClient()
    name = "a" * 100
    client.register_dataset(name, _csv(tmp_path / "n.csv", 12), backend="postgresql", generate_features=False)
    client.register_dataset(name, _csv(tmp_path / "n2.csv", 13), backend="postgresql", generate_features=False,
                            force=True)
    assert len(client.load_dataset(name)) == 13
    (schema,) = _schemas(pg_database)
    assert len(schema) <= 63
    client.remove_dataset(name)
    assert _schemas(pg_database) == []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_closed_port_fails_with_the_cause_and_leaves_nothing(home, tmp_path, run_mdm):
    port = _closed_port()
    env = {"MDM_DATABASE_POSTGRESQL_DSN": f"postgresql://postgres@127.0.0.1:{port}/postgres"}
    for _ in range(2):
        result = run_mdm("dataset", "register", "x", str(_csv(tmp_path / "x.csv", 3)), "--backend", "postgresql",
                         env=env)
        assert result.returncode == 1
        assert f"Cannot connect to PostgreSQL at 127.0.0.1:{port}" in result.stderr
        assert "refused" in result.stderr.lower()
        assert _leftovers(home) == []


class SilentServer:
    """Accepts TCP connections and never answers; counts them."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


def test_silent_server_costs_one_timeout_and_reports_it(home, tmp_path, run_mdm):
    server = SilentServer()
    try:
        env = {"MDM_DATABASE_POSTGRESQL_DSN": f"postgresql://postgres@127.0.0.1:{server.port}/postgres",
               "MDM_DATABASE_CONNECTION_TIMEOUT": "2"}
        result = run_mdm("dataset", "register", "x", str(_csv(tmp_path / "x.csv", 3)), "--backend", "postgresql",
                         env=env)
        assert result.returncode == 1
        assert f"Cannot connect to PostgreSQL at 127.0.0.1:{server.port}" in result.stderr
        assert "timeout" in result.stderr.lower()
        assert len(server.accepted) == 1  # one attempt: no retry, no second try by the cleanup
        assert _leftovers(home) == []
    finally:
        server.close()
