"""``mdm stats logs``: the newest records of MDM's log file that match a level and a text.

The file is ``logging.file`` (:func:`mdm_core.logging.log_file_path`) or, when that is
not set, MDM 1.x's ``<logs>/mdm.log`` if it exists (a 1.x home keeps its old log there).
Its rotated copies (``<file>.1`` newer than ``<file>.2`` ...) are read after it, newest
first, until enough records match. Three line formats are understood:

- JSON lines (``logging.format: json``): the ``level`` and ``timestamp`` keys;
- console lines (``logging.format: console``): ``<timestamp> [<level>   ] event ...``;
- MDM 1.x lines: ``<timestamp> | <LEVEL> | ...``.

A line that starts no record (the lines of a traceback) belongs to the record above it, so
a record is shown whole and filtered as one. ``level`` matches exactly (``WARN`` is
``WARNING``), as 1.x's filter did; ``grep`` is a case-insensitive substring.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from mdm_core.logging import LEVEL_NAMES, log_file_path

#: The log file MDM 1.x wrote, under the logs folder.
LOG_FILE_1X = "mdm.log"
_CONSOLE = re.compile(r"^(?P<timestamp>\d{4}-\d\d-\d\dT\S+) \[(?P<level>[a-z]+)\s*\]")
_LOG_1X = re.compile(r"^(?P<timestamp>\d{4}-\d\d-\d\d[ T][\d:.,]+)\s*\|\s*(?P<level>[A-Z]+)\s*\|")


@attrs.frozen
class LogRecord:
    """One record of the log: its ``level`` (upper case, None when the line has none),
    ``timestamp`` as written, and ``text``: its lines as in the file (no final newline)."""

    level: str | None
    timestamp: str | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def log_file(settings: Any) -> Path | None:
    """The log file of the home of ``settings`` (see the module doc); None when there is
    none to read."""
    configured = log_file_path(settings)
    if configured is not None:
        return configured
    legacy = settings.path("logs_path") / LOG_FILE_1X
    return legacy if legacy.is_file() else None


def level_name(value: str) -> str:
    """The canonical name of a level (``warn`` -> ``WARNING``); ValueError when unknown."""
    if value.strip().upper() not in LEVEL_NAMES:
        raise ValueError(f"unknown level {value!r}")
    return _canonical(value.strip())


def newest_records(path: Path, tail: int, level: str | None = None, grep: str | None = None,
                   backups: int = 0) -> list[LogRecord]:
    """The last ``tail`` records of the log at ``path`` and of its first ``backups``
    rotated copies (oldest first) whose level is ``level`` (any when None) and whose
    text holds ``grep`` (any case; any when None)."""
    wanted = level_name(level) if level else None
    needle = grep.lower() if grep else None
    found: list[LogRecord] = []
    for file in [path, *(path.with_name(f"{path.name}.{i}") for i in range(1, backups + 1))]:
        try:
            text = file.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            continue
        matching = [r for r in _records(text)
                    if (wanted is None or r.level == wanted) and (needle is None or needle in r.text.lower())]
        found[:0] = matching[-(tail - len(found)):]
        if len(found) >= tail:
            break
    return found


def _records(text: str) -> Iterator[LogRecord]:
    current: LogRecord | None = None
    for line in text.splitlines():
        start = _start(line)
        if start is None and current is None and not line.strip():
            continue
        if start is None and current is not None:
            current = attrs.evolve(current, text=f"{current.text}\n{line}")
            continue
        if current is not None:
            yield current
        current = start or LogRecord(None, None, line)
    if current is not None:
        yield current


def _start(line: str) -> LogRecord | None:
    """The record ``line`` starts, None when it continues the one above."""
    if line.startswith("{"):
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict) and isinstance(record.get("level"), str):
            return LogRecord(_canonical(record["level"]), _str(record.get("timestamp")), line)
    match = _CONSOLE.match(line) or _LOG_1X.match(line)
    if match:
        return LogRecord(_canonical(match["level"]), match["timestamp"], line)
    return None


def _canonical(level: str) -> str:
    upper = level.upper()
    return "WARNING" if upper == "WARN" else upper


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
