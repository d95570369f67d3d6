"""How ``mdm-migrate`` shows plans, runs and status: readable tables, and JSON for scripts."""

from __future__ import annotations

from typing import Any

import attrs
import click

from mdm_core.cli.output import emit_table, human_size
from mdm_core.migration import PHASES
from mdm_core.migration.journal import (
    DONE,
    FAILED,
    PENDING,
    ROLLED_BACK,
    RUNNING,
    SKIPPED,
    UnitRecord,
)
from mdm_core.migration.orchestrator import (
    Migration,
    MigrationPlan,
    Reporter,
    RunReport,
    UnitOutcome,
)
from mdm_core.migration.step import Unit


# -- plan ----------------------------------------------------------------------------------
def plan_json(plan: MigrationPlan) -> dict[str, Any]:
    return {
        "plan_id": plan.plan_id,
        "options": attrs.asdict(plan.options),
        "total_rows": plan.total_rows(),
        "phases": [
            {
                "phase": p.phase, "flag": p.flag, "state": p.state,
                "steps": [
                    {
                        "step": s.step.name, "plugin": s.plugin, "summary": s.plan.summary,
                        "fingerprint": s.plan.fingerprint, "space_bytes": s.plan.space_bytes,
                        "units": [_unit_json(u) for u in s.plan.units],
                        "skipped": [attrs.asdict(k) for k in s.plan.skipped],
                        "notes": list(s.plan.notes), "details": dict(s.plan.details),
                    }
                    for s in p.steps
                ],
            }
            for p in plan.phases
        ],
    }


def _unit_json(unit: Unit) -> dict[str, Any]:
    return {"id": unit.id, "dataset": unit.dataset, "table": unit.table, "rows": unit.rows, "bytes": unit.bytes,
            "detail": unit.detail}


def show_plan(plan: MigrationPlan) -> None:
    click.echo(f"Migration plan {plan.plan_id}" + (f" (to {plan.options.to})" if plan.options.to else "") + ":")
    for p in plan.phases:
        if not p.steps:
            click.echo(f"\n{p.phase}: no steps installed (flag {p.flag} stays as it is).")
            continue
        click.echo(f"\n{p.phase} ({p.state}; flips {p.flag}):")
        for s in p.steps:
            click.echo(f"  {s.step.name}: {s.plan.summary}")
            for note in s.plan.notes:
                click.echo(f"    {note}")
            if s.plan.units:
                emit_table(None, ["unit", "rows", "bytes", "what"],
                           [[u.id, _count(u.rows), _size(u.bytes), u.detail] for u in s.plan.units])
            for k in s.plan.skipped:
                click.echo(f"    skipped {k.what}: {k.reason}")
            if s.plan.space_bytes:
                click.echo(f"    disk space needed: {_size(s.plan.space_bytes)}")


# -- run -----------------------------------------------------------------------------------
def outcome_json(outcome: UnitOutcome) -> dict[str, Any]:
    return {**_record_json(outcome.record), "problems": list(outcome.problems)}


def _record_json(r: UnitRecord) -> dict[str, Any]:
    rate = round(r.rows_written / r.seconds) if r.rows_written and r.seconds else None
    return {
        "phase": r.phase, "step": r.step, "unit": r.unit, "dataset": r.dataset, "table": r.table, "state": r.state,
        "detail": r.detail, "rows_read": r.rows_read, "rows_written": r.rows_written,
        "checksum_source": r.checksum_source, "checksum_target": r.checksum_target, "seconds": r.seconds,
        "rows_per_second": rate, "error": r.error, "started": r.started, "finished": r.finished,
    }


def run_json(report: RunReport) -> dict[str, Any]:
    return {
        "plan_id": report.plan.plan_id, "exit_code": report.exit_code, "phases_done": report.phases_done,
        "stopped_at": report.stopped_at, "units": [outcome_json(o) for o in report.outcomes],
    }


def show_run(report: RunReport) -> None:
    rows = [[o.record.unit, o.record.state, _count(o.record.rows_read), _count(o.record.rows_written),
             _checksums(o.record), _secs(o.record.seconds), _rate(o.record)] for o in report.outcomes]
    if rows:
        emit_table("Migrated units", ["unit", "state", "rows read", "written", "checksum source = target", "s",
                                      "rows/s"], rows)
    for o in report.outcomes:
        if o.record.error:
            click.echo(f"{o.record.unit}: {o.record.error}")
    if report.phases_done:
        click.echo(f"Phases done: {', '.join(report.phases_done)}.")
    if report.stopped_at:
        click.echo(f"Stopped in phase {report.stopped_at}: see `mdm-migrate status`; fix the cause and run again "
                   "(done units are kept), or `mdm-migrate rollback --phase " + report.stopped_at + "`.")
    elif not report.outcomes:
        click.echo("Nothing left to migrate.")


class ProgressReporter(Reporter):
    """A rows/rate/ETA bar over the whole run on a terminal (nothing when piped), and one
    line per finished unit."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._bar = None
        self._context = None

    def __enter__(self) -> ProgressReporter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._context is not None:
            self._context.__exit__(None, None, None)

    def start(self, plan: MigrationPlan) -> None:
        if not self.enabled:
            return
        from mdm_core.progress import row_progress

        self._context = row_progress("Migrating", total=plan.total_rows() or None)
        self._bar = self._context.__enter__()

    def rows(self, count: int) -> None:
        if self._bar is not None:
            self._bar.advance(count)

    def unit_finished(self, outcome: UnitOutcome) -> None:
        if self.enabled:
            r = outcome.record
            click.echo(f"{r.state:8}  {r.unit}" + (f"  {r.error}" if r.error else ""), err=True)


# -- status --------------------------------------------------------------------------------
def status_json(migration: Migration) -> dict[str, Any]:
    """Journal merged with the current plan: units planned but never started are pending."""
    journal = migration.journal()
    plan = migration.plan(journal=journal)
    units = {r.key: _record_json(r) for r in journal.units.values()}
    for p in plan.phases:
        for s, u in p.units:
            key = f"{s.step.name}:{u.id}"
            if key not in units:
                units[key] = {**_record_json(UnitRecord(s.step.name, u.id, p.phase, dataset=u.dataset, table=u.table,
                                                        detail=u.detail)), "rows_read": None}
    phases = []
    for name in PHASES:
        record = journal.phases.get(name)
        phase_units = [u for u in units.values() if u["phase"] == name]
        phases.append({
            "phase": name, "state": record.state if record else PENDING,
            "started": record.started if record else None, "finished": record.finished if record else None,
            "units": {state: sum(1 for u in phase_units if u["state"] == state)
                      for state in (PENDING, RUNNING, DONE, FAILED, SKIPPED, ROLLED_BACK)},
        })
    return {"home": str(migration.home), "plan_id": plan.plan_id, "cleaned": journal.cleaned, "phases": phases,
            "units": list(units.values()), "next": _next_command(phases, list(units.values()), journal.cleaned)}


def _next_command(phases: list[dict[str, Any]], units: list[dict[str, Any]], cleaned: str | None) -> str:
    if any(u["state"] == RUNNING for u in units):
        return "mdm-migrate run  (resumes the interrupted run; the unfinished unit is redone from scratch)"
    if any(u["state"] == FAILED for u in units):
        return "mdm-migrate run  (after fixing what failed; see the errors above) or mdm-migrate rollback --all"
    if any(p["state"] != DONE and (p["units"][PENDING] or p["state"] != PENDING) for p in phases):
        return "mdm-migrate run"
    if cleaned:
        return "nothing: the migration is complete and cleaned up"
    if any(p["state"] == DONE for p in phases):
        return "mdm-migrate validate --deep, then mdm-migrate cleanup"
    return "mdm-migrate plan"


def show_status(data: dict[str, Any]) -> None:
    emit_table(f"Migration of {data['home']}", ["phase", "state", "done", "pending", "failed", "skipped", "finished"], [
        [p["phase"], p["state"], p["units"][DONE], p["units"][PENDING], p["units"][FAILED], p["units"][SKIPPED],
         p["finished"] or ""] for p in data["phases"]])
    units = [u for u in data["units"] if u["state"] != DONE or u["error"]]
    if units:
        emit_table("Units not done", ["phase", "unit", "state", "why"],
                   [[u["phase"], u["unit"], u["state"], u["error"] or ""] for u in units])
    click.echo(f"Next: {data['next']}")


# -- formatting ----------------------------------------------------------------------------
def _count(n: int | None) -> str:
    return "" if n is None else f"{n:,}"


def _size(n: int | None) -> str:
    return "" if n is None else human_size(n)


def _checksums(r: UnitRecord) -> str:
    """The content checksum once when both sides agree (its last 8 hex digits), else both."""
    def short(checksum: str | None) -> str:
        return checksum.rsplit(":", 1)[-1][-8:] if checksum else "?"

    if not r.checksum_source and not r.checksum_target:
        return ""
    if r.checksum_source == r.checksum_target:
        return f"= {short(r.checksum_source)}"
    return f"{short(r.checksum_source)} != {short(r.checksum_target)}"


def _secs(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:.2f}"


def _rate(r: UnitRecord) -> str:
    return f"{r.rows_written / r.seconds:,.0f}" if r.rows_written and r.seconds else ""
