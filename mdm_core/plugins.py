"""The plugin manager: loads ``mdm`` entry points lazily and records how each one went.

Nothing is scanned at ``import mdm_core``; the first call to :func:`get_plugin_manager`
loads the built-in plugins and every entry point of the group ``mdm``. Whatever goes
wrong with a plugin (its import, its registration, a function named like a hook that no
spec defines, a hook implementation whose arguments the spec lacks, an exception raised
by a hook call, a result of the wrong type or kind) marks it ``failed`` with a one-line
reason, and MDM goes on without it, unless ``MDM_STRICT_PLUGINS=1``, which makes it fatal.
Every hook is called through :meth:`MDMPluginManager.collect`, the one guarded collector.
``MDM_DISABLE_PLUGINS=a,b`` skips plugins by entry-point name (status ``disabled``).
"""

from __future__ import annotations

import difflib
import importlib
import os
from collections.abc import Callable, Mapping
from functools import cache
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import attrs
import pluggy

from mdm_core.errors import PluginError
from mdm_core.hookspecs import PROJECT, Implementation, MDMHookSpecs
from mdm_core.logging import get_logger

log = get_logger(__name__)

ENTRY_POINT_GROUP = "mdm"
BUILTIN_PLUGINS = ("mdm_core.config.loader", "mdm_core.datasets.catalog", "mdm_core.migration.move")


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
        self.strict = os.environ.get("MDM_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes"}

    @property
    def hook(self) -> pluggy.HookRelay:
        return self.pm.hook

    def load(self) -> None:
        """Register the built-in plugins, then every enabled entry point."""
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
                self.records.append(PluginRecord(ep.name, dist, version, "loaded"))
                self.fail(ep.name, f"failed to load: {type(exc).__name__}: {exc}")
                continue
            self._register(plugin, ep.name, dist, version)

    def register_plugin(self, plugin: ModuleType | object, name: str) -> None:
        """Register an in-process plugin (tests, embedding applications)."""
        self._register(plugin, name, "(in-process)", "-")

    def _register(self, plugin: object, name: str, dist: str, version: str) -> None:
        self.records.append(PluginRecord(name, dist, version, "loaded"))
        unknown = [attr for attr in _hook_like_names(plugin) if not hasattr(MDMHookSpecs, attr)]
        if unknown:
            self.fail(name, "; ".join(_unknown_hook(attr) for attr in unknown))
            return
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:  # pluggy's PluginValidationError: arguments the spec lacks, ...
            self.fail(name, f"cannot be registered: {_one_line(exc)}")
            return
        hooks = tuple(sorted(impl.name for impl in self.pm.get_hookcallers(plugin) or ()))
        self._update(name, hooks=hooks)

    def fail(self, name: str, reason: str) -> None:
        """Mark plugin ``name`` failed with a one-line ``reason`` (and unregister it), or
        raise under strict mode. Host code that calls a plugin's objects outside a hook
        call (a source format's ``claims``) reports their failures here."""
        record = self._update(name, status="failed", error=reason)
        if self.strict:
            raise PluginError(f"Plugin '{name}' ({record.distribution}) {reason} (MDM_STRICT_PLUGINS is set).")
        log.warning("plugin failed", plugin=name, error=reason)
        if self.pm.get_plugin(name) is not None:
            self.pm.unregister(name=name)

    def _update(self, name: str, **changes: object) -> PluginRecord:
        index = next(i for i, r in enumerate(self.records) if r.name == name)
        self.records[index] = attrs.evolve(self.records[index], **changes)
        return self.records[index]

    def is_loaded(self, name: str) -> bool:
        """Whether plugin ``name`` is registered (loaded and not failed)."""
        return self.pm.get_plugin(name) is not None

    def implementations(self, kind: str) -> list[tuple[str, Implementation]]:
        """All (plugin name, Implementation) offered for ``kind``, in registration order;
        a plugin offering anything else under that hook is marked failed."""
        return self.collect(
            IMPLEMENTATION_HOOKS[kind], accept=lambda item: isinstance(item, Implementation) and item.kind == kind,
            expected=f"a {kind} Implementation",
        )

    def collect(
        self, hook_name: str, *, accept: Callable[[Any], bool] | None = None, expected: str = "",
        arguments: Mapping[str, Any] | None = None,
    ) -> list[tuple[str, Any]]:
        """Results of any hook (a list per plugin), each with the name of the plugin that
        gave it. ``arguments`` are the hook's arguments by name; each implementation gets
        those it names (as with pluggy, it may name fewer than the spec). A plugin whose
        implementation raises, returns something other than a list or tuple, or gives an
        item ``accept`` refuses (``expected`` says what it should be) is marked failed and
        contributes nothing."""
        arguments = arguments or {}
        found: list[tuple[str, Any]] = []
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            try:
                result = impl.function(*(arguments.get(name) for name in impl.argnames))
                if result is not None and not isinstance(result, (list, tuple)):
                    raise TypeError(f"returned {type(result).__name__}, not a list")
            except Exception as exc:
                self.fail(impl.plugin_name, f"hook {hook_name} failed: {_one_line(exc)}")
                continue
            refused = [item for item in result or () if accept is not None and not accept(item)]
            if refused:
                self.fail(impl.plugin_name, f"offers {refused[0]!r} under {hook_name}, not {expected}")
                continue
            found.extend((impl.plugin_name, item) for item in result or ())
        return found


#: The hooks that offer named implementations, by family.
IMPLEMENTATION_HOOKS = {
    "storage": "mdm_storage_backends",
    "features": "mdm_feature_engines",
    "config": "mdm_config_loaders",
    "catalog": "mdm_dataset_catalogs",
}


#: Every hook the host defines.
HOOK_NAMES = tuple(sorted(n for n in dir(MDMHookSpecs) if n.startswith("mdm_")))


def _hook_like_names(plugin: object) -> list[str]:
    """Names of the plugin's functions that are meant as hook implementations: marked
    with ``hookimpl``, or defined by the plugin itself with a name starting ``mdm_``."""
    home = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__
    names = []
    for attr in dir(plugin):
        value = getattr(plugin, attr, None)
        if not callable(value) or isinstance(value, type):
            continue
        marked = hasattr(value, f"{PROJECT}_impl")
        if marked or (attr.startswith("mdm_") and getattr(value, "__module__", None) == home):
            names.append(attr)
    return sorted(names)


def _unknown_hook(attr: str) -> str:
    close = difflib.get_close_matches(attr, HOOK_NAMES, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"defines {attr}, which is not an MDM hook{hint}"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}"


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
