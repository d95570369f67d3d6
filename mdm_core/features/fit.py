"""Fitting the chosen feature engine on the training table.

:func:`fit_batches` fits on batches the caller reads (the stored table); :class:`StreamingFit`
fits while the caller streams the table in for another purpose (registration writing it),
so the source is read once and the fit runs on a second core. Both give an
:class:`EngineFit`, which :func:`mdm_core.features.runner.generate_features` takes; the
fitted state is the same either way, because engines are independent of batch boundaries
and the caller feeds the values the store gives back (``StorageBackend.as_stored``).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import attrs
import pyarrow as pa

from mdm_core.features.contract import FitContext, FittedFeatures
from mdm_core.features.discovery import select_engine
from mdm_core.flags import Choice
from mdm_core.pipeline import advancing, prefetched
from mdm_core.progress import row_progress

_POLL_SECONDS = 0.05
_END = object()


@attrs.frozen
class EngineFit:
    """An engine, why it was chosen, and its state fitted on the training table."""

    choice: Choice
    engine: Any
    state: FittedFeatures


def fit_batches(batches: Iterator[pa.RecordBatch], context: FitContext, settings: Any,
                engine_name: str | None = None) -> EngineFit:
    """Fit on ``batches`` of ``context.table`` (pulled on a worker while the engine fits)."""
    choice, engine = select_engine(settings, engine_name)
    with row_progress(f"Fitting features on {context.table}", context.row_count) as bar:
        state = engine.fit(advancing(prefetched(batches), bar.advance), context)
    return EngineFit(choice, engine, state)


class _Cancelled(Exception):
    """Raised inside the engine's fit to stop it."""


class StreamingFit:
    """``engine.fit`` running on a worker thread, fed batch by batch with :meth:`feed`.

    Feeding blocks only while the worker is a few batches behind. An error in the fit
    stops it and is raised by :meth:`finish`; :meth:`cancel` stops it and discards it."""

    def __init__(self, settings: Any, context: FitContext, depth: int = 4) -> None:
        self.context = context
        self.choice, self.engine = select_engine(settings)
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._result: list[Any] = []
        self._worker = threading.Thread(target=self._run, name="mdm-fit", daemon=True)
        self._worker.start()

    def _batches(self) -> Iterator[pa.RecordBatch]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if self._stop.is_set():
                raise _Cancelled
            yield item

    def _run(self) -> None:
        try:
            self._result.append(("ok", self.engine.fit(self._batches(), self.context)))
        except BaseException as exc:  # handed to finish()
            self._result.append(("error", exc))

    def _put(self, item: Any) -> None:
        while self._worker.is_alive():
            try:
                self._queue.put(item, timeout=_POLL_SECONDS)
                return
            except queue.Full:
                continue

    def feed(self, batch: pa.RecordBatch) -> None:
        self._put(batch)

    def finish(self) -> EngineFit:
        """Wait for the fit over everything fed; its result, or its error raised."""
        self._put(_END)
        self._worker.join()
        status, value = self._result[0]
        if status == "error":
            raise value
        return EngineFit(self.choice, self.engine, value)

    def cancel(self) -> None:
        self._stop.set()
        self._put(_END)
        self._worker.join()
