"""The migration report as one self-contained HTML file.

Contract: inline CSS only, no JavaScript, no fonts, images or anything else fetched (the
only URL is the SVG namespace, an identifier); every user-controlled text (dataset and
unit names, errors, notes, paths) goes through :func:`html.escape`. The layout is
responsive: on a phone (600 px and narrower) each table row becomes a block of
"label value" lines, so nothing scrolls sideways; wider screens get ordinary tables.
The chart of where the time went is inline SVG: horizontal bars of seconds per phase and
for the slowest units.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

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

#: How many of the slowest units the chart shows.
CHART_UNITS = 8
_CSS = """
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2430;background:#f5f7fa}
main{max-width:1200px;margin:0 auto;padding:16px}
h1{font-size:1.5em;margin:.2em 0;overflow-wrap:anywhere}h2{font-size:1.15em;margin:1.4em 0 .5em}
.card{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:12px 16px;margin:12px 0}
.meta{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:6px 16px;margin:0}
.meta dt{font-size:.8em;color:#5a6573}.meta dd{margin:0;overflow-wrap:anywhere}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e6eaef;vertical-align:top}
th{background:#eef2f6;white-space:nowrap}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.err{min-width:16em}code{font-size:.95em}
.state{display:inline-block;padding:0 6px;border-radius:4px;font-size:.85em;white-space:nowrap;background:#e6eaef}
.done,.ready,.ok{background:#d7f2df;color:#125c2b}.failed,.blocked,.FAILS{background:#fadcdc;color:#8a1616}
.skipped,.partial,.needs-attention,.running{background:#fff0c7;color:#6b4e00}
.rolled-back{background:#e4e0f7;color:#3b2e86}
.score{font-size:2em;font-weight:600}
svg{max-width:100%;height:auto;display:block}
ul{padding-left:1.2em}li{overflow-wrap:anywhere}
@media (max-width:600px){main{padding:8px}body{font-size:14px}.card{padding:10px}
table,tbody,tr,td{display:block;width:100%}thead{display:none}
tr{padding:6px 0;border-bottom:1px solid #e6eaef}td,td.num{border:0;padding:1px 0;text-align:left;white-space:normal}
td::before{content:attr(data-label);display:inline-block;min-width:8em;color:#5a6573;font-size:.85em}
td.err{min-width:0;overflow-wrap:anywhere}td:empty{display:none}}
"""


def render_html(report: Report) -> str:
    home = escape(report.home)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Migration report: {home}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>Migration report</h1><p><code>{home}</code></p>",
        _meta(report), _readiness(report), "<h2>Phases</h2>",
        _table(PHASE_COLUMNS, [phase_cells(p) for p in report.phases], state_column=1, numeric=(4, 5)),
        "<h2>Where the time went</h2>", f'<div class="card">{_chart(report)}</div>',
        "<h2>Datasets and tables</h2>",
        _table(UNIT_COLUMNS, [unit_cells(u) for u in report.units], state_column=3, numeric=(4, 5, 8, 9),
               error_column=10) if report.units else "<p>Nothing planned.</p>",
        "<h2>Warnings</h2>", _warnings(report), "<h2>Notes of the plan</h2>", _notes(report),
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _meta(report: Report) -> str:
    fields = [("plan", report.plan_id or "-"), ("started", moment(report.started) or "-"),
              ("updated", moment(report.updated) or "-"), ("cleaned up", moment(report.cleaned) or "no"),
              ("generated", moment(report.generated)),
              ("datasets", ", ".join(report.datasets) or "-")]
    items = "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in fields)
    return f'<div class="card"><dl class="meta">{items}</dl></div>'


def _readiness(report: Report) -> str:
    r = report.readiness
    if r is None:
        return ""
    head = (f'<h2>Readiness</h2><div class="card"><span class="score">{r.overall_score}/100</span> '
            f"{_state(r.status)}</div>")
    return head + _table(READINESS_COLUMNS, [readiness_cells(i) for i in r.items], state_column=1, error_column=3)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, state_column: int | None = None,
           numeric: Sequence[int] = (), error_column: int | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for i, text in enumerate(row):
            label = f' data-label="{escape(header[i])}"'
            if i == state_column:
                cells.append(f"<td{label}>{_state(text)}</td>")
            else:
                cls = ' class="num"' if i in numeric else ' class="err"' if i == error_column and text else ""
                cells.append(f"<td{cls}{label}>{escape(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'<div class="scroll card"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _state(state: str) -> str:
    return f'<span class="state {escape(state.replace(" ", "-"))}">{escape(state)}</span>'


def _warnings(report: Report) -> str:
    if not report.warnings:
        return '<p class="card">None.</p>'
    return _table(("kind", "what", "why"), [[w.kind, w.subject, w.message] for w in report.warnings],
                  state_column=0, error_column=2)


def _notes(report: Report) -> str:
    if not report.notes:
        return '<p class="card">None.</p>'
    return '<div class="card"><ul>' + "".join(f"<li>{escape(n)}</li>" for n in report.notes) + "</ul></div>"


def _chart(report: Report) -> str:
    """Horizontal bars: seconds per phase (start to finish, else the sum of its units),
    then the slowest units; one scale for all bars."""
    bars = [(f"phase {p.phase}", p.seconds if p.seconds is not None else p.unit_seconds, "#3d6fb6")
            for p in report.phases if (p.seconds or p.unit_seconds)]
    slow = sorted((u for u in report.units if u.seconds), key=lambda u: u.seconds or 0, reverse=True)[:CHART_UNITS]
    bars += [(f"{u.phase}: {u.unit}", u.seconds or 0.0, "#7aa5d9") for u in slow]
    if not bars:
        return "<p>No time recorded yet.</p>"
    label_w, bar_w, row_h = 260, 440, 24
    top = max(value for _, value, _ in bars) or 1.0
    rows = []
    for i, (label, value, colour) in enumerate(bars):
        y = i * row_h
        width = max(1.0, bar_w * value / top)
        short = label if len(label) <= 36 else label[:35] + "…"
        rows.append(
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end">{escape(short)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{width:.1f}" height="{row_h - 8}" fill="{colour}" rx="2">'
            f"<title>{escape(label)}: {value:.2f} s</title></rect>"
            f'<text x="{label_w + width + 6:.1f}" y="{y + 16}">{value:.2f} s</text>')
    height = len(bars) * row_h
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {label_w + bar_w + 80} {height}" '
            f'role="img" aria-label="Seconds per phase and for the slowest units" '
            f'font-family="system-ui,sans-serif" font-size="12" fill="#1d2430">{"".join(rows)}</svg>')
