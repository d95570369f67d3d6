"""Overlapping the stages of a data flow (feature generation, table copies) on two
threads, in order.

Arrow, numpy and the database drivers release the GIL for their heavy work, so a second
thread lets reading, computing and writing run at the same time on a second core:

- :func:`ahead` runs a function over items on a worker while the caller pulls the items
  (the caller keeps the store to itself: reads and writes stay on one thread);
- :func:`prefetched` pulls items on a worker while the caller consumes them (for a
  stage, like fitting, during which the caller does not touch the store, or a copy
  whose source and target are different stores).

Both keep order, bound what is held in flight to ``depth`` items, surface an exception
at the item where it happened, and stop their worker when the caller stops early.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_POLL_SECONDS = 0.05
_END = object()


def ahead(items: Iterator[T], fn: Callable[[T], R], depth: int = 2) -> Iterator[tuple[T, R]]:
    """``(item, fn(item))`` in order, ``fn`` running on one worker thread up to ``depth``
    items ahead of the caller; ``items`` is pulled, and closed at the end, on the calling
    thread."""
    pending: deque[tuple[T, Future[R]]] = deque()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mdm-ahead") as pool:
        try:
            for item in items:
                pending.append((item, pool.submit(fn, item)))
                if len(pending) >= depth:
                    first, future = pending.popleft()
                    yield first, future.result()
            while pending:
                first, future = pending.popleft()
                yield first, future.result()
        finally:
            for _, future in pending:
                future.cancel()
            _close(items)


def prefetched(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """The items of ``items`` in order, pulled by a worker thread up to ``depth`` ahead of
    the caller. An exception raised while pulling is raised here; when the caller stops
    (finishes, breaks, raises), the worker stops and ``items`` is closed on it."""
    buffer: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                buffer.put(entry, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not put((True, item)):
                    return
            put((True, _END))
        except BaseException as exc:  # handed to the consumer, raised there
            put((False, exc))
        finally:
            _close(iterator)

    worker = threading.Thread(target=produce, name="mdm-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            ok, item = buffer.get()
            if not ok:
                raise item
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        worker.join()


def advancing(items: Iterable[Any], advance: Callable[[int], None]) -> Iterator[Any]:
    """``items`` unchanged, calling ``advance`` (a progress bar's, a step's row counter)
    with each one's ``num_rows`` once the caller is done with it."""
    for item in items:
        yield item
        advance(item.num_rows)


def _close(items: Any) -> None:
    # Close a reader now (a traceback would keep it, and its cursor, alive).
    close = getattr(items, "close", None)
    if close is not None:
        close()
