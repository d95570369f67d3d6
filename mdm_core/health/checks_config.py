"""Doctor checks of the configuration and the plugins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mdm_core.health.model import Check, fail, ok
from mdm_core.secrets import mask

CONFIG, PLUGINS = "config", "plugins"


def check_config(home: Path) -> tuple[Check, Any]:
    """The config check (what ``mdm config validate`` checks: the file parses, values have
    their types and allowed choices, no unknown keys) and the loaded settings (None when
    they cannot be loaded at all)."""
    from mdm_core.config import load_settings
    from mdm_core.config.model import check_choices
    from mdm_core.config.shown import unknown_key_lines
    from mdm_core.errors import MDMError

    fix = f"Edit {home / 'mdm.yaml'} or the MDM_* variable named, then run `mdm config validate`."
    try:
        loaded = load_settings(home)
    except MDMError as exc:
        return fail(CONFIG, "config valid", mask(exc), fix), None
    try:
        check_choices(loaded.settings, loaded.sources)
    except MDMError as exc:
        return fail(CONFIG, "config valid", mask(exc), fix), loaded
    unknown = unknown_key_lines(loaded)
    if unknown:
        return fail(CONFIG, "config valid", "; ".join(unknown) + ".", fix), loaded
    where = ", ".join(loaded.files) or "no config file (defaults)"
    return ok(CONFIG, "config valid", f"{where}; loader {loaded.loader}."), loaded


def check_plugins() -> list[Check]:
    """One FAIL per plugin that failed to load or to answer a hook (with its error), or
    one OK row. Every hook is called first, as ``mdm plugins list`` does, so a plugin
    whose hook fails is marked."""
    from mdm_core.cli.plugins import call_every_hook
    from mdm_core.errors import MDMError
    from mdm_core.plugins import IMPLEMENTATION_HOOKS, get_plugin_manager

    try:
        manager = get_plugin_manager()
        call_every_hook()
        for kind in IMPLEMENTATION_HOOKS:
            manager.implementations(kind)
    except MDMError as exc:  # MDM_STRICT_PLUGINS: the first failure is fatal
        return [fail(PLUGINS, "plugins load", mask(exc), "Fix or uninstall the plugin named, or unset "
                     "MDM_STRICT_PLUGINS to run without it.")]
    failed = [r for r in manager.records if r.status == "failed"]
    if not failed:
        loaded = sum(1 for r in manager.records if r.status == "loaded")
        disabled = [r.name for r in manager.records if r.status == "disabled"]
        note = f"; disabled: {', '.join(disabled)}" if disabled else ""
        return [ok(PLUGINS, "plugins load", f"{loaded} plugins loaded{note}.")]
    return [fail(PLUGINS, f"plugin {r.name}", f"{r.distribution} {r.version}: {mask(r.error or 'failed')}",
                 f"pip install --force-reinstall {r.distribution}, or skip it: MDM_DISABLE_PLUGINS={r.name}")
            for r in failed]
