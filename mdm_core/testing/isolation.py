"""Running MDM on a temporary home without touching the user's: the environment while
inside (:func:`isolated_environment`), and the user's server settings passed on as
variables (:func:`server_environment`)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from mdm_core.testing.home import KEPT


def server_environment(settings: Any) -> dict[str, str]:
    """The user's ``database.postgresql`` values that differ from the defaults, as
    ``MDM_DATABASE_POSTGRESQL_*`` variables (so a password is never written to a file)."""
    section = getattr(settings.database, "postgresql", None)
    if section is None:
        return {}
    defaults = type(section)()
    return {f"MDM_DATABASE_POSTGRESQL_{field.name.upper()}": str(getattr(section, field.name))
            for field in attrs.fields(type(section))
            if getattr(section, field.name) != getattr(defaults, field.name)}


@contextlib.contextmanager
def isolated_environment(home: Path, extra: dict[str, str]) -> Iterator[None]:
    """``MDM_HOME_DIR`` = ``home`` plus ``extra`` while inside; the caller's other ``MDM_*``
    variables (except those tests keep) are set aside and everything restored on exit."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("MDM_")}
    for key in saved:
        if key not in KEPT:
            del os.environ[key]
    os.environ.update({"MDM_HOME_DIR": str(home), **extra})
    try:
        yield
    finally:
        for key in [k for k in os.environ if k.startswith("MDM_")]:
            del os.environ[key]
        os.environ.update(saved)
