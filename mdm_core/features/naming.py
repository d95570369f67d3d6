"""Which feature names may be written: the skip list and name clashes.

A feature is left out when its name, its family or its unit matches a pattern of
``feature_engineering.skip_list`` (shell-style: ``distance_*``), or when its name is
already taken, compared case-insensitively (SQLite identifiers are), by an original column
or an earlier feature (the 1.x rule "already a column name").
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

from mdm_core.logging import get_logger

log = get_logger(__name__)


class NameRegistry:
    """Names taken so far plus the skip patterns."""

    def __init__(self, taken: Iterable[str], skip_patterns: Iterable[str]) -> None:
        self._taken = {n.lower() for n in taken}
        self.patterns = [p for p in skip_patterns if p]

    def skipped(self, *names: str) -> bool:
        """Whether any of ``names`` matches a skip pattern."""
        return any(fnmatchcase(n, p) for n in names if n for p in self.patterns)

    def claim(self, name: str, owner: str) -> bool:
        """Take ``name`` unless skipped or taken; log why not."""
        if self.skipped(name):
            log.info("feature skipped by skip_list", feature=name)
            return False
        key = name.lower()
        if key in self._taken:
            log.warning("feature dropped: name already taken", feature=name, by=owner)
            return False
        self._taken.add(key)
        return True
