"""The migration journal: what every phase and every unit of work is, was and became.

One JSON file, ``<home>/.migration/journal.json``, rewritten atomically (temp file, fsync,
rename) at every change of state, so a run killed at any moment leaves the last state it
recorded. A unit is ``done`` only after its target was written, committed and verified;
a unit found ``running`` belonged to a run that died and is redone from scratch.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import cattrs

from mdm_core.durable import write_atomically

MIGRATION_DIR = ".migration"
JOURNAL_FILE = "journal.json"
JOURNAL_VERSION = 1

#: States of a unit and of a phase.
PENDING, RUNNING, DONE, FAILED, SKIPPED, ROLLED_BACK = "pending", "running", "done", "failed", "skipped", "rolled back"
#: A phase whose units for the datasets asked for are done, its flag not flipped (others remain).
PARTIAL = "partial"

_converter = cattrs.Converter()


def now() -> str:
    """The current UTC time, ISO 8601 with milliseconds (phases shorter than a second are
    timed from these)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@attrs.define
class UnitRecord:
    """One unit of one step (e.g. ``penguins/train`` of the storage step).

    ``data`` is the unit's own data from the plan (so rollback and validate work even
    when the sources are gone); ``created`` holds what the step made (the target store, a
    file) in the step's own terms, so rollback can remove it; ``fingerprint`` is the
    step's fingerprint of its sources when the unit started."""

    step: str
    unit: str
    phase: str
    state: str = PENDING
    dataset: str | None = None
    table: str | None = None
    detail: str = ""
    data: dict[str, Any] = attrs.Factory(dict)
    started: str | None = None
    finished: str | None = None
    seconds: float | None = None
    rows_read: int | None = None
    rows_written: int | None = None
    checksum_source: str | None = None
    checksum_target: str | None = None
    error: str | None = None
    created: dict[str, Any] = attrs.Factory(dict)
    fingerprint: str = ""

    @property
    def key(self) -> str:
        return unit_key(self.step, self.unit)


@attrs.define
class FileBackup:
    """A file of the home as it was before a phase changed it: ``copy`` (relative to the
    migration folder) holds its bytes, or ``existed`` is False (rollback deletes it)."""

    path: str  # relative to the home
    existed: bool
    copy: str | None = None
    sha256: str | None = None


@attrs.define
class PhaseRecord:
    phase: str
    state: str = PENDING
    started: str | None = None
    finished: str | None = None
    error: str | None = None
    backups: list[FileBackup] = attrs.Factory(list)


@attrs.define
class Journal:
    """The whole journal. ``options`` are those of the run that started the migration
    (``to``, ``datasets``); ``plan_id`` its plan's fingerprint."""

    version: int = JOURNAL_VERSION
    plan_id: str = ""
    options: dict[str, Any] = attrs.Factory(dict)
    started: str | None = None
    updated: str | None = None
    cleaned: str | None = None
    phases: dict[str, PhaseRecord] = attrs.Factory(dict)
    units: dict[str, UnitRecord] = attrs.Factory(dict)

    def phase(self, name: str) -> PhaseRecord:
        return self.phases.setdefault(name, PhaseRecord(name))

    def unit(self, step: str, unit: str) -> UnitRecord | None:
        return self.units.get(unit_key(step, unit))

    def units_of(self, phase: str) -> list[UnitRecord]:
        return [u for u in self.units.values() if u.phase == phase]

    @property
    def empty(self) -> bool:
        return not self.phases and not self.units


def unit_key(step: str, unit: str) -> str:
    return f"{step}:{unit}"


def migration_dir(home: Path) -> Path:
    return home / MIGRATION_DIR


def journal_path(home: Path) -> Path:
    return migration_dir(home) / JOURNAL_FILE


def load_journal(home: Path) -> Journal:
    """The home's journal; an empty one when there is none. A journal that cannot be read
    raises ValueError naming the file (it is never silently replaced)."""
    path = journal_path(home)
    if not path.is_file():
        return Journal()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return _converter.structure(data, Journal)
    except (ValueError, TypeError, KeyError, cattrs.BaseValidationError) as exc:
        raise ValueError(f"The migration journal {path} is unreadable ({exc}); move it aside to start over.") from None


def save_journal(home: Path, journal: Journal) -> None:
    """Write the journal atomically and durably."""
    journal.updated = now()
    path = journal_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_converter.unstructure(journal), indent=1, sort_keys=False, default=str)
    write_atomically(path, text)
