"""Fixtures of the legacy plugin's tests: an isolated home, a writable copy of the real
MDM 1.0.6 fixture, and subprocess runs of MDM (for settings the plugin manager caches)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO.parent / "shared" / "fixtures"


@pytest.fixture
def use_home(monkeypatch):
    """``use_home(path)``: make ``path`` the MDM home of the test (MDM_HOME_DIR), with the
    caller's other MDM_* settings removed; returns ``path``."""

    from mdm_core.testing.home import use_home as use

    return lambda path: use(monkeypatch, path)


@pytest.fixture
def home(tmp_path, use_home) -> Path:
    """An empty MDM home, set as MDM_HOME_DIR; MDM_* settings of the caller removed."""
    path = tmp_path / "home"
    path.mkdir()
    return use_home(path)


@pytest.fixture
def client(home):
    from mdm_core.datasets.client import MDMClient

    return MDMClient()


@pytest.fixture
def legacy(tmp_path) -> Path:
    """A writable copy of the MDM 1.0.6 fixture (``home/`` and ``data/``)."""
    source = FIXTURES / "legacy-mdm-1.0.6"
    if not source.is_dir():
        pytest.fail(f"fixture {source} is missing")
    target = tmp_path / "legacy"
    shutil.copytree(source, target)
    for path in target.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


@pytest.fixture
def penguins_1x(home, legacy) -> Path:
    """The home with the fixture's 1.x ``penguins.py`` in its custom-features folder;
    returns the Kaggle-style penguins data folder to register."""
    folder = home / "config" / "custom_features"
    folder.mkdir(parents=True)
    shutil.copy(legacy / "home" / "config" / "custom_features" / "penguins.py", folder / "penguins.py")
    return legacy / "data" / "penguins"


@pytest.fixture
def mdm_subprocess(home):
    """Run ``mdm ARGS`` (a list) or a Python snippet (``code=``) in a fresh process with
    this home and extra environment ``env``; returns the CompletedProcess."""

    def run(args: list[str] | None = None, *, code: str | None = None, env: dict | None = None):
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("MDM_") or k == "MDM_STRICT_PLUGINS"}
        full_env.update({"MDM_HOME_DIR": str(home), **(env or {})})
        if code is not None:
            command = [sys.executable, "-c", code]
        else:
            command = [str(Path(sys.executable).with_name("mdm")), *(args or [])]
        return subprocess.run(command, capture_output=True, text=True, env=full_env, timeout=300)

    return run


# -- PostgreSQL 1.x datasets, made the way 1.x made them ---------------------------------
def _sql_type(series) -> str:
    """The column type pandas ``to_sql`` (SQLAlchemy) gave a pandas dtype."""
    return {"i": "BIGINT", "f": "FLOAT(53)", "b": "BOOLEAN", "M": "TIMESTAMP WITHOUT TIME ZONE"}.get(
        series.dtype.kind, "TEXT")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _write_like_to_sql(conn, table: str, frame, types: dict[str, str] | None = None) -> None:
    """Create ``table`` with the column types ``to_sql`` would give ``frame`` (``types``
    overrides some) and copy its rows in (NaN and NaT as NULL)."""
    import math

    import pandas as pd

    declared = {c: (types or {}).get(c) or _sql_type(frame[c]) for c in frame.columns}
    columns = ", ".join(f"{_quoted(c)} {declared[c]}" for c in frame.columns)
    conn.execute(f"CREATE TABLE {_quoted(table)} ({columns})")
    names = ", ".join(_quoted(c) for c in frame.columns)
    with conn.cursor().copy(f"COPY {_quoted(table)} ({names}) FROM STDIN") as copy:
        for row in frame.itertuples(index=False):
            copy.write_row([None if (isinstance(v, float) and math.isnan(v)) or v is pd.NaT else
                            (v.item() if hasattr(v, "item") else v) for v in row])


@pytest.fixture(scope="session")
def write_like_to_sql():
    """``write(conn, table, frame, types=None)``: a table written as 1.x's ``to_sql`` did."""
    return _write_like_to_sql


@pytest.fixture(scope="session")
def server() -> dict:
    """The test PostgreSQL server: its DSN and the DSN's parts."""
    from psycopg.conninfo import conninfo_to_dict

    from mdm_core.testing.postgres import require_server

    dsn = require_server()
    return {"dsn": dsn, **conninfo_to_dict(dsn)}
