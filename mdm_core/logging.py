"""structlog set-up: quiet by default (warnings and errors), more with verbose/debug."""

from __future__ import annotations

import logging
import sys

import structlog

_LEVELS = {"quiet": logging.WARNING, "verbose": logging.INFO, "debug": logging.DEBUG}


def configure_logging(mode: str = "quiet", level_name: str | None = None) -> None:
    """Route structlog to stderr at the level implied by ``mode`` or by ``level_name``.

    ``mode`` is ``quiet``, ``verbose`` or ``debug``; an explicit CLI mode other than quiet
    wins over ``level_name`` (the ``logging.level`` config key).
    """
    level = _LEVELS[mode]
    if mode == "quiet" and level_name:
        level = logging.getLevelName(level_name.upper())
        if not isinstance(level, int):
            level = logging.WARNING
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="%H:%M:%S", utc=False),
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    """Return a structlog logger bound to ``name``."""
    return structlog.get_logger(name)
