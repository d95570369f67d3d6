"""The settings classes of this process, composed from the host and the loaded plugins.

``from mdm_core.config.composed import Settings, DatabaseSettings`` gives the classes
:func:`mdm_core.config.load_settings` builds: the host's section classes extended with
every loaded plugin's section (``DatabaseSettings().sqlite`` exists when the SQLite plugin
is loaded). For code that builds Settings by hand (tests, embedding applications);
accessing a name loads the plugins.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    from mdm_core.config.model import settings_model

    classes = settings_model().composed.classes
    if name in classes:
        return classes[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
