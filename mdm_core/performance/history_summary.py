"""Figures over operations-history records (:mod:`mdm_core.performance.history`): per
operation, how many, how many failed, rows, average seconds, the last start. What
``mdm stats summary``, ``mdm stats dataset`` and the dashboard show."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any


def summarize(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """``count``, ``failed`` (status not ``ok``), ``rows`` (of the ``ok`` records),
    ``average_seconds`` (of all, 3 decimals; 0.0 for no records), ``last`` (the latest
    ``started``, None if none has one) of a group of records."""
    records = list(records)
    seconds = [float(r.get("seconds") or 0.0) for r in records] or [0.0]
    return {
        "count": len(records),
        "failed": sum(r.get("status") != "ok" for r in records),
        "rows": sum(int(r.get("rows") or 0) for r in records if r.get("status") == "ok"),
        "average_seconds": round(sum(seconds) / len(seconds), 3),
        "last": max((str(r.get("started") or "") for r in records), default="") or None,
    }


def by_operation(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """:func:`summarize` of each operation's records, operations in name order (empty
    for no records)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        groups[str(record.get("operation"))].append(record)
    return {operation: summarize(group) for operation, group in sorted(groups.items())}


def of_dataset(records: Iterable[dict[str, Any]], dataset: str) -> list[dict[str, Any]]:
    """The records of operations on ``dataset`` (its normalized name, as the history
    stores it)."""
    from mdm_core.datasets.models import normalize_name

    wanted = normalize_name(dataset)
    return [r for r in records if r.get("dataset") == wanted]
