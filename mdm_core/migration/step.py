"""The contract of a migration step, as plugins contribute them via ``mdm_migration_steps``.

The orchestrator (:mod:`mdm_core.migration.orchestrator`) runs phases in the order of
:data:`mdm_core.migration.PHASES` and, within a phase, steps in name order. A step splits
its work into :class:`Unit` s (a dataset's table, a config file). For ``mdm-migrate plan``
it is asked for its :class:`StepPlan` only; for ``run`` the orchestrator then calls
``apply`` and ``verify`` for every unit not yet done, records each unit in the journal
(done only once verified), and flips the phase's flag when every unit of the phase is
done; ``rollback`` undoes one unit. Files of the home a step changes are saved first with
``ctx.backup_file`` and restored byte for byte by the orchestrator on rollback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs


@attrs.frozen
class RunOptions:
    """What the user asked for: ``to`` a target backend (None: each dataset's own
    engine), ``datasets`` to limit the run to (empty: all), ``scripts`` the files and
    folders (absolute paths) whose 1.x usage the cli phase rewrites (empty: none)."""

    to: str | None = None
    datasets: tuple[str, ...] = ()
    scripts: tuple[str, ...] = ()

    def wants(self, dataset: str) -> bool:
        return not self.datasets or dataset in self.datasets


@attrs.frozen
class Unit:
    """One unit of a step's work. ``id`` is unique within the step (``penguins/train``);
    ``rows``/``bytes`` are what the plan expects to move (None: unknown); ``detail`` says
    what happens to it in a few words (``sqlite 1.x -> duckdb``); ``data`` is the step's
    own, JSON-able, handed back to ``apply``."""

    id: str
    dataset: str | None = None
    table: str | None = None
    rows: int | None = None
    bytes: int | None = None
    detail: str = ""
    data: Mapping[str, Any] = attrs.Factory(dict)


@attrs.frozen
class Skipped:
    """Something the step will not migrate, and why (a broken dataset, a partial table)."""

    what: str
    reason: str
    #: True when the user's data is left behind (the run ends with exit code 5); False
    #: for what another phase takes care of (a partial feature table).
    blocking: bool = True


@attrs.frozen
class StepPlan:
    """What a step would do. ``fingerprint`` identifies the sources it reads (equal
    fingerprints: nothing changed); ``notes`` are lines for the user (a config key mapped,
    a password to supply another way); ``details`` is JSON-able data for ``--format json``;
    ``space_bytes`` the disk the new copies need."""

    summary: str
    units: tuple[Unit, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    notes: tuple[str, ...] = ()
    details: Mapping[str, Any] = attrs.Factory(dict)
    fingerprint: str = ""
    space_bytes: int = 0


@attrs.frozen
class UnitResult:
    """What ``apply`` did to one unit: rows read and written, content checksums of source
    and target when data moved, and ``created``: what rollback must remove, in the step's
    own JSON-able terms."""

    rows_read: int | None = None
    rows_written: int | None = None
    checksum_source: str | None = None
    checksum_target: str | None = None
    created: Mapping[str, Any] = attrs.Factory(dict)


@attrs.frozen
class StepCheck:
    """The outcome of ``verify``: ``ok`` and, when not, one line per mismatch."""

    ok: bool
    problems: tuple[str, ...] = ()


@attrs.define
class StepContext:
    """What a step works with: the home and its settings, the run's options, a folder of
    its own for backups (kept until ``mdm-migrate cleanup``), ``backup_file(path)`` to
    call before changing a file of the home, ``progress(rows)`` to report rows moved, and
    ``results``: the recorded results of done units of every step (``step -> unit id ->
    UnitResult``), for a step that builds on an earlier one."""

    home: Path
    settings: Any
    options: RunOptions
    backup_dir: Path
    backup_file: Callable[[Path], None] = lambda path: None
    progress: Callable[[int], None] = lambda rows: None
    results: Mapping[str, Mapping[str, UnitResult]] = attrs.Factory(dict)


@runtime_checkable
class MigrationStep(Protocol):
    """One step of one phase.

    ``apply`` must be safe to call again for a unit whose earlier attempt was interrupted:
    it first removes whatever that attempt left (a half-written table, a store), then does
    the work; it never duplicates. ``verify`` re-reads what ``apply`` wrote (``deep``:
    content checksums of both sides, else row counts) and may be called at any time later
    (``mdm-migrate validate``). ``rollback`` removes what ``apply`` created for the unit
    (``result`` is None when the unit never finished: remove whatever may exist); file
    backups are restored by the orchestrator, not by the step. A step may also define
    ``cleanup(ctx, unit, result) -> list[str]``: called by ``mdm-migrate cleanup`` after a
    verified run, it removes what the unit replaced (the old database, the old metadata)
    and returns one line per thing removed.
    """

    name: str
    phase: str

    def plan(self, ctx: StepContext) -> StepPlan: ...

    def apply(self, ctx: StepContext, unit: Unit) -> UnitResult: ...

    def verify(self, ctx: StepContext, unit: Unit, result: UnitResult, *, deep: bool = True) -> StepCheck: ...

    def rollback(self, ctx: StepContext, unit: Unit, result: UnitResult | None) -> None: ...


class LazyStep:
    """A step that imports its implementation (``"module:Class"``, instantiated without
    arguments) when first used, so listing plugins or steps loads no data stack. ``name``
    and ``phase`` must be the implementation's own (checked at import)."""

    def __init__(self, name: str, phase: str, target: str) -> None:
        self.name = name
        self.phase = phase
        self._target = target
        self._step: MigrationStep | None = None

    def _load(self) -> MigrationStep:
        if self._step is None:
            import importlib

            module, _, attr = self._target.partition(":")
            step = getattr(importlib.import_module(module), attr)()
            if (step.name, step.phase) != (self.name, self.phase):
                raise TypeError(f"{self._target} is step {step.name!r} of phase {step.phase!r}, "
                                f"declared as {self.name!r} of {self.phase!r}")
            self._step = step
        return self._step

    def plan(self, ctx: StepContext) -> StepPlan:
        return self._load().plan(ctx)

    def apply(self, ctx: StepContext, unit: Unit) -> UnitResult:
        return self._load().apply(ctx, unit)

    def verify(self, ctx: StepContext, unit: Unit, result: UnitResult, *, deep: bool = True) -> StepCheck:
        return self._load().verify(ctx, unit, result, deep=deep)

    def rollback(self, ctx: StepContext, unit: Unit, result: UnitResult | None) -> None:
        self._load().rollback(ctx, unit, result)

    def cleanup(self, ctx: StepContext, unit: Unit, result: UnitResult) -> list[str]:
        clean = getattr(self._load(), "cleanup", None)
        return clean(ctx, unit, result) if clean is not None else []


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
