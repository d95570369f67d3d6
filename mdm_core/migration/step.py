"""The contract of a migration step, as plugins contribute them via ``mdm_migration_steps``.

The orchestrator runs phases in the order of :data:`mdm_core.migration.PHASES` and, within
a phase, steps in name order. For each step it calls ``plan`` (read-only), then, when the
user runs the phase, ``apply``, then ``verify``; a step whose verification fails, or a
phase the user rolls back, gets ``rollback``. Every method receives the
:class:`StepContext` of the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs


@attrs.frozen
class StepContext:
    """What a step works on: the home, the settings of the run, and a folder of its own
    for backups (kept until ``mdm-migrate cleanup``)."""

    home: Path
    settings: Any
    backup_dir: Path


@attrs.frozen
class StepPlan:
    """What a step would do, for ``mdm-migrate plan``: a one-line summary, the units it
    will touch (e.g. ``dataset/table``) and anything it will have to skip, with why."""

    summary: str
    units: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


@attrs.frozen
class StepCheck:
    """The outcome of ``verify``: ``ok`` and, when not, one line per mismatch."""

    ok: bool
    problems: tuple[str, ...] = ()


@runtime_checkable
class MigrationStep(Protocol):
    """One step of one phase. ``apply`` must be safe to run again after an interruption
    (it resumes or starts over; it never duplicates), and ``rollback`` must restore what
    ``apply`` changed, byte for byte for files."""

    name: str
    phase: str

    def plan(self, ctx: StepContext) -> StepPlan: ...

    def apply(self, ctx: StepContext) -> None: ...

    def verify(self, ctx: StepContext) -> StepCheck: ...

    def rollback(self, ctx: StepContext) -> None: ...


def installed_steps() -> list[tuple[str, MigrationStep]]:
    """(plugin, step) for every step installed plugins contribute, in run order (phase,
    then name); a plugin contributing anything else is marked failed."""
    from mdm_core.migration import PHASES
    from mdm_core.plugins import get_plugin_manager

    found = get_plugin_manager().collect(
        "mdm_migration_steps", accept=lambda s: isinstance(s, MigrationStep) and s.phase in PHASES,
        expected=f"a MigrationStep of a phase in {', '.join(PHASES)}",
    )
    return sorted(found, key=lambda item: (PHASES.index(item[1].phase), item[1].name))
