"""The operations history: one JSON line per finished operation in
``<home>/logs/operations.jsonl`` (``paths.logs_path``), for ``mdm stats --operations``.

A line is ``{operation, dataset, backend, started, seconds, rows, status, error}``:
``status`` is ``ok``, ``failed`` or ``interrupted``; ``error`` the first line of the error
(secrets masked). Each line is appended with one ``write`` on an ``O_APPEND`` descriptor
under a shared ``flock``, so processes appending at once never interleave. The file is
bounded: once it passes ``MAX_BYTES`` the appender holding the exclusive lock rewrites it
with its newest lines (at most ``KEEP_LINES`` and half of ``MAX_BYTES``) (an appender that meets a rewritten file appends to
the new one). Recording never fails the operation it records: a write error is logged.

Operations are recorded by decorating the function that does them with :func:`recorded`.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mdm_core.logging import get_logger

log = get_logger(__name__)

HISTORY_FILE = "operations.jsonl"
#: The file is trimmed when it grows past this size, to its newest KEEP_LINES lines.
MAX_BYTES = 5 * 1024 * 1024
KEEP_LINES = 10_000
#: Characters of an error message kept in a record.
MAX_ERROR_CHARS = 300
FIELDS = ("operation", "dataset", "backend", "started", "seconds", "rows", "status", "error")


def history_path(settings: Any) -> Path:
    """Where the history of the home of ``settings`` is."""
    return settings.path("logs_path") / HISTORY_FILE


def append(path: Path, record: dict[str, Any]) -> None:
    """Append ``record`` (the FIELDS) to the history at ``path`` as one line; OSError
    when the file cannot be written."""
    line = (json.dumps({key: record.get(key) for key in FIELDS}, default=str) + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            if same_file(fd, path):  # not replaced by a trim while this process waited
                os.write(fd, line)
                size = os.fstat(fd).st_size
                break
        finally:
            os.close(fd)
    if size > MAX_BYTES:
        trim(path)


def trim(path: Path, keep: int = KEEP_LINES) -> None:
    """Rewrite the history at ``path`` with its newest ``keep`` lines (atomically, while
    no process appends)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if not same_file(fd, path) or os.fstat(fd).st_size <= MAX_BYTES:
            return  # another process trimmed it meanwhile
        kept: list[bytes] = []
        size = 0
        for line in reversed(path.read_bytes().splitlines(keepends=True)[-keep:]):
            size += len(line)
            if size > MAX_BYTES // 2:
                break
            kept.append(line)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(b"".join(reversed(kept)))
        os.replace(tmp, path)
    finally:
        os.close(fd)


def read_history(path: Path, limit: int | None = None, operation: str | None = None) -> list[dict[str, Any]]:
    """The records at ``path``, newest first (at most ``limit``; only ``operation``'s
    when given); unreadable lines are skipped, a missing file is an empty history."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []
    records: list[dict[str, Any]] = []
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or (operation and record.get("operation") != operation):
            continue
        records.append(record)
        if limit is not None and len(records) >= limit:
            break
    return records


def recorded(operation: str, target: Callable[..., dict[str, Any]],
             outcome: Callable[[Any], dict[str, Any]] | None = None) -> Callable:
    """Decorate a function so every call appends one record. ``target(*args, **kwargs)``
    gives ``settings`` (whose home keeps the history) and may give ``dataset`` and
    ``backend``; ``outcome(result)`` may give ``rows``, ``backend`` and ``status``. A
    failure of either, or of the write, only loses the record."""

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = datetime.now(UTC).isoformat(timespec="seconds")
            clock = time.perf_counter()
            status, error, result = "ok", None, None
            try:
                result = function(*args, **kwargs)
                return result
            except Exception as exc:
                status, error = "failed", _error_line(exc)
                raise
            except BaseException as exc:  # Ctrl-C, exit
                status, error = "interrupted", _error_line(exc) or type(exc).__name__
                raise
            finally:
                record = {"operation": operation, "started": started, "status": status, "error": error,
                          "seconds": round(time.perf_counter() - clock, 3)}
                _write(record, lambda: target(*args, **kwargs),
                       (lambda: outcome(result)) if outcome is not None and status == "ok" else dict)

        return wrapper

    return decorate


def _write(record: dict[str, Any], target: Callable[[], dict[str, Any]], outcome: Callable[[], dict[str, Any]]) -> None:
    try:
        about = target()
        settings = about.pop("settings")
        record = {**record, **about, **outcome()}
        append(history_path(settings), record)
    except Exception as exc:  # the history never fails what it records
        log.info("could not record the operation in the history", operation=record.get("operation"), error=str(exc))


def _error_line(exc: BaseException) -> str | None:
    from mdm_core.secrets import mask

    text = str(exc).strip().splitlines()
    return mask(text[0])[:MAX_ERROR_CHARS] if text else None


def started_at(record: Any) -> datetime | None:
    """When the history ``record`` started, as an aware datetime (a time without a zone is
    UTC); None when the record has no readable ``started``."""
    try:
        moment = datetime.fromisoformat(str(record.get("started")))
    except (ValueError, AttributeError, TypeError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def same_file(fd: int, path: Path) -> bool:
    """Whether the open ``fd`` is still the file at ``path`` (not replaced by a rewrite)."""
    with contextlib.suppress(FileNotFoundError):
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    return False


# -- what the recorded functions are about (see the ``@recorded`` lines where they are used) --
def registration_target(settings: Any, request: Any) -> dict[str, Any]:
    """``registration.register(settings, request)``."""
    from mdm_core.datasets.models import normalize_name

    return {"settings": settings, "dataset": normalize_name(request.name),
            "backend": request.backend or settings.database.default_backend}


def client_target(client: Any, name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """An ``MDMClient`` method whose first argument is the dataset's name."""
    from mdm_core.datasets.models import normalize_name

    return {"settings": client.settings, "dataset": normalize_name(name)}


def export_target(client: Any, name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """``MDMClient.export_dataset_result``: :func:`client_target` plus the dataset's backend."""
    about = client_target(client, name)
    with contextlib.suppress(Exception):  # an unknown dataset: the record says which name failed
        about["backend"] = client.catalog.load(about["dataset"]).backend
    return about


def dataset_outcome(info: Any) -> dict[str, Any]:
    """A DatasetInfo: the rows of its data tables, its backend."""
    return {"rows": sum(t.row_count for t in info.data_tables), "backend": info.backend}


def export_outcome(result: Any) -> dict[str, Any]:
    """An ExportResult: the rows written to its files."""
    return {"rows": sum(f.rows for f in result.files)}


def migration_target(migration: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """``Migration.run``: the datasets it was limited to, the target backend it was given."""
    options = migration.options
    return {"settings": migration.settings, "dataset": ",".join(options.datasets) or None, "backend": options.to}


def migration_outcome(report: Any) -> dict[str, Any]:
    """A RunReport: the rows its units wrote; ``failed`` unless every unit went through."""
    rows = sum(o.record.rows_written or 0 for o in report.outcomes)
    if report.exit_code == 0:
        return {"rows": rows}
    where = f" (stopped at phase {report.stopped_at})" if report.stopped_at else ""
    return {"rows": rows, "status": "failed", "error": f"exit code {report.exit_code}{where}"}
