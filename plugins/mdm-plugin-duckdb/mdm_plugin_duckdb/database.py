"""One DuckDB database instance per file and process, shared by every store opened on it.

DuckDB allows a single read-write instance of a file per process (and a file written by
one process cannot be opened by another), and refuses a second instance of the same file
with a different configuration. Stores therefore never call ``duckdb.connect`` directly:
:func:`acquire` returns a cursor (its own connection) on the shared instance, opening it
on first use, and :func:`release` closes the instance when its last user goes, which
releases DuckDB's file lock. A read-only store opened while the file is already open for
writing in this process shares the writable instance; the store itself refuses writes.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import attrs
import duckdb

from mdm_core.errors import StorageError

_LOCK = threading.Lock()
_OPEN: dict[Path, _Instance] = {}


@attrs.define
class _Instance:
    root: Any
    read_only: bool
    users: int = 0


def config_for(settings: Any) -> dict[str, Any]:
    """DuckDB ``config`` from ``database.duckdb`` settings (memory_limit, threads, temp_directory)."""
    config: dict[str, Any] = {"memory_limit": str(settings.memory_limit), "threads": int(settings.threads)}
    if settings.temp_directory:
        config["temp_directory"] = str(Path(settings.temp_directory).expanduser())
    return config


def failure(what: str, exc: BaseException, settings: Any) -> StorageError:
    """``what`` failed with DuckDB error ``exc``, as one sentence; running out of memory
    names ``database.duckdb.memory_limit``, ``threads`` and ``temp_directory`` (what
    lets the query spill to disk instead)."""
    if isinstance(exc, duckdb.OutOfMemoryException):
        reason = str(exc).strip().splitlines()[0].removeprefix("Out of Memory Error: ").rstrip(".")
        spill = settings.temp_directory or "next to the database file"
        return StorageError(
            f"{what} ran out of DuckDB memory ({reason}); raise database.duckdb.memory_limit "
            f"(now {settings.memory_limit}), lower database.duckdb.threads (now {settings.threads}) or point "
            f"database.duckdb.temp_directory (now {spill}) at a disk with room to spill."
        )
    return StorageError(f"{what} failed: {exc}")


def acquire(path: Path, *, read_only: bool, config: dict[str, Any]) -> Any:
    """A new connection to the instance of ``path``; pair every call with :func:`release`."""
    key = path.resolve()
    with _LOCK:
        instance = _OPEN.get(key)
        if instance is not None and instance.read_only and not read_only:
            raise StorageError(
                f"DuckDB database {path.name} is open read-only in this process; "
                "close its readers before writing."
            )
        if instance is None:
            try:
                root = duckdb.connect(str(path), read_only=read_only, config=config)
            except duckdb.IOException as exc:
                raise StorageError(
                    f"DuckDB database {path.name} is locked by another process "
                    f"(a writer excludes everyone else): {exc}"
                ) from None
            except duckdb.Error as exc:
                raise StorageError(f"Cannot open DuckDB database {path.name}: {exc}") from None
            instance = _OPEN[key] = _Instance(root, read_only)
        instance.users += 1
        return instance.root.cursor()


def release(path: Path) -> None:
    """Give back one use of the instance of ``path``; the last one closes it."""
    key = path.resolve()
    with _LOCK:
        instance = _OPEN.get(key)
        if instance is None:
            return
        instance.users -= 1
        if instance.users <= 0:
            del _OPEN[key]
            instance.root.close()


def is_open(path: Path) -> bool:
    """Whether this process still holds an instance of ``path`` (tests, drop/move checks)."""
    with _LOCK:
        return path.resolve() in _OPEN
