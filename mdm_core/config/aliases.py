"""Other names of configuration variables: the MDM 1.x spellings its guides tell users to set.

:data:`ALIASES` is the one table (alias variable -> dotted key, host and plugin keys alike).
An alias sets its key exactly as the key's own variable ``MDM_<SECTION>_<KEY>`` would: it
beats ``mdm.yaml``, its value is checked against the key's type, and its source reads
``env MDM_DATABASE_POOL_SIZE (alias of MDM_DATABASE_POSTGRESQL_POOL_SIZE)``. When the key's
own variable is set too, that one wins and a note names both (``mdm config show`` and
``mdm config validate`` print it as a warning) if their values differ. An alias of a key
this process does not have (its plugin is not loaded) sets nothing. Aliases apply whichever
config loader runs; ``flags.*`` aliases also decide which loader runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Alias variable -> the dotted key it sets.
ALIASES: dict[str, str] = {
    "MDM_FEATURES_SKIP_ON_ERROR": "feature_engineering.skip_on_error",
    "MDM_FEATURES_SKIP_LIST": "feature_engineering.skip_list",
    "MDM_FEATURES_GENERATE_ON_REGISTER": "feature_engineering.enabled",
    "MDM_FEATURES_ENABLE_AT_REGISTRATION": "feature_engineering.enabled",
    "MDM_FEATURES_CUSTOM_ENABLED": "feature_engineering.custom",
    "MDM_FEATURES_DEBUG": "feature_engineering.debug",
    "MDM_DATABASE_POOL_SIZE": "database.postgresql.pool_size",
    "MDM_DATABASE_MAX_OVERFLOW": "database.postgresql.max_overflow",
    "MDM_DEBUG_CONFIG": "logging.debug_config",
    "MDM_FORCE_NEW_CONFIG": "flags.use_new_config",
}


def env_var(dotted: str) -> str:
    """The key's own variable: ``database.postgresql.pool_size`` -> ``MDM_DATABASE_POSTGRESQL_POOL_SIZE``."""
    return "MDM_" + dotted.replace(".", "_").upper()


def aliases_of(dotted: str) -> list[str]:
    """The alias variables of ``dotted``, in table order."""
    return [alias for alias, key in ALIASES.items() if key == dotted]


def alias_source(alias: str) -> str:
    """The source of a value set by ``alias``."""
    return f"env {alias} (alias of {env_var(ALIASES[alias])})"


def alias_values(environ: Mapping[str, str], keys: Mapping[str, Any], same: Any = None
                 ) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """What the aliases set in ``environ`` give the keys in ``keys`` (dotted -> anything,
    e.g. the model's leaves): dotted -> (raw value, source), and the notes of ignored
    aliases (the key's own variable, or an alias earlier in the table, is set too with
    another value). ``same(dotted, a, b)`` says whether two raw values are equal for that key
    (default: equal text)."""
    same = same or (lambda _dotted, a, b: a.strip() == b.strip())
    found: dict[str, tuple[str, str]] = {}
    set_by: dict[str, str] = {}  # dotted -> the alias that set it
    notes: list[str] = []
    for alias, dotted in ALIASES.items():
        if alias not in environ or dotted not in keys:
            continue
        raw = environ[alias]
        canonical = env_var(dotted)
        winner = canonical if canonical in environ else set_by.get(dotted)
        if winner is not None:
            if not same(dotted, raw, environ[winner]):
                notes.append(f"{alias}={raw!r} (alias of {canonical}) ignored: {winner}={environ[winner]!r} "
                             f"is also set and wins for '{dotted}'")
            continue
        set_by[dotted] = alias
        found[dotted] = (raw, alias_source(alias))
    return found, notes
