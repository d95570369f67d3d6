"""Repository-wide test guard: the shared fixtures beside the checkout are read, never
written. A test session that changes a byte of them (a stray ``-wal`` next to a 1.x
SQLite file opened without ``immutable=1``, an edited YAML) fails, naming the files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

SHARED_FIXTURES = Path(__file__).resolve().parent.parent / "shared" / "fixtures"
_BEFORE = pytest.StashKey[dict]()


def _snapshot() -> dict[str, str]:
    if not SHARED_FIXTURES.is_dir():
        return {}
    return {str(p.relative_to(SHARED_FIXTURES)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(SHARED_FIXTURES.rglob("*")) if p.is_file()}


def _controller(config: pytest.Config) -> bool:
    """True in the process that runs the whole session (not in an xdist worker)."""
    return not hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    if _controller(session.config):
        session.config.stash[_BEFORE] = _snapshot()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _controller(session.config) or _BEFORE not in session.config.stash:
        return
    before, after = session.config.stash[_BEFORE], _snapshot()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if changed:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = f"The tests changed the shared fixtures in {SHARED_FIXTURES}: {', '.join(changed)}"
        if reporter is not None:
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
