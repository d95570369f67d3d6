"""The migration report as Markdown: headings and pipe tables. Every text is one line with
``<``, ``>`` and ``&`` as entities (a dataset named ``<b>`` is shown, not rendered) and ``|``
escaped in table cells."""

from __future__ import annotations

import html
from collections.abc import Sequence

from mdm_core.migration.report import (
    PHASE_COLUMNS,
    READINESS_COLUMNS,
    UNIT_COLUMNS,
    Report,
    moment,
    phase_cells,
    readiness_cells,
    unit_cells,
)


def render_markdown(report: Report) -> str:
    lines = [f"# Migration report: {_inline(report.home)}", "",
             f"- plan: `{report.plan_id or '-'}`", f"- started: {moment(report.started) or '-'}",
             f"- updated: {moment(report.updated) or '-'}", f"- cleaned up: {moment(report.cleaned) or 'no'}",
             f"- generated: {moment(report.generated)}", f"- datasets: {_inline(', '.join(report.datasets) or '-')}", ""]
    if report.readiness is not None:
        r = report.readiness
        lines += [f"## Readiness: {r.overall_score}/100, {r.status}", "",
                  *_table(READINESS_COLUMNS, [readiness_cells(i) for i in r.items]), ""]
    lines += ["## Phases", "", *_table(PHASE_COLUMNS, [phase_cells(p) for p in report.phases]), ""]
    lines += ["## Datasets and tables", ""]
    lines += _table(UNIT_COLUMNS, [unit_cells(u) for u in report.units]) if report.units else ["Nothing planned."]
    lines += ["", "## Warnings", ""]
    lines += _table(("kind", "what", "why"), [[w.kind, w.subject, w.message] for w in report.warnings]) \
        if report.warnings else ["None."]
    lines += ["", "## Notes of the plan", ""]
    lines += [f"- {_inline(n)}" for n in report.notes] or ["None."]
    return "\n".join(lines) + "\n"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]]


def _cell(text: str) -> str:
    return _inline(text).replace("|", "\\|")


def _inline(text: str) -> str:
    """One line of text (newlines would end a table row or a list item), HTML escaped."""
    return html.escape(" ".join(str(text).split()), quote=False)
