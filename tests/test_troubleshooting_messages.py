"""Every message quoted in docs/troubleshooting.md is what MDM prints: each symptom is
triggered for real and the printed ``Error:`` line must match the quoted text (words in
angle brackets stand for any value). A message added to the page without a trigger here,
or a trigger whose message left the page, fails too."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from mdm_core.datasets.client import MDMClient
from mdm_core.testing.privileges import without_root_powers

DOC = Path(__file__).resolve().parents[1] / "docs" / "troubleshooting.md"
_QUOTED = re.compile(r"<!-- message: (\S+) -->\n```text\n(.+?)\n```", re.S)
_PLACEHOLDER = re.compile(r"<[a-z][a-z _-]*>")
#: The CLI prints an MDMError as this prefix and the error's sentence.
PREFIX = "Error: "


def quoted_messages() -> dict[str, str]:
    return dict(_QUOTED.findall(DOC.read_text(encoding="utf-8")))


def pattern(quoted: str) -> re.Pattern[str]:
    """``quoted`` as a regex: the text verbatim, each ``<placeholder>`` any non-empty text."""
    parts = _PLACEHOLDER.split(quoted)
    return re.compile(".+?".join(re.escape(p) for p in parts))


def assert_documented(symptom: str, printed: str) -> None:
    """``printed`` (a command's stderr, or an error's sentence) holds exactly one ``Error:``
    line, and it is the message the page quotes for ``symptom``."""
    lines = [line for line in printed.splitlines() if line.startswith(PREFIX)]
    assert len(lines) == 1, printed
    quoted = quoted_messages()[symptom]
    assert pattern(quoted).fullmatch(lines[0]), f"printed:\n{lines[0]}\ndocumented:\n{quoted}"



@pytest.fixture
def pen(home, penguins):
    MDMClient().register_dataset("pen", penguins, target="species", generate_features=False, backend="sqlite")
    return home


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_every_quoted_message_parses():
    quoted = quoted_messages()
    assert len(quoted) >= 14 and all(m.startswith(PREFIX) and "\n" not in m for m in quoted.values())


def test_sqlite_locked(pen, cli, monkeypatch):
    from mdm_plugin_sqlite import retry

    monkeypatch.setattr(retry, "RETRY_SECONDS", 0.2)
    monkeypatch.setenv("MDM_DATABASE_SQLITE_BUSY_TIMEOUT", "50")
    # Another process holds the write lock (POSIX locks never conflict within one process).
    script = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
              "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", script, str(pen / "datasets" / "pen" / "dataset.sqlite")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = cli("features", "regenerate", "pen", "--force")
    finally:
        holder.communicate("", timeout=30)
    assert result.exit_code == 1
    assert_documented("sqlite-locked", result.stderr)
    assert "database.sqlite.busy_timeout (now 50 ms)" in result.stderr


@pytest.mark.postgres
def test_pool_exhausted():
    from mdm_plugin_postgresql.backend import PostgreSQLBackend
    from mdm_plugin_postgresql.settings import PostgreSQLSettings

    from mdm_core.errors import StorageError
    from mdm_core.testing.postgres import require_server

    backend = PostgreSQLBackend(PostgreSQLSettings(dsn=require_server(), pool_size=1, max_overflow=0,
                                                   pool_timeout=0.3), timeout=5)
    held = backend.pool.getconn()
    try:
        with pytest.raises(StorageError) as info:
            backend.query("SELECT 1")
    finally:
        backend.pool.putconn(held)
        backend.close()
    assert_documented("pool-exhausted", PREFIX + str(info.value))


def test_pg_unreachable(home, cli, penguins, monkeypatch):
    port = _closed_port()
    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_HOST", "127.0.0.1")
    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_PORT", str(port))
    monkeypatch.setenv("MDM_DATABASE_CONNECTION_TIMEOUT", "3")
    result = cli("dataset", "register", "pen", str(penguins), "--backend", "postgresql", "--no-features")
    assert result.exit_code == 1
    assert_documented("pg-unreachable", result.stderr)
    assert f"127.0.0.1:{port}" in result.stderr and "(now 3 s)" in result.stderr


def test_duckdb_memory(home, cli, penguins, monkeypatch):
    MDMClient().register_dataset("pen", penguins, generate_features=False, backend="duckdb")
    monkeypatch.setenv("MDM_DATABASE_DUCKDB_MEMORY_LIMIT", "10MB")
    monkeypatch.setenv("MDM_DATABASE_DUCKDB_THREADS", "1")
    result = cli("dataset", "query", "pen", "SELECT len(list(md5(i::VARCHAR))) AS n FROM range(2000000) t(i)")
    assert result.exit_code == 1
    assert_documented("duckdb-memory", result.stderr)
    assert "memory_limit (now 10MB)" in result.stderr


def test_no_such_table(pen, cli):
    result = cli("dataset", "query", "pen", 'SELECT * FROM "trian"')
    assert result.exit_code == 1
    assert_documented("no-such-table", result.stderr)
    assert "(sample_submission, test, train)" in result.stderr


def test_memory():
    from mdm_core.errors import OutOfMemory
    from mdm_core.memory import retry_on_memory_error

    attempts: list[int] = []

    def export(rows: int) -> bytearray:  # a real MemoryError: the allocation is refused
        attempts.append(rows)
        return bytearray(rows * 2**40)

    with pytest.raises(OutOfMemory) as info:
        retry_on_memory_error(export, 10_000, what="Exporting table 'train'", batch_size=10_000)
    assert attempts == [10_000, 5_000]
    assert_documented("memory", PREFIX + str(info.value))


def test_type_mismatch(home, cli, tmp_path):
    data = tmp_path / "prices.csv"
    data.write_text("id,price\n1,3.5\n2,cheap\n")
    result = cli("dataset", "register", "prices", str(data), "--type", "price=numeric", "--no-features")
    assert result.exit_code == 1
    assert_documented("type-mismatch", result.stderr)
    assert "'cheap'" in result.stderr


def test_metadata(pen, cli):
    (pen / "datasets" / "pen" / "dataset.yaml").write_text("name: pen\ntables: [\n")
    result = cli("dataset", "info", "pen")
    assert result.exit_code == 1
    assert_documented("metadata", result.stderr)
    assert "`mdm dataset repair pen`" in result.stderr


def _custom_features(home: Path, text: str) -> None:
    folder = home / "config" / "custom_features"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pen.py").write_text(text)


def test_feature_failed(pen, cli, monkeypatch):
    _custom_features(pen, "from mdm_core.features import custom_feature\n\n"
                          "@custom_feature(input_columns=['bill_length_mm'])\n"
                          "def ratio(df):\n    raise ZeroDivisionError('division by zero')\n")
    monkeypatch.setenv("MDM_FEATURES_SKIP_ON_ERROR", "false")
    result = cli("features", "regenerate", "pen", "--force")
    assert result.exit_code == 1
    assert_documented("feature-failed", result.stderr)
    assert "'ratio'" in result.stderr


def test_custom_not_loading(pen, cli, monkeypatch):
    _custom_features(pen, "def broken(:\n")
    monkeypatch.setenv("MDM_FEATURES_SKIP_ON_ERROR", "false")
    result = cli("features", "regenerate", "pen", "--force")
    assert result.exit_code == 1
    assert_documented("custom-not-loading", result.stderr)
    assert "line 1" in result.stderr


@pytest.mark.slow  # a second command waits 5 seconds for the lock
def test_busy(pen, cli):
    from mdm_core.datasets.locks import dataset_lock

    with dataset_lock(pen / "datasets", "pen", "register"):
        result = cli("dataset", "update", "pen", "--description", "x")
    assert result.exit_code == 1
    assert_documented("busy", result.stderr)
    assert f"(pid {os.getpid()}, register since " in result.stderr


def test_permission(home, penguins):
    """A home the user may not write (root is made an ordinary user by dropping the
    capability that lets it write anywhere)."""
    mdm = str(Path(sys.executable).with_name("mdm"))
    command = without_root_powers([mdm, "dataset", "register", "pen", str(penguins), "--no-features"])
    home.chmod(0o555)
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=dict(os.environ))
    finally:
        home.chmod(0o755)
    assert result.returncode == 1
    assert_documented("permission", result.stderr)
    assert str(home) in result.stderr


def test_config_yaml(home, cli):
    (home / "mdm.yaml").write_text("database:\n  default_backend: sqlite\n  bogus: [1,\n")
    result = cli("dataset", "list")
    assert result.exit_code == 1
    assert_documented("config-yaml", result.stderr)
    assert "line 4" in result.stderr


def test_config_type(home, cli):
    (home / "mdm.yaml").write_text("performance:\n  batch_size: lots\n")
    result = cli("dataset", "list")
    assert result.exit_code == 1
    assert_documented("config-type", result.stderr)
    assert "mdm.yaml line 2: key 'performance.batch_size'" in result.stderr


def test_config_unknown(home, cli):
    (home / "mdm.yaml").write_text("database:\n  sqlite:\n    busy_timout: 3\n")
    result = cli("config", "validate")
    assert result.exit_code == 1
    assert_documented("config-unknown", result.stderr)
    assert "'database.sqlite.busy_timout'" in result.stderr


def test_every_quoted_message_has_a_trigger():
    """Each message on the page is checked by a test of this file (an ``assert_documented``
    call naming it), and each such call names a message on the page."""
    source = Path(__file__).read_text(encoding="utf-8")
    triggered = set(re.findall(r'assert_documented\(\s*"([a-z-]+)"', source))
    assert triggered == set(quoted_messages())
