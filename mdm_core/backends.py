"""The storage backend that serves a name: the installed implementations of the
``mdm_storage_backends`` hook, chosen by the flags (:func:`mdm_core.flags.choose`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mdm_core.flags import choose
from mdm_core.plugins import get_plugin_manager
from mdm_core.storage import StorageBackend


def get_backend(name: str, settings: Any) -> StorageBackend:
    """Build the backend called ``name``, chosen by the flags among installed plugins."""
    offered = get_plugin_manager().implementations("storage")
    return choose("storage", name, offered, settings.flags).winner.factory(settings)


def backend_at(name: str, location: Mapping[str, Any], settings: Any) -> StorageBackend:
    """The backend ``name`` reaching the stores recorded at ``location`` (see
    :meth:`StorageBackend.at`): how every existing dataset is opened."""
    return get_backend(name, settings).at(location)
