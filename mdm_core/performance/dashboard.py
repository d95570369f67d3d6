"""``mdm stats dashboard``: the operations history (:mod:`mdm_core.performance.history`)
as one self-contained HTML page, as MDM 1.x's dashboard was (without its chart library
fetched from a CDN: :mod:`mdm_core.performance.dashboard_html` draws inline SVG).

:func:`build_dashboard` reduces the records to a :class:`Dashboard` (plain data, also what
``--format json`` prints); :func:`write_dashboard` renders and writes it. The default file
is ``<home>/dashboard.html``, where 1.x wrote it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from mdm_core.durable import write_atomically
from mdm_core.errors import MDMError
from mdm_core.performance.history import started_at
from mdm_core.performance.history_summary import by_operation, summarize

#: File name of the dashboard in the home (MDM 1.x's).
DASHBOARD_FILE = "dashboard.html"
#: Days the "operations per day" chart covers, up to the day of the newest record.
CHART_DAYS = 30
#: Rows of the recent-operations and errors tables.
TABLE_ROWS = 20


@attrs.frozen
class Day:
    """Operations started on one UTC ``day`` (ISO date): ``ok`` and not ok (``failed``)."""

    day: str
    ok: int
    failed: int


@attrs.frozen
class Dashboard:
    """What the page shows. ``operations`` maps each operation to its figures
    (:func:`mdm_core.performance.history_summary.summarize`); ``days`` covers up to
    :data:`CHART_DAYS` days ending on the newest record's; ``errors`` and ``recent`` are
    history records, newest first."""

    generated: str
    total: int
    failed: int
    success_percent: float
    average_seconds: float
    datasets: int
    last: str | None
    operations: dict[str, dict[str, Any]]
    days: tuple[Day, ...]
    errors: tuple[dict[str, Any], ...]
    recent: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def default_path(settings: Any) -> Path:
    """Where the dashboard of the home of ``settings`` goes without ``--output``."""
    return Path(settings.home) / DASHBOARD_FILE


def build_dashboard(records: Sequence[dict[str, Any]], now: datetime | None = None) -> Dashboard:
    """The dashboard of history ``records`` (newest first, as ``read_history`` gives them)."""
    overall = summarize(records)
    datasets = {name for r in records for name in str(r.get("dataset") or "").split(",") if name}
    return Dashboard(
        generated=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
        total=overall["count"],
        failed=overall["failed"],
        success_percent=round(100.0 * (overall["count"] - overall["failed"]) / overall["count"], 1)
        if records else 100.0,
        average_seconds=overall["average_seconds"],
        datasets=len(datasets),
        last=overall["last"],
        operations=by_operation(records),
        days=_days(records),
        errors=tuple(r for r in records if r.get("status") != "ok")[:TABLE_ROWS],
        recent=tuple(records[:TABLE_ROWS]),
    )


def write_dashboard(dashboard: Dashboard, path: Path) -> Path:
    """Write ``dashboard`` as HTML to ``path`` (its folders created; all or nothing);
    MDMError naming the path when it cannot be written."""
    from mdm_core.performance.dashboard_html import render_html

    path = path.expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, render_html(dashboard))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise MDMError(f"Cannot write the dashboard to {path} ({reason}); choose another file with --output.") from exc
    return path


def _days(records: Sequence[dict[str, Any]]) -> tuple[Day, ...]:
    ok: Counter[date] = Counter()
    failed: Counter[date] = Counter()
    for record in records:
        moment = started_at(record)
        if moment is not None:
            (ok if record.get("status") == "ok" else failed)[moment.astimezone(UTC).date()] += 1
    if not ok and not failed:
        return ()
    last = max([*ok, *failed])
    first = max(min([*ok, *failed]), last - timedelta(days=CHART_DAYS - 1))
    span = (last - first).days + 1
    return tuple(Day(d.isoformat(), ok[d], failed[d]) for d in (first + timedelta(days=i) for i in range(span)))

