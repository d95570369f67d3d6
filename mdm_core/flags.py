"""Feature flags and the one place where the winning implementation of each hook is chosen.

Each selectable hook family has a flag: ``use_new_<family>`` on picks the ``new``
generation of a named implementation, off picks ``legacy``. When only one generation of a
name is installed it wins whatever the flag says, and the reason says so.
"""

from __future__ import annotations

import attrs

from mdm_core.errors import PluginError
from mdm_core.hookspecs import Implementation

FLAG_NAMES = (
    "use_new_config",
    "use_new_storage",
    "use_new_features",
    "use_new_dataset",
    "use_new_cli",
    "feature_compatibility_mode",
)

FAMILY_FLAG = {
    "config": "use_new_config",
    "storage": "use_new_storage",
    "features": "use_new_features",
    "catalog": "use_new_dataset",
}

#: The flags that start off, unless set by the user, in a home holding unmigrated data of
#: an earlier MDM (see the ``mdm_unmigrated_home`` hook).
LEGACY_HOME_FLAGS = ("use_new_config", "use_new_dataset", "use_new_storage", "use_new_cli")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@attrs.frozen
class Flags:
    """The six flags; defaults are those of a new home (new implementations everywhere)."""

    use_new_config: bool = True
    use_new_storage: bool = True
    use_new_features: bool = True
    use_new_dataset: bool = True
    use_new_cli: bool = True
    feature_compatibility_mode: bool = False


def parse_flag_value(text: str) -> bool:
    """Parse ``1/0``, ``true/false``, ``yes/no``, ``on/off`` (any case); ValueError otherwise."""
    value = str(text).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{text!r} is not a flag value (use on/off, 1/0 or true/false)")


@attrs.frozen
class Choice:
    """The winner for one implementation name, and why."""

    kind: str
    name: str
    winner: Implementation
    plugin: str
    reason: str
    alternatives: tuple[str, ...] = ()


def choose(
    kind: str, name: str, offered: list[tuple[str, Implementation]], flags: Flags
) -> Choice:
    """Pick the implementation of ``name`` for hook family ``kind`` according to ``flags``.

    ``offered`` is the (plugin, Implementation) list from the plugin manager. Raises
    PluginError naming what is installed when nothing offers ``name``.
    """
    candidates = [(plugin, impl) for plugin, impl in offered if impl.name == name]
    if not candidates:
        available = sorted({impl.name for _, impl in offered})
        listing = ", ".join(available) if available else "none"
        raise PluginError(
            f"No {kind} plugin provides '{name}' (installed: {listing}); "
            f"install its plugin or check `mdm plugins list`."
        )
    flag = FAMILY_FLAG[kind]
    wanted = "new" if getattr(flags, flag) else "legacy"
    preferred = [(p, i) for p, i in candidates if i.generation == wanted]
    others = tuple(f"{p} ({i.generation})" for p, i in candidates)
    if preferred:
        plugin, impl = preferred[0]
        reason = f"{flag}={'on' if wanted == 'new' else 'off'} selects the {wanted} generation"
        if len(preferred) > 1:
            reason += f"; first of {len(preferred)} {wanted} plugins in load order"
    else:
        plugin, impl = candidates[0]
        reason = f"{flag} asks for {wanted}, but only {impl.generation} is installed"
    return Choice(kind, name, impl, plugin, reason, others)
