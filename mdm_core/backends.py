"""The storage backend that serves a name: the installed implementations of the
``mdm_storage_backends`` hook, chosen by the flags (:func:`mdm_core.flags.choose`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mdm_core.errors import StorageError
from mdm_core.flags import Choice, choose
from mdm_core.plugins import get_plugin_manager
from mdm_core.storage import StorageBackend


def get_backend(name: str, settings: Any) -> StorageBackend:
    """Build the backend called ``name``, chosen by the flags among installed plugins."""
    return _choice(name, settings).winner.factory(settings)


def backend_at(name: str, location: Mapping[str, Any], settings: Any, *, base: StorageBackend | None = None
               ) -> StorageBackend:
    """The backend ``name`` reaching the stores recorded at ``location`` (see
    :meth:`StorageBackend.at`): how every existing dataset is opened. ``base`` is a
    backend of ``name`` the caller already built (its connections are reused). A location
    in an earlier MDM's layout (``layout: 1.x``) needs the legacy generation: StorageError
    saying so when the flags chose the new one."""
    choice = _choice(name, settings)
    layout = location.get("layout")
    if layout and choice.winner.generation == "new":
        raise StorageError(
            f"This dataset is stored in the MDM {layout} layout, which the new {name} backend does not read: "
            "turn use_new_storage off (mdm flags set use_new_storage off) or migrate it (mdm-migrate plan)."
        )
    return (base if base is not None else choice.winner.factory(settings)).at(location)


def _choice(name: str, settings: Any) -> Choice:
    return choose("storage", name, get_plugin_manager().implementations("storage"), settings.flags)
