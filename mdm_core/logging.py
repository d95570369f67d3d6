"""structlog set-up: the terminal (stderr) and, if ``logging.file`` is set, a log file.

- The terminal shows warnings and errors by default, more with ``-v`` (info) or ``--debug``
  (debug). Without a log file, ``logging.level`` sets the terminal's level when no CLI flag
  is given (as in MDM 1.x).
- ``logging.file`` receives records at ``logging.level`` (or lower with ``-v``/``--debug``),
  as JSON lines (``logging.format: json``) or as console lines, with full timestamps. A
  relative path is resolved against the home's logs folder (``paths.logs_path``). Records
  meant for the file only never reach the terminal. The file is rotated as
  :class:`logging.handlers.RotatingFileHandler` does: at ``logging.max_bytes`` it becomes
  ``<file>.1`` (``.1`` becomes ``.2``, ...), keeping ``logging.backup_count`` old files.
- ``feature_engineering.debug`` lets the loggers of feature discovery and generation
  (:data:`FEATURE_LOGGERS`) emit debug records to every destination, whatever its level.
- Every record, wherever it goes, passes through :func:`mdm_core.secrets.mask` first:
  no password reaches a log.
- structlog itself is imported when a record at an enabled level is first emitted, so a
  command that logs nothing (the quiet default) does not pay for importing it.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mdm_core.secrets import MASK, is_secret_key, mask, mask_value

_LEVELS = {"quiet": logging.WARNING, "verbose": logging.INFO, "debug": logging.DEBUG}
#: Accepted values of ``logging.level`` (any case).
LEVEL_NAMES = {
    "DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING, "WARN": logging.WARNING,
    "ERROR": logging.ERROR, "CRITICAL": logging.CRITICAL,
}
#: Accepted values of ``logging.format``.
FORMATS = ("console", "json")
_METHOD_LEVELS = {
    "debug": logging.DEBUG, "info": logging.INFO, "msg": logging.INFO, "warning": logging.WARNING,
    "warn": logging.WARNING, "error": logging.ERROR, "exception": logging.ERROR,
    "critical": logging.CRITICAL, "fatal": logging.CRITICAL,
}

#: Event key: the record goes to the log file only, never to the terminal.
FILE_ONLY = "_file_only"

if TYPE_CHECKING:
    import structlog

#: Loggers (name prefixes) that ``feature_engineering.debug`` turns to debug level.
FEATURE_LOGGERS = ("mdm_core.features", "mdm_plugin_features_")

_lock = threading.Lock()
_open_file: tuple[tuple[Path, int, int], _RotatingFile] | None = None


def level_number(name: str | None) -> int | None:
    """The ``logging`` level of a ``logging.level`` value, None if unknown or unset."""
    return LEVEL_NAMES.get(str(name).strip().upper()) if name else None


def log_file_path(settings: Any) -> Path | None:
    """Where ``logging.file`` points: absolute as given, relative under the logs folder."""
    raw = getattr(settings.logging, "file", None)
    if not raw or not str(raw).strip():
        return None
    path = Path(str(raw).strip()).expanduser()
    return path if path.is_absolute() else settings.path("logs_path") / path


class _Sink:
    """One destination: records at ``level`` or above, rendered by the processors that
    ``make_processors()`` returns (built at the first write)."""

    def __init__(self, level: int, stream: Any, make_processors: Callable[[], list[Any]]) -> None:
        self.level = level
        self.stream = stream  # None: whatever sys.stderr is at the time of writing
        self._make_processors = make_processors
        self._processors: list[Any] | None = None

    def write(self, method: str, event_dict: dict[str, Any]) -> None:
        if self._processors is None:
            self._processors = self._make_processors()
        event: Any = dict(event_dict)
        for processor in self._processors:
            event = processor(None, method, event)
        stream = self.stream if self.stream is not None else sys.stderr
        try:
            stream.write(str(event) + "\n")
            stream.flush()
        except (OSError, ValueError):  # a closed or full stream must not break MDM
            pass


class FanoutLogger:
    """The structlog logger: hands each (already masked) event to every sink whose level
    it reaches."""

    def __init__(self, sinks: list[_Sink], name: str | None = None) -> None:
        self._sinks = sinks
        self._name = name

    def _emit(self, method: str, event_dict: dict[str, Any]) -> None:
        level = _METHOD_LEVELS.get(method, logging.INFO)
        if self._name and "logger" not in event_dict:
            event_dict["logger"] = self._name
        file_only = bool(event_dict.pop(FILE_ONLY, False))
        debug = any(str(self._name or "").startswith(p) for p in _LoggerFactory.debug_loggers)
        for sink in self._sinks:
            if (level >= sink.level or debug) and not (file_only and sink.stream is None):
                sink.write(method, event_dict)

    def __getattr__(self, method: str):
        if method.startswith("_"):
            raise AttributeError(method)
        return lambda **event_dict: self._emit(method, event_dict)


def mask_event(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: no password in any value of a record (or in its keys' values)."""
    clean: dict[str, Any] = {}
    for key, value in event_dict.items():
        if is_secret_key(key) and value not in (None, ""):
            clean[key] = MASK
        elif value is None or isinstance(value, bool | int | float):
            clean[key] = value
        elif isinstance(value, str):
            clean[key] = mask(value)
        elif isinstance(value, list | tuple | dict):
            clean[key] = mask_value(value)
        else:
            clean[key] = mask(str(value))
    return clean


def _drop_logger_name(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    event_dict.pop("logger", None)
    return event_dict


def _terminal_processors() -> list[Any]:
    import structlog

    return [
        _drop_logger_name,
        structlog.processors.TimeStamper(fmt="%H:%M:%S", utc=False),
        structlog.dev.ConsoleRenderer(colors=False),
    ]


def _leading_keys(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """``timestamp``, ``level``, ``logger``, ``event`` first: a JSON line reads left to right."""
    head = {k: event_dict.pop(k) for k in ("timestamp", "level", "logger", "event") if k in event_dict}
    return {**head, **event_dict}


def _file_processors(fmt: str) -> list[Any]:
    import structlog

    stamp = structlog.processors.TimeStamper(fmt="iso", utc=False)
    if fmt == "json":
        return [stamp, _leading_keys, structlog.processors.JSONRenderer(default=str, ensure_ascii=False)]
    return [stamp, structlog.dev.ConsoleRenderer(colors=False)]


class _RotatingFile(logging.handlers.RotatingFileHandler):
    """The log file as a text stream (``write``/``flush``), rotated by the standard
    handler's rules; a failed write raises OSError (the sink ignores it) instead of
    printing logging's own error report."""

    def write(self, text: str) -> None:
        self.emit(logging.makeLogRecord({"msg": text.rstrip("\n")}))

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        raise OSError(f"cannot write the log file {self.baseFilename}")

    @property
    def closed(self) -> bool:
        return self.stream is None or self.stream.closed


def _open_log_file(path: Path, max_bytes: int, backup_count: int) -> _RotatingFile | None:
    global _open_file
    key = (path, max_bytes, backup_count)
    with _lock:
        if _open_file is not None and _open_file[0] == key and not _open_file[1].closed:
            return _open_file[1]
        _close_log_file()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = _RotatingFile(path, maxBytes=max(0, max_bytes), backupCount=max(0, backup_count),
                                   encoding="utf-8")
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            print(f"Warning: cannot write the log file {path} ({reason}); logging to it is off.", file=sys.stderr)
            return None
        handle.setFormatter(logging.Formatter("%(message)s"))
        _open_file = (key, handle)
        return handle


def _close_log_file() -> None:
    global _open_file
    if _open_file is not None:
        with contextlib.suppress(OSError):
            _open_file[1].close()
        _open_file = None


def configure_logging(mode: str = "quiet", level_name: str | None = None, *, settings: Any = None) -> Path | None:
    """Route structlog to stderr (and to ``logging.file`` of ``settings``, if set).

    ``mode`` is ``quiet``, ``verbose`` or ``debug`` (the CLI's ``-v``/``--debug``);
    ``level_name`` (or ``settings.logging.level``) is the configured level. Returns the
    log file's path when records go to a file.
    """
    cli_level = _LEVELS[mode]
    if settings is not None:
        level_name = settings.logging.level
    configured = level_number(level_name)
    file_path = log_file_path(settings) if settings is not None else None
    sinks: list[_Sink] = []
    handle = None
    if file_path is not None:
        rotation = settings.logging
        handle = _open_log_file(file_path, int(getattr(rotation, "max_bytes", 0)),
                                int(getattr(rotation, "backup_count", 0)))
    if handle is None:
        file_path = None
        with _lock:
            _close_log_file()
        terminal_level = cli_level if mode != "quiet" or configured is None else configured
    else:
        terminal_level = cli_level
        file_level = min(configured if configured is not None else logging.WARNING, cli_level)
        fmt = str(getattr(settings.logging, "format", "console") or "console").strip().lower()
        sinks.append(_Sink(file_level, handle, lambda: _file_processors(fmt)))
    sinks.insert(0, _Sink(terminal_level, None, _terminal_processors))
    features = getattr(settings, "feature_engineering", None)
    _LoggerFactory.debug_loggers = FEATURE_LOGGERS if getattr(features, "debug", False) else ()
    _LoggerFactory.sinks = sinks
    _LoggerFactory.min_level = logging.DEBUG if _LoggerFactory.debug_loggers else min(s.level for s in sinks)
    _LoggerFactory.structlog_pending = True
    if "structlog" in sys.modules:  # already paid for (or captured by a test): apply now
        _configure_structlog()
    return file_path


def _capturing(processors: list[Any]) -> bool:
    """True while a :class:`structlog.testing.LogCapture` is in structlog's processors
    (``structlog.testing.capture_logs`` or a test's own capture)."""
    testing = sys.modules.get("structlog.testing")
    return testing is not None and any(isinstance(p, testing.LogCapture) for p in processors)


def _configure_structlog() -> None:
    """Hand the current sinks to structlog (done once per :func:`configure_logging`).

    While a capture is active its processors are kept (replacing them would hide MDM's
    records from the test; its exit restores the processors it found): only the level
    filter is applied, and the configuration stays pending until the first record
    emitted after the capture ends.
    """
    import structlog

    wrapper_class = structlog.make_filtering_bound_logger(_LoggerFactory.min_level)
    if _capturing(structlog.get_config()["processors"]):
        structlog.configure(wrapper_class=wrapper_class)
        return
    _LoggerFactory.structlog_pending = False
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.format_exc_info,
            mask_event,
        ],
        wrapper_class=wrapper_class,
        logger_factory=_LoggerFactory,
        cache_logger_on_first_use=False,
    )


def is_configured() -> bool:
    """True once :func:`configure_logging` has run in this process."""
    return _LoggerFactory.min_level is not None


def debug_enabled() -> bool:
    """True when some destination takes debug records (worth building costly ones)."""
    return any(sink.level <= logging.DEBUG for sink in _LoggerFactory.sinks)


class _LoggerFactory:
    """A :class:`FanoutLogger` over the current sinks (the terminal sink looks up
    ``sys.stderr`` at each write, so a redirected stderr is honoured)."""

    sinks: list[_Sink] = []
    min_level: int | None = None  # None: configure_logging has not run
    debug_loggers: tuple[str, ...] = ()  # name prefixes logging at debug whatever the sinks' levels
    structlog_pending = False  # configured, but not yet handed to structlog

    def __new__(cls, *args: Any) -> FanoutLogger:  # type: ignore[misc]
        return FanoutLogger(cls.sinks, str(args[0]) if args and args[0] else None)


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    """Return a structlog logger for ``name`` (shown as ``logger`` in log files); records
    below every destination's level are dropped without importing structlog."""
    return _LazyLogger(name)  # type: ignore[return-value]


def _discard(*_args: Any, **_kwargs: Any) -> None:
    return None


class _LazyLogger:
    """Stands for ``structlog.get_logger(name)`` until a record is worth emitting."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_"):
            raise AttributeError(method)
        level = _METHOD_LEVELS.get(method)
        floor = _LoggerFactory.min_level
        if level is not None and floor is not None and level < floor:
            return _discard
        import structlog

        if _LoggerFactory.structlog_pending:
            _configure_structlog()
        return getattr(structlog.get_logger(self._name), method)
