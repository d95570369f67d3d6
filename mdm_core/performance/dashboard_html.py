"""The dashboard (:class:`mdm_core.performance.dashboard.Dashboard`) as one HTML page.

Contract: self-contained: inline CSS and inline SVG only, no JavaScript, no fonts, images,
stylesheets or anything else fetched, and no URL at all (the SVG is inline HTML, which
needs no namespace). Every text from the history (dataset names, errors) goes through
:func:`html.escape`. Narrow screens get the tables as "label value" blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from mdm_core.performance.dashboard import Dashboard

_CSS = """
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2430;background:#f5f7fa}
main{max-width:1200px;margin:0 auto;padding:16px}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin:1.4em 0 .5em}
.muted{color:#5a6573}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px}
.card{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:12px 16px;margin:12px 0}
.cards .card{margin:0}.card h3{margin:0;font-size:.8em;color:#5a6573;text-transform:uppercase}
.value{font-size:1.8em;font-weight:600}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e6eaef;vertical-align:top}
th{background:#eef2f6;white-space:nowrap}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.err{min-width:16em;overflow-wrap:anywhere}
.ok{color:#125c2b}.failed,.interrupted{color:#8a1616}
svg{max-width:100%;height:auto;display:block}
@media (max-width:600px){main{padding:8px}table,tbody,tr,td{display:block;width:100%}thead{display:none}
tr{padding:6px 0;border-bottom:1px solid #e6eaef}td,td.num{border:0;padding:1px 0;text-align:left}
td::before{content:attr(data-label);display:inline-block;min-width:8em;color:#5a6573;font-size:.85em}}
"""
_OK, _FAILED, _BAR = "#3d8f5f", "#c0392b", "#3d6fb6"


def render_html(dashboard: Dashboard) -> str:
    d = dashboard
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>MDM Dashboard</title><style>{_CSS}</style></head><body><main>",
        "<h1>MDM Dashboard</h1>",
        f'<p class="muted">Generated {escape(_when(d.generated))} UTC from the operations history.</p>',
        _cards(d),
        "<h2>Operations per day</h2>", f'<div class="card">{_days_chart(d)}</div>',
        "<h2>Average seconds per operation</h2>", f'<div class="card">{_durations_chart(d)}</div>',
        _table(["operation", "count", "failed", "rows", "avg s", "last"],
               [[op, str(s["count"]), str(s["failed"]), f"{s['rows']:,}", f"{s['average_seconds']:.2f}",
                 _when(s["last"])] for op, s in d.operations.items()], numeric=(1, 2, 3, 4))
        if d.operations else '<p class="card">No operations recorded yet.</p>',
        "<h2>Errors</h2>",
        _table(["started (UTC)", "operation", "dataset", "status", "error"],
               [[_when(r.get("started")), str(r.get("operation")), str(r.get("dataset") or "-"),
                 str(r.get("status")), str(r.get("error") or "")] for r in d.errors], error=4)
        if d.errors else '<p class="card">None.</p>',
        "<h2>Recent operations</h2>",
        _table(["started (UTC)", "operation", "dataset", "backend", "rows", "seconds", "status"],
               [[_when(r.get("started")), str(r.get("operation")), str(r.get("dataset") or "-"),
                 str(r.get("backend") or "-"), "-" if r.get("rows") is None else f"{int(r['rows']):,}",
                 f"{float(r.get('seconds') or 0):.2f}", str(r.get("status"))] for r in d.recent], numeric=(4, 5))
        if d.recent else '<p class="card">No operations recorded yet.</p>',
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _cards(d: Dashboard) -> str:
    cards = [("Operations", f"{d.total:,}"), ("Success rate", f"{d.success_percent:.1f}%"),
             ("Failed", f"{d.failed:,}"), ("Average duration", f"{d.average_seconds:.2f} s"),
             ("Datasets", f"{d.datasets:,}"), ("Last operation", _when(d.last))]
    items = "".join(f'<div class="card"><h3>{escape(k)}</h3><div class="value">{escape(v)}</div></div>'
                    for k, v in cards)
    return f'<div class="cards">{items}</div>'


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, numeric: Sequence[int] = (),
           error: int | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for i, text in enumerate(row):
            cls = "num" if i in numeric else "err" if i == error else text if header[i] == "status" else ""
            attr = f' class="{escape(cls)}"' if cls else ""
            cells.append(f'<td{attr} data-label="{escape(header[i])}">{escape(text)}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'<div class="scroll card"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _days_chart(d: Dashboard) -> str:
    """Vertical bars per day, ok below failed; the date under every few bars."""
    if not d.days:
        return "<p>No operations recorded yet.</p>"
    bar_w, gap, height, left, bottom = 22, 4, 160, 40, 22
    top = max(day.ok + day.failed for day in d.days) or 1
    every = max(1, len(d.days) // 10)
    shapes = [f'<text x="{left - 6}" y="12" text-anchor="end">{top}</text>',
              f'<text x="{left - 6}" y="{height}" text-anchor="end">0</text>',
              f'<line x1="{left}" y1="{height}" x2="{left + len(d.days) * (bar_w + gap)}" y2="{height}" '
              'stroke="#9aa5b1"/>']
    for i, day in enumerate(d.days):
        x = left + i * (bar_w + gap)
        ok_h, failed_h = height * day.ok / top, height * day.failed / top
        title = f"<title>{escape(day.day)}: {day.ok} ok, {day.failed} failed</title>"
        if day.ok:
            shapes.append(f'<rect x="{x}" y="{height - ok_h:.1f}" width="{bar_w}" height="{ok_h:.1f}" '
                          f'fill="{_OK}">{title}</rect>')
        if day.failed:
            shapes.append(f'<rect x="{x}" y="{height - ok_h - failed_h:.1f}" width="{bar_w}" '
                          f'height="{failed_h:.1f}" fill="{_FAILED}">{title}</rect>')
        if i % every == 0:
            shapes.append(f'<text x="{x + bar_w / 2}" y="{height + 16}" text-anchor="middle">{escape(day.day[5:])}'
                          "</text>")
    width = left + len(d.days) * (bar_w + gap) + 10
    legend = (f'<p class="muted"><span style="color:{_OK}">&#9632;</span> ok '
              f'<span style="color:{_FAILED}">&#9632;</span> failed or interrupted (UTC days)</p>')
    return (f'<svg viewBox="0 0 {width} {height + bottom}" role="img" aria-label="Operations per day" '
            f'font-family="system-ui,sans-serif" font-size="11" fill="#1d2430">{"".join(shapes)}</svg>{legend}')


def _durations_chart(d: Dashboard) -> str:
    """Horizontal bars: average seconds of each operation, one scale for all."""
    if not d.operations:
        return "<p>No operations recorded yet.</p>"
    label_w, bar_w, row_h = 200, 440, 24
    top = max(s["average_seconds"] for s in d.operations.values()) or 1.0
    rows = []
    for i, (op, s) in enumerate(d.operations.items()):
        y, value = i * row_h, s["average_seconds"]
        width = max(1.0, bar_w * value / top)
        label = f"{op} ({s['count']})"
        rows.append(
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{width:.1f}" height="{row_h - 8}" fill="{_BAR}" rx="2">'
            f"<title>{escape(op)}: {value:.3f} s on average over {s['count']}</title></rect>"
            f'<text x="{label_w + width + 6:.1f}" y="{y + 16}">{value:.2f} s</text>')
    return (f'<svg viewBox="0 0 {label_w + bar_w + 80} {len(d.operations) * row_h}" role="img" '
            f'aria-label="Average seconds per operation" font-family="system-ui,sans-serif" font-size="12" '
            f'fill="#1d2430">{"".join(rows)}</svg>')


def _when(iso: Any) -> str:
    return "-" if not iso else str(iso).replace("T", " ")[:19]
