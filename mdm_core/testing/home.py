"""An MDM home for a test: the environment points at it and nothing else of the caller's."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

#: Variables a test keeps from the caller: where the test server is, and strict plugin loading.
KEPT = frozenset({"MDM_TEST_POSTGRES_DSN", "MDM_STRICT_PLUGINS"})


def use_home(monkeypatch: Any, path: Path) -> Path:
    """Make ``path`` the MDM home (``MDM_HOME_DIR``) for the rest of the test, with every
    other ``MDM_*`` variable of the caller removed (``monkeypatch`` undoes both); returns
    ``path``."""
    for key in list(os.environ):
        if key.startswith("MDM_") and key not in KEPT:
            monkeypatch.delenv(key)
    monkeypatch.setenv("MDM_HOME_DIR", str(path))
    return path
