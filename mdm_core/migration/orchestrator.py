"""The migration orchestrator: a plain loop over phases and their steps, with the journal,
the lock, file backups and verification around it.

- ``plan`` asks every step what it would do; it writes nothing.
- ``run`` takes the home's lock, then per phase (in order, up to the one asked for): saves
  ``mdm.yaml``, applies and verifies every unit not yet done (each recorded in the journal,
  done only once verified), and when every unit of the phase is done flips the phase's flag.
  A unit left ``running`` by a killed run is redone from scratch; if a step's sources
  changed since that run (its fingerprint), ``run`` refuses unless ``restart``.
- ``rollback`` undoes phases in reverse order: every unit's step rollback, then the
  phase's files restored byte for byte (its flag with them).
- ``validate`` re-verifies every done unit; ``status`` merges the journal with the plan.
- ``cleanup`` (after a verified run) removes backups and what the steps replaced.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from mdm_core.errors import MDMError, MigrationError, error_sentence
from mdm_core.logging import get_logger
from mdm_core.migration import PHASE_FLAGS, PHASES
from mdm_core.migration.backups import backup_file, remove_backups, restore_files
from mdm_core.migration.journal import (
    DONE,
    FAILED,
    PARTIAL,
    PENDING,
    ROLLED_BACK,
    RUNNING,
    SKIPPED,
    Journal,
    PhaseRecord,
    UnitRecord,
    load_journal,
    migration_dir,
    now,
    save_journal,
)
from mdm_core.migration.lock import migration_lock
from mdm_core.migration.step import (
    MigrationStep,
    RunOptions,
    StepContext,
    StepPlan,
    Unit,
    UnitResult,
)
from mdm_core.performance.history import migration_outcome, migration_target, recorded

log = get_logger(__name__)

#: Failures a step may raise for a unit (a store error, a file, a bad value): reported as they are.
EXPECTED_FAILURES = (MDMError, OSError, ValueError)
#: Exit codes of ``mdm-migrate``.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_MISMATCH, EXIT_BUSY, EXIT_SKIPPED = 0, 1, 2, 3, 4, 5


@attrs.frozen
class StepReport:
    plugin: str
    step: MigrationStep
    plan: StepPlan


@attrs.frozen
class PhasePlan:
    phase: str
    flag: str
    state: str
    steps: tuple[StepReport, ...]

    @property
    def units(self) -> list[tuple[StepReport, Unit]]:
        return [(s, u) for s in self.steps for u in s.plan.units]


@attrs.frozen
class MigrationPlan:
    plan_id: str
    options: RunOptions
    phases: tuple[PhasePlan, ...]

    def total_rows(self) -> int:
        return sum(u.rows or 0 for p in self.phases for _, u in p.units)


@attrs.frozen
class UnitOutcome:
    record: UnitRecord
    problems: tuple[str, ...] = ()


@attrs.define
class RunReport:
    """What a run did: the outcome of every unit it worked on (and the ones it skipped),
    the phases it completed, and where it stopped."""

    plan: MigrationPlan
    outcomes: list[UnitOutcome] = attrs.Factory(list)
    phases_done: list[str] = attrs.Factory(list)
    stopped_at: str | None = None

    @property
    def exit_code(self) -> int:
        states = [o.record.state for o in self.outcomes]
        if any(o.problems for o in self.outcomes):
            return EXIT_MISMATCH
        if FAILED in states or self.stopped_at:
            return EXIT_FAILED
        if SKIPPED in states:
            return EXIT_SKIPPED
        return EXIT_OK


class Reporter:
    """Receives progress while a run works; the CLI shows it, the default ignores it."""

    def start(self, plan: MigrationPlan) -> None: ...

    def unit_started(self, record: UnitRecord, unit: Unit) -> None: ...

    def rows(self, count: int) -> None: ...

    def unit_finished(self, outcome: UnitOutcome) -> None: ...

    def phase_finished(self, phase: str, done: bool) -> None: ...


class Migration:
    """The migration of one home (``home``, default the configured one) with ``options``;
    ``steps`` replaces the installed steps (tests, embedding)."""

    def __init__(self, home: Path | None = None, options: RunOptions | None = None,
                 steps: Iterable[tuple[str, MigrationStep]] | None = None) -> None:
        from mdm_core.config import load_settings

        self.settings = load_settings(Path(home).expanduser().resolve() if home else None, fresh=True).settings
        self.home: Path = self.settings.home
        self.options = options or RunOptions()
        if steps is None:
            from mdm_core.migration.step import installed_steps

            steps = installed_steps()
        self._steps = sorted(steps, key=lambda item: (PHASES.index(item[1].phase), item[1].name))

    # -- reading ---------------------------------------------------------------------------
    def phases(self, up_to: str | None = None) -> tuple[str, ...]:
        if up_to is not None and up_to not in PHASES:
            raise MigrationError(f"Unknown phase '{up_to}' (phases: {', '.join(PHASES)}).")
        return PHASES if up_to is None else PHASES[: PHASES.index(up_to) + 1]

    def plan(self, up_to: str | None = None, journal: Journal | None = None) -> MigrationPlan:
        """What each phase up to ``up_to`` would do; reads only."""
        journal = journal if journal is not None else load_journal_or_fail(self.home)
        phases = [self._plan_phase(phase, journal) for phase in self.phases(up_to)]
        return MigrationPlan(plan_fingerprint(phases, self.options), self.options, tuple(phases))

    def _plan_phase(self, phase: str, journal: Journal) -> PhasePlan:
        ctx = self._context(journal)
        reports = tuple(StepReport(plugin, step, step.plan(ctx)) for plugin, step in self._steps if step.phase == phase)
        state = journal.phases[phase].state if phase in journal.phases else PENDING
        return PhasePlan(phase, PHASE_FLAGS[phase], state, reports)

    def journal(self) -> Journal:
        return load_journal_or_fail(self.home)

    # -- running -----------------------------------------------------------------------------
    @recorded("migration", migration_target, migration_outcome)
    def run(self, up_to: str | None = None, *, restart: bool = False, reporter: Reporter | None = None) -> RunReport:
        """Apply every phase up to ``up_to``; see the module doc."""
        reporter = reporter or Reporter()
        with migration_lock(self.home, "run"):
            journal = load_journal_or_fail(self.home)
            if restart:
                self._rollback(journal, [p for p in PHASES if journal.phases.get(p, None) and journal.phases[p].state != DONE])
            plan = self.plan(up_to, journal)
            self._refuse_changed_sources(journal, plan)
            if journal.empty:
                journal.started = now()
                journal.options = _options_record(self.options)
            journal.plan_id = plan.plan_id
            report = RunReport(plan)
            reporter.start(plan)
            for phase_plan in plan.phases:
                if report.outcomes:  # an earlier phase of this run did work (settings, stores): plan again
                    phase_plan = self._plan_phase(phase_plan.phase, journal)
                if not phase_plan.steps:  # nothing installed migrates this phase: its flag stays as it is
                    continue
                done = self._run_phase(journal, phase_plan, report, reporter)
                reporter.phase_finished(phase_plan.phase, done)
                if not done:
                    report.stopped_at = phase_plan.phase
                    break
                report.phases_done.append(phase_plan.phase)
                self._reload_settings()
            save_journal(self.home, journal)
            return report

    def _run_phase(self, journal: Journal, phase_plan: PhasePlan, report: RunReport, reporter: Reporter) -> bool:
        phase = journal.phase(phase_plan.phase)
        if phase.state == DONE and not phase_plan.units:
            return True
        config_file = self.home / "mdm.yaml"
        backup_file(self.home, phase, config_file)  # the flag flips in it at the end
        phase.state, phase.started, phase.error = RUNNING, phase.started or now(), None
        save_journal(self.home, journal)
        ctx = self._context(journal, reporter=reporter, phase=phase_plan.phase, writable=True)
        clean = True
        for step_report in phase_plan.steps:
            step = step_report.step
            for skipped in step_report.plan.skipped:
                if skipped.blocking:
                    record = UnitRecord(step.name, skipped.what, phase_plan.phase, state=SKIPPED, error=skipped.reason)
                    journal.units[record.key] = record
                    report.outcomes.append(UnitOutcome(record))
            for unit in step_report.plan.units:
                outcome = self._run_unit(journal, ctx, step, unit, step_report.plan.fingerprint, reporter)
                if outcome is None:
                    continue
                report.outcomes.append(outcome)
                reporter.unit_finished(outcome)
                clean = clean and outcome.record.state == DONE
        if not clean:
            phase.state, phase.error = FAILED, "some units failed or did not verify"
            save_journal(self.home, journal)
            return False
        if self.options.datasets and phase.state != DONE:
            # only some datasets moved: the others still need the old generation, so the flag stays
            phase.state, phase.finished = PARTIAL, now()
        else:
            from mdm_core.config import update_config_file

            update_config_file(self.home, f"flags.{phase_plan.flag}", True)
            phase.state, phase.finished = DONE, now()
        save_journal(self.home, journal)
        return True

    def _run_unit(self, journal: Journal, ctx: StepContext, step: MigrationStep, unit: Unit, fingerprint: str,
                  reporter: Reporter) -> UnitOutcome | None:
        record = journal.unit(step.name, unit.id)
        if record is not None and record.state == DONE:
            return None
        record = UnitRecord(step.name, unit.id, step.phase, state=RUNNING, dataset=unit.dataset, table=unit.table,
                            detail=unit.detail, data=dict(unit.data), started=now(), fingerprint=fingerprint)
        journal.units[record.key] = record
        save_journal(self.home, journal)
        reporter.unit_started(record, unit)
        started = time.monotonic()
        problems: tuple[str, ...] = ()
        try:
            result = step.apply(ctx, unit)
            _record_result(record, result)
            save_journal(self.home, journal)  # what was created is known before verification
            # the copy compared the checksum of the data read with the target's read back;
            # verify adds the step's own checks (row counts, metadata) without re-reading
            check = step.verify(ctx, unit, result, deep=False)
            problems = () if check.ok else tuple(check.problems) or ("verification failed",)
            if result.checksum_source != result.checksum_target:
                problems += (f"{unit.id}: content checksum of the source {result.checksum_source} differs from the "
                             f"target's {result.checksum_target}",)
        except Exception as exc:  # this unit fails, not the run (an unanticipated error names its type)
            if not isinstance(exc, EXPECTED_FAILURES):
                log.error("migration unit failed", step=step.name, unit=unit.id, exception=traceback.format_exc())
            record.state, record.error = FAILED, error_sentence(exc, expected=EXPECTED_FAILURES)
        else:
            record.state = FAILED if problems else DONE
            record.error = "; ".join(problems) if problems else None
            if not problems:  # later units of this run build on it (ctx.results is the dict _context made)
                ctx.results.setdefault(step.name, {})[unit.id] = result  # type: ignore[attr-defined]
        record.finished = now()
        record.seconds = round(time.monotonic() - started, 3)
        save_journal(self.home, journal)
        return UnitOutcome(record, problems)

    def _refuse_changed_sources(self, journal: Journal, plan: MigrationPlan) -> None:
        """An interrupted or failed unit whose step now reads different sources: refuse."""
        current = {s.step.name: s.plan.fingerprint for p in plan.phases for s in p.steps}
        for record in journal.units.values():
            if record.state in (RUNNING, FAILED) and record.step in current and record.fingerprint != current[record.step]:
                raise MigrationError(
                    f"The sources of step '{record.step}' changed since the interrupted run (unit {record.unit}); "
                    "run `mdm-migrate rollback` or `mdm-migrate run --restart`.")
        recorded = {"scripts": [], **journal.options}  # journals written before scripts existed
        if journal.options and recorded != _options_record(self.options) and _unfinished(journal):
            raise MigrationError(
                f"An unfinished migration of this home was started with {_describe(journal.options)}; run it again "
                "with the same options, or `mdm-migrate rollback` first.")

    # -- checking -----------------------------------------------------------------------------
    def validate(self, *, deep: bool = False) -> list[UnitOutcome]:
        """Re-verify every done unit (row counts; content checksums with ``deep``)."""
        journal = load_journal_or_fail(self.home)
        ctx = self._context(journal)
        steps = self._steps_by_name()
        outcomes = []
        for record in journal.units.values():
            if record.state != DONE:
                continue
            step = steps.get(record.step)
            if step is None:
                outcomes.append(UnitOutcome(record, (f"step '{record.step}' is not installed",)))
                continue
            try:
                check = step.verify(ctx, _unit(record), _result(record), deep=deep)
                problems = () if check.ok else tuple(check.problems) or ("verification failed",)
            except EXPECTED_FAILURES as exc:
                problems = (error_sentence(exc, expected=EXPECTED_FAILURES),)
            outcomes.append(UnitOutcome(record, problems))
        return outcomes

    # -- undoing -----------------------------------------------------------------------------
    def rollback(self, phase: str | None = None) -> list[str]:
        """Undo ``phase`` and every later phase (all phases when None), newest first;
        returns the phases rolled back."""
        first = PHASES.index(phase) if phase is not None else 0
        if phase is not None and phase not in PHASES:
            raise MigrationError(f"Unknown phase '{phase}' (phases: {', '.join(PHASES)}).")
        with migration_lock(self.home, "rollback"):
            journal = load_journal_or_fail(self.home)
            if journal.cleaned:
                raise MigrationError(f"The migration was cleaned up ({journal.cleaned}): the files it replaced are "
                                     "gone, so it cannot be rolled back.")
            wanted = [p for p in PHASES[first:] if p in journal.phases and journal.phases[p].state != ROLLED_BACK]
            self._rollback(journal, wanted)
            if all(r.state == ROLLED_BACK for r in journal.phases.values()):
                _forget(self.home)  # nothing is left that the migration made
            else:
                save_journal(self.home, journal)
            return wanted

    def _rollback(self, journal: Journal, phases: list[str]) -> None:
        steps = self._steps_by_name()
        for phase in reversed(sorted(phases, key=PHASES.index)):
            record = journal.phase(phase)
            ctx = self._context(journal, phase=phase)
            for unit in reversed(journal.units_of(phase)):
                self._rollback_unit(journal, ctx, steps, unit)
            restore_files(self.home, record)
            remove_backups(self.home, phase)
            record.backups.clear()
            record.state, record.finished = ROLLED_BACK, now()
            save_journal(self.home, journal)
        self._reload_settings()

    def _rollback_unit(self, journal: Journal, ctx: StepContext, steps: dict[str, MigrationStep],
                       unit: UnitRecord) -> bool:
        """Undo one unit that started (the step's rollback); False when there was nothing to undo."""
        if unit.state not in (DONE, RUNNING, FAILED):
            return False
        step = steps.get(unit.step)
        if step is None:
            raise MigrationError(f"Cannot roll back unit {unit.unit}: step '{unit.step}' is not installed.")
        step.rollback(ctx, _unit(unit), _result(unit) if unit.state == DONE else _partial(unit))
        unit.state = ROLLED_BACK
        save_journal(self.home, journal)
        return True

    def rollback_dataset(self, dataset: str, phase: str = "storage") -> list[str]:
        """Undo the units of ``phase`` that concern ``dataset`` (newest first) and put back,
        byte for byte, the files of the dataset's folder the phase saved; returns the units
        rolled back. The rest of the phase stays as it is. Refused (MigrationError) after
        cleanup, once the phase is done (its flag flipped: roll the whole phase back), and
        while a later phase holds a done unit of the dataset."""
        from mdm_core.datasets.catalog import open_catalog

        with migration_lock(self.home, "rollback"):
            journal = load_journal_or_fail(self.home)
            record = journal.phases.get(phase)
            if journal.cleaned or record is None or record.state == DONE:
                why = (f"the migration was cleaned up ({journal.cleaned})" if journal.cleaned else
                       f"phase {phase} has not run" if record is None else
                       f"phase {phase} is done and its flag flipped; roll the phase back with `mdm-migrate rollback --phase {phase}`")
                raise MigrationError(f"Cannot roll back dataset '{dataset}' alone: {why}.")
            later = sorted({u.phase for u in journal.units.values() if u.dataset == dataset and u.state == DONE
                            and PHASES.index(u.phase) > PHASES.index(phase)}, key=PHASES.index)
            if later:
                raise MigrationError(f"Cannot roll back dataset '{dataset}' in phase {phase}: phase {later[-1]} "
                                     "built on it; roll that phase back first.")
            steps, ctx = self._steps_by_name(), self._context(journal, phase=phase)
            undone = [u.unit for u in reversed(journal.units_of(phase))
                      if u.dataset == dataset and self._rollback_unit(journal, ctx, steps, u)]
            folder = Path(os.path.relpath(open_catalog(self.settings).folder(dataset), self.home))
            mine = [b for b in record.backups if Path(b.path).is_relative_to(folder)]
            restore_files(self.home, PhaseRecord(phase, backups=mine))
            record.backups = [b for b in record.backups if b not in mine]
            save_journal(self.home, journal)
            self._reload_settings()
            return undone

    def cleanup(self) -> list[str]:
        """After a verified run: remove what the steps replaced and every backup; returns
        what was removed. Refuses (MigrationError) when the run is not complete or does not
        verify."""
        with migration_lock(self.home, "cleanup"):
            journal = load_journal_or_fail(self.home)
            plan = self.plan(journal=journal)
            pending = sorted({p.phase for p in plan.phases for s, u in p.units
                              if (r := journal.unit(s.step.name, u.id)) is None or r.state != DONE}, key=PHASES.index)
            pending += [name for name, r in journal.phases.items() if r.state in (RUNNING, FAILED) and name not in pending]
            if journal.empty or pending:
                raise MigrationError(
                    "Nothing to clean up: the migration is not complete"
                    + (f" (phases not done: {', '.join(pending)})" if pending else "") + "; finish it with `mdm-migrate run`.")
            mismatches = [o for o in self.validate(deep=False) if o.problems]
            if mismatches:
                first = mismatches[0]
                raise MigrationError(f"Not cleaning up: {len(mismatches)} migrated units no longer verify "
                                     f"({first.record.unit}: {first.problems[0]}); see `mdm-migrate validate`.")
            steps = self._steps_by_name()
            removed: list[str] = []
            for record in journal.units.values():
                step = steps.get(record.step)
                clean = getattr(step, "cleanup", None)
                if record.state == DONE and clean is not None:
                    removed.extend(clean(self._context(journal, phase=record.phase), _unit(record), _result(record)))
            remove_backups(self.home)
            for phase in journal.phases.values():
                phase.backups.clear()
            journal.cleaned = now()
            save_journal(self.home, journal)
            return removed

    # -- helpers -----------------------------------------------------------------------------
    def _steps_by_name(self) -> dict[str, MigrationStep]:
        return {step.name: step for _, step in self._steps}

    def _context(self, journal: Journal, *, phase: str | None = None, writable: bool = False,
                 reporter: Reporter | None = None) -> StepContext:
        """The context steps get: ``backup_dir`` is the phase's own backup folder (the same
        for the run, the rollback and the cleanup of that phase); ``backup_file`` works only
        while the phase runs (``writable``)."""

        def backup(path: Path) -> None:
            if not writable or phase is None:
                raise MigrationError("A step tried to back up a file outside a run of its phase; this is a bug in that step.")
            backup_file(self.home, journal.phase(phase), path)
            save_journal(self.home, journal)

        results: dict[str, dict[str, UnitResult]] = {}
        for record in journal.units.values():
            if record.state == DONE:
                results.setdefault(record.step, {})[record.unit] = _result(record)
        return StepContext(
            home=self.home, settings=self.settings, options=self.options,
            backup_dir=migration_dir(self.home) / "backups" / (phase or "plan"),
            backup_file=backup, progress=(reporter.rows if reporter else (lambda rows: None)), results=results,
        )

    def _reload_settings(self) -> None:
        from mdm_core.config import load_settings

        self.settings = load_settings(self.home, fresh=True).settings


def load_journal_or_fail(home: Path) -> Journal:
    try:
        return load_journal(home)
    except ValueError as exc:
        raise MigrationError(str(exc)) from None


def plan_fingerprint(phases: Iterable[PhasePlan], options: RunOptions) -> str:
    """A short id of the sources and settings a plan was made from."""
    material = {
        "options": attrs.asdict(options),
        "steps": [[s.step.name, s.plan.fingerprint, [u.id for u in s.plan.units]] for p in phases for s in p.steps],
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _record_result(record: UnitRecord, result: UnitResult) -> None:
    record.rows_read, record.rows_written = result.rows_read, result.rows_written
    record.checksum_source, record.checksum_target = result.checksum_source, result.checksum_target
    record.created = dict(result.created)


def _unit(record: UnitRecord) -> Unit:
    return Unit(record.unit, dataset=record.dataset, table=record.table, detail=record.detail, data=record.data)


def _result(record: UnitRecord) -> UnitResult:
    return UnitResult(record.rows_read, record.rows_written, record.checksum_source, record.checksum_target,
                      record.created)


def _partial(record: UnitRecord) -> UnitResult | None:
    """What an unfinished unit recorded (what it created), or None when it recorded nothing."""
    return _result(record) if record.created else None


def _options_record(options: RunOptions) -> dict[str, Any]:
    """``options`` as the journal stores them (JSON: lists, not tuples)."""
    return {"to": options.to, "datasets": list(options.datasets), "scripts": list(options.scripts)}


def _unfinished(journal: Journal) -> bool:
    return any(r.state in (RUNNING, FAILED) for r in journal.units.values()) or any(
        p.state in (RUNNING, FAILED) for p in journal.phases.values())


def _describe(options: dict[str, Any]) -> str:
    parts = [f"--to {options['to']}" if options.get("to") else "no --to",
             f"--datasets {','.join(options['datasets'])}" if options.get("datasets") else "all datasets"]
    return " and ".join(parts)


def _forget(home: Path) -> None:
    """Remove the journal and backups of a migration rolled back entirely (the lock file
    goes when the lock is released)."""
    import shutil

    folder = migration_dir(home)
    for child in folder.iterdir() if folder.is_dir() else ():
        if child.name != "lock":
            shutil.rmtree(child) if child.is_dir() else child.unlink()

