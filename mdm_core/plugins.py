"""The plugin manager: loads ``mdm`` entry points lazily and records how each one went.

Nothing is scanned at ``import mdm_core``; the first call to :func:`get_plugin_manager`
loads the built-in plugins and every entry point of the group ``mdm``. A plugin that fails
to import is recorded with status ``failed`` and its error, and MDM goes on without it,
unless ``MDM_STRICT_PLUGINS=1``, which makes it fatal. ``MDM_DISABLE_PLUGINS=a,b`` skips
plugins by entry-point name (status ``disabled``).
"""

from __future__ import annotations

import importlib
import os
from functools import cache
from importlib.metadata import entry_points
from types import ModuleType

import attrs
import pluggy

from mdm_core.errors import PluginError
from mdm_core.hookspecs import PROJECT, Implementation, MDMHookSpecs
from mdm_core.logging import get_logger

log = get_logger(__name__)

ENTRY_POINT_GROUP = "mdm"
BUILTIN_PLUGINS = ("mdm_core.config.loader",)


@attrs.frozen
class PluginRecord:
    """What the host knows about one plugin: where it came from and whether it loaded."""

    name: str
    distribution: str
    version: str
    status: str  # loaded | failed | disabled
    hooks: tuple[str, ...] = ()
    error: str | None = None


class MDMPluginManager:
    """pluggy's manager plus a per-plugin status report and implementation lookup."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(MDMHookSpecs)
        self.records: list[PluginRecord] = []

    @property
    def hook(self) -> pluggy.HookRelay:
        return self.pm.hook

    def load(self) -> None:
        """Register the built-in plugins, then every enabled entry point."""
        strict = os.environ.get("MDM_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes"}
        disabled = {
            n.strip() for n in os.environ.get("MDM_DISABLE_PLUGINS", "").split(",") if n.strip()
        }
        for module_name in BUILTIN_PLUGINS:
            self._register(importlib.import_module(module_name), f"core:{module_name.rsplit('.', 1)[-1]}", "mdm-core", _core_version())
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = ep.dist.name if ep.dist else "?"
            version = ep.dist.version if ep.dist else "?"
            if ep.name in disabled:
                self.records.append(PluginRecord(ep.name, dist, version, "disabled"))
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # any import-time failure of a third-party plugin
                message = f"{type(exc).__name__}: {exc}"
                if strict:
                    raise PluginError(
                        f"Plugin '{ep.name}' ({dist}) failed to load: {message} "
                        "(MDM_STRICT_PLUGINS is set)."
                    ) from exc
                log.warning("plugin failed to load", plugin=ep.name, error=message)
                self.records.append(PluginRecord(ep.name, dist, version, "failed", error=message))
                continue
            self._register(plugin, ep.name, dist, version)

    def register_plugin(self, plugin: ModuleType | object, name: str) -> None:
        """Register an in-process plugin (tests, embedding applications)."""
        self._register(plugin, name, "(in-process)", "-")

    def _register(self, plugin: object, name: str, dist: str, version: str) -> None:
        self.pm.register(plugin, name=name)
        hooks = tuple(sorted(impl.name for impl in self.pm.get_hookcallers(plugin) or ()))
        self.records.append(PluginRecord(name, dist, version, "loaded", hooks))

    def implementations(self, kind: str) -> list[tuple[str, Implementation]]:
        """All (plugin name, Implementation) offered for ``kind``, in registration order."""
        hook_name = {
            "storage": "mdm_storage_backends",
            "features": "mdm_feature_engines",
            "config": "mdm_config_loaders",
        }[kind]
        found: list[tuple[str, Implementation]] = []
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            for item in impl.function() or ():
                found.append((impl.plugin_name, item))
        return found

    def collect(self, hook_name: str) -> list[tuple[str, object]]:
        """Results of a 1:N hook, each with the name of the plugin that gave it."""
        found: list[tuple[str, object]] = []
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            for item in impl.function() or ():
                found.append((impl.plugin_name, item))
        return found


def _core_version() -> str:
    from mdm_core import __version__

    return __version__


@cache
def get_plugin_manager() -> MDMPluginManager:
    """The process-wide plugin manager, loaded on first use."""
    manager = MDMPluginManager()
    manager.load()
    return manager


def reset_plugin_manager() -> None:
    """Drop the loaded manager so the next call reloads entry points (tests)."""
    get_plugin_manager.cache_clear()
