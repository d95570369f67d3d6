"""An MDM home for a test: the environment points at it and nothing else of the caller's."""

from __future__ import annotations

import hashlib
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


#: Files a snapshot leaves out: the operations history records what was done to the home
#: (``mdm stats --operations``), it is not part of what an operation promises to keep.
SNAPSHOT_IGNORED = frozenset({"logs/operations.jsonl"})


def snapshot(root: Path, *, files_only: bool = False, ignored: frozenset[str] = SNAPSHOT_IGNORED) -> dict[str, str]:
    """The state of everything under ``root``: relative path -> sha256 of a file's bytes,
    or ``"dir"`` for a folder (folders left out with ``files_only``). Paths ending in one of
    ``ignored`` (a home anywhere under ``root``) are left out, and so is a folder that holds
    nothing but them."""

    def left_out(path: Path) -> bool:
        rel = path.relative_to(root).as_posix()
        return any(rel == end or rel.endswith("/" + end) for end in ignored)

    kept = [p for p in sorted(root.rglob("*")) if p.is_file() and not left_out(p)]
    state = {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in kept}
    if not files_only:
        for folder in (p for p in sorted(root.rglob("*")) if p.is_dir()):
            inside = [p for p in folder.rglob("*") if not left_out(p)]
            if inside or not any(folder.iterdir()):
                state[str(folder.relative_to(root))] = "dir"
    return dict(sorted(state.items()))
