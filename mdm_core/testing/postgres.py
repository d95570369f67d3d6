"""A real PostgreSQL server for tests: found, or started, never mocked.

:func:`find_server` resolves a DSN, in this order:

1. ``MDM_TEST_POSTGRES_DSN`` when set (used as is; an unreachable server is an error);
2. a server on ``127.0.0.1:5432`` as user ``postgres`` (trust or ``PGPASSWORD``/.pgpass);
3. a throwaway cluster made with ``initdb``/``pg_ctl`` (PATH or
   ``/usr/lib/postgresql/*/bin``) in a temporary folder on a free port, stopped at exit;
4. otherwise ``pytest.skip`` with the reason, except under ``CI=true``, where it fails.

The ``postgres_dsn`` fixture (session scope) then creates an isolated database
``mdm_test_<random>`` for the run (falling back to the server's database when the role
may not create databases; stores use unique schema names anyway) and drops it afterwards.
Import the fixture into a test module (``from mdm_core.testing.postgres import
postgres_dsn``) and mark PostgreSQL tests with ``@pytest.mark.postgres``.
"""

from __future__ import annotations

import atexit
import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

_PASSWORD = re.compile(r"(password\s*=\s*|://[^:/@\s]*:)[^@\s]*")
DEFAULT_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"


class NoServer(Exception):
    """No PostgreSQL server could be found or started; the message says why."""


def _connects(dsn: str) -> str | None:
    """None if ``dsn`` accepts a connection, else the (password-free) reason."""
    import psycopg

    try:
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except psycopg.Error as exc:
        text = _PASSWORD.sub(r"\1***", str(exc)).strip()
        return text.splitlines()[0] if text else type(exc).__name__


def _pg_bin(tool: str) -> str | None:
    found = shutil.which(tool)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), reverse=True)
    return candidates[0] if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_throwaway_cluster() -> str:
    """initdb + pg_ctl start a private cluster (trust auth, 127.0.0.1 only); return its DSN.
    The cluster is stopped and deleted when the process exits."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        raise NoServer("initdb/pg_ctl not found (PATH, /usr/lib/postgresql/*/bin)")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        raise NoServer("initdb refuses to run as root")
    root = Path(tempfile.mkdtemp(prefix="mdm-pg-"))
    data, port = root / "data", _free_port()
    try:
        subprocess.run([initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"],
                       check=True, capture_output=True, timeout=120)
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
        subprocess.run([pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"],
                       check=True, capture_output=True, timeout=120)
    except (subprocess.SubprocessError, OSError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        raise NoServer(f"could not start a throwaway cluster: {exc}") from None

    def stop() -> None:
        subprocess.run([pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(stop)
    return f"host=127.0.0.1 port={port} user=postgres dbname=postgres connect_timeout=3"


@cache
def find_server() -> str:
    """The DSN of a reachable server (see the module doc); NoServer if there is none."""
    explicit = os.environ.get("MDM_TEST_POSTGRES_DSN")
    if explicit:
        reason = _connects(explicit)
        if reason:
            raise NoServer(f"MDM_TEST_POSTGRES_DSN does not accept connections: {reason}")
        return explicit
    reasons = []
    reason = _connects(DEFAULT_DSN)
    if reason is None:
        return DEFAULT_DSN
    reasons.append(f"127.0.0.1:5432: {reason}")
    try:
        return start_throwaway_cluster()
    except NoServer as exc:
        reasons.append(str(exc))
    raise NoServer("no PostgreSQL server for tests (" + "; ".join(reasons) + "); set MDM_TEST_POSTGRES_DSN")


def require_server() -> str:
    """:func:`find_server`, or skip the test (fail under ``CI=true``)."""
    try:
        return find_server()
    except NoServer as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(str(exc))


def _with_dbname(dsn: str, dbname: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(dsn)
    params["dbname"] = dbname
    return make_conninfo(**params)


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """DSN of an isolated database for this test session, dropped afterwards."""
    import psycopg
    from psycopg import sql

    server = require_server()
    name = f"mdm_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.errors.InsufficientPrivilege:
        yield server  # no CREATEDB: stores still use unique schemas, dropped by each test
        return
    try:
        yield _with_dbname(server, name)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
