"""The migration report: ``mdm-migrate report`` and ``MigrationMonitor``.

Built from the journal (what every phase and unit was and became), so it works after a
crash or a rollback, plus the current plan's read-only view: units planned and never
started (pending), what the plan skips and its notes (passwords to supply, re-rooted
paths, lines it cannot rewrite). A plan that cannot be made (a backend gone) becomes a
warning; the report is still made. Nothing is written but the file ``save`` is given.

The model is plain attrs classes; the JSON form is their cattrs unstructure; the HTML
(:mod:`mdm_core.migration.report_html`) and Markdown (:mod:`mdm_core.migration.report_md`)
forms render the same model.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import cattrs

from mdm_core.errors import MDMError
from mdm_core.migration import PHASES
from mdm_core.migration.journal import (
    DONE,
    FAILED,
    PENDING,
    RUNNING,
    SKIPPED,
    Journal,
    UnitRecord,
    now,
)
from mdm_core.migration.orchestrator import Migration, MigrationPlan
from mdm_core.migration.readiness import ReadinessResult, assess
from mdm_core.migration.step import RunOptions

#: ``save`` picks the format from the file's suffix.
SUFFIX_FORMATS = {".html": "html", ".htm": "html", ".json": "json", ".md": "md", ".markdown": "md"}
FORMATS = ("html", "json", "md")


@attrs.frozen
class UnitRow:
    """One unit as the journal recorded it (or as planned, ``pending``)."""

    phase: str
    step: str
    unit: str
    state: str
    dataset: str | None = None
    table: str | None = None
    detail: str = ""
    rows_read: int | None = None
    rows_written: int | None = None
    checksum_source: str | None = None
    checksum_target: str | None = None
    seconds: float | None = None
    rows_per_second: int | None = None
    error: str | None = None
    started: str | None = None
    finished: str | None = None

    @classmethod
    def of(cls, r: UnitRecord) -> UnitRow:
        rate = round(r.rows_written / r.seconds) if r.rows_written and r.seconds else None
        return cls(r.phase, r.step, r.unit, r.state, r.dataset, r.table, r.detail, r.rows_read, r.rows_written,
                   r.checksum_source, r.checksum_target, r.seconds, rate, r.error, r.started, r.finished)


@attrs.frozen
class PhaseRow:
    """A phase: its state and times; ``seconds`` from start to finish (None while it
    has not finished), ``unit_seconds`` the sum of its units' seconds."""

    phase: str
    state: str
    started: str | None = None
    finished: str | None = None
    seconds: float | None = None
    unit_seconds: float = 0.0
    error: str | None = None


@attrs.frozen
class ReportWarning:
    """Something to look at: ``kind`` is ``failed``, ``skipped`` or ``plan``; ``subject``
    the unit or dataset; ``message`` the reason."""

    kind: str
    subject: str
    message: str


@attrs.frozen
class Report:
    """The whole report (see the module doc); ``readiness`` is None when it could not be
    assessed (its error is then a warning)."""

    home: str
    plan_id: str
    generated: str
    started: str | None
    updated: str | None
    cleaned: str | None
    phases: tuple[PhaseRow, ...]
    units: tuple[UnitRow, ...]
    warnings: tuple[ReportWarning, ...]
    notes: tuple[str, ...]
    readiness: ReadinessResult | None

    @property
    def datasets(self) -> list[str]:
        return sorted({u.dataset for u in self.units if u.dataset})

    def to_dict(self) -> dict[str, Any]:
        return cattrs.Converter().unstructure(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    def to_markdown(self) -> str:
        from mdm_core.migration.report_md import render_markdown

        return render_markdown(self)

    def to_html(self) -> str:
        from mdm_core.migration.report_html import render_html

        return render_html(self)

    def render(self, fmt: str) -> str:
        """The report in ``fmt`` (html, json or md)."""
        renderers = {"html": self.to_html, "json": self.to_json, "md": self.to_markdown}
        if fmt not in renderers:
            raise ValueError(f"Unknown report format {fmt!r} (formats: {', '.join(FORMATS)}).")
        return renderers[fmt]()

    def save(self, path: str | Path, fmt: str | None = None) -> Path:
        """Write the report to ``path`` in ``fmt`` (default: from the suffix, see
        :data:`SUFFIX_FORMATS`; ValueError for another suffix); returns the path."""
        target = Path(path).expanduser()
        fmt = fmt or SUFFIX_FORMATS.get(target.suffix.lower())
        if fmt is None:
            raise ValueError(f"Cannot tell the report format from {target.name!r}: use .html, .json or .md.")
        target.write_text(self.render(fmt), encoding="utf-8")
        return target


def build_report(migration: Migration) -> Report:
    """The report of ``migration``'s home (see the module doc)."""
    journal = migration.journal()
    migration = Migration(migration.home, _options(journal)) if journal.options else migration
    warnings: list[ReportWarning] = []
    plan: MigrationPlan | None = None
    try:
        plan = migration.plan(journal=journal)
    except MDMError as exc:
        warnings.append(ReportWarning("plan", "plan", f"The current plan cannot be made: {exc}"))
    units = [UnitRow.of(r) for r in journal.units.values()]
    known = {(u.step, u.unit) for u in units}
    notes: list[str] = []
    for p in plan.phases if plan else ():
        for s, u in p.units:
            if (s.step.name, u.id) not in known:
                units.append(UnitRow(p.phase, s.step.name, u.id, PENDING, u.dataset, u.table, u.detail))
        for s in p.steps:
            notes.extend(s.plan.notes)
            warnings.extend(ReportWarning(SKIPPED, k.what, k.reason) for k in s.plan.skipped
                            if (s.step.name, k.what) not in known)
    units.sort(key=lambda u: (PHASES.index(u.phase) if u.phase in PHASES else len(PHASES), u.step, u.unit))
    warnings[:0] = [ReportWarning(u.state, u.unit, u.error or u.state) for u in units if u.state in (FAILED, SKIPPED)]
    readiness = None
    try:
        readiness = assess(migration, plan)
    except MDMError as exc:
        warnings.append(ReportWarning("readiness", "check", f"Readiness could not be assessed: {exc}"))
    return Report(str(migration.home), plan.plan_id if plan else journal.plan_id, now(), journal.started,
                  journal.updated, journal.cleaned, tuple(_phases(journal, units)), tuple(units), tuple(warnings),
                  tuple(notes), readiness)


def _options(journal: Journal) -> RunOptions:
    """The options of the run the journal records (so pending units are the run's own)."""
    o = journal.options
    return RunOptions(to=o.get("to"), datasets=tuple(o.get("datasets") or ()), scripts=tuple(o.get("scripts") or ()))


def _phases(journal: Journal, units: list[UnitRow]) -> list[PhaseRow]:
    rows = []
    for name in PHASES:
        record = journal.phases.get(name)
        unit_seconds = round(sum(u.seconds or 0 for u in units if u.phase == name), 3)
        if record is None:
            rows.append(PhaseRow(name, PENDING, unit_seconds=unit_seconds))
            continue
        seconds = _between(record.started, record.finished) if record.state not in (PENDING, RUNNING) else None
        rows.append(PhaseRow(name, record.state, record.started, record.finished, seconds, unit_seconds,
                             record.error))
    return rows


def _between(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return max(0.0, (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())


class MigrationMonitor:
    """Where the migration of ``home`` (default: the configured one) stands; reads only.

    ``get_migration_status()`` is ``mdm-migrate status`` by phase: ``completed`` (done),
    ``failed`` (failed, or holding a failed unit), ``pending`` (every other phase:
    pending, running, partial, rolled back), and ``next``, the command to type.
    ``generate_report()`` is ``mdm-migrate report``'s :class:`Report`."""

    def __init__(self, home: str | Path | None = None) -> None:
        self.home = home

    def get_migration_status(self) -> dict[str, Any]:
        from mdm_core.migration.render import status_json

        data = status_json(Migration(self.home))
        status: dict[str, Any] = {"completed": [], "pending": [], "failed": []}
        for p in data["phases"]:
            key = ("failed" if p["state"] == FAILED or p["units"][FAILED] else
                   "completed" if p["state"] == DONE else "pending")
            status[key].append(p["phase"])
        return {**status, "next": data["next"]}

    def generate_report(self) -> Report:
        return build_report(Migration(self.home))


# -- cells shared by the HTML and Markdown forms ----------------------------------------------
UNIT_COLUMNS = ("phase", "dataset", "unit", "state", "rows read", "rows written", "checksum source",
                "checksum target", "seconds", "rows/s", "error")
PHASE_COLUMNS = ("phase", "state", "started", "finished", "duration", "unit seconds")
READINESS_COLUMNS = ("check", "result", "severity", "found", "fix")


def unit_cells(u: UnitRow) -> list[str]:
    """A unit's row of text cells, in :data:`UNIT_COLUMNS` order (checksums shortened to
    their last 12 digits; the JSON form has them whole)."""
    return [u.phase, u.dataset or "", u.unit, u.state, count(u.rows_read), count(u.rows_written),
            short_checksum(u.checksum_source), short_checksum(u.checksum_target), seconds(u.seconds),
            count(u.rows_per_second), u.error or ""]


def phase_cells(p: PhaseRow) -> list[str]:
    return [p.phase, p.state, moment(p.started), moment(p.finished), seconds(p.seconds), seconds(p.unit_seconds)]


def moment(iso: str | None) -> str:
    """A journal time for people: ``2026-11-30 23:07:22 UTC`` (the JSON form keeps ISO 8601)."""
    if not iso:
        return ""
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def readiness_cells(item: Any) -> list[str]:
    return [item.name, "ok" if item.ok else "FAILS", item.severity, item.message, item.fix]


def count(n: int | None) -> str:
    return "" if n is None else f"{n:,}"


def seconds(s: float | None) -> str:
    return "" if s is None else f"{s:.2f}"


def short_checksum(checksum: str | None) -> str:
    return checksum.rsplit(":", 1)[-1][-12:] if checksum else ""
