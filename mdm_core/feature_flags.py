"""The implementation flags from Python, as ``mdm flags list`` and ``mdm flags set`` see
and write them: ``from mdm_core import feature_flags``.

:func:`get` gives a flag's effective value (``mdm.yaml``, ``MDM_FLAGS_*`` variables, the
defaults of an unmigrated 1.x home). :func:`set` and the ``*_all_new_features`` functions
write ``<home>/mdm.yaml`` after saving a copy of it in
``<home>/.migration/backups/flags/``; an ``MDM_FLAGS_*`` variable still overrides the
file. An unknown flag name is a ConfigError listing the flags.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from mdm_core.errors import ConfigError
from mdm_core.flags import FLAG_NAMES

#: The flags choosing the new implementations (not ``feature_compatibility_mode``).
NEW_FEATURE_FLAGS = tuple(name for name in FLAG_NAMES if name.startswith("use_new_"))


def _home(home: str | Path | None) -> Path:
    from mdm_core.config import resolve_home

    return Path(home).expanduser().resolve() if home is not None else resolve_home()


def _check(name: str) -> str:
    if name not in FLAG_NAMES:
        raise ConfigError(f"Unknown flag '{name}' (flags: {', '.join(FLAG_NAMES)}).")
    return name


def get(name: str, *, home: str | Path | None = None) -> bool:
    """The effective value of flag ``name``."""
    from mdm_core.config import load_settings

    return bool(getattr(load_settings(_home(home), fresh=True).settings.flags, _check(name)))


def _write(values: Mapping[str, bool], home: str | Path | None) -> Path:
    from mdm_core.config import update_config_file
    from mdm_core.migration.backups import snapshot_config

    for name, value in values.items():
        _check(name)
        if not isinstance(value, bool):
            raise ConfigError(f"Flag '{name}' must be True or False, got {value!r}.")
    root = _home(home)
    snapshot_config(root, "flags")
    path = root / "mdm.yaml"
    for name, value in values.items():
        path = update_config_file(root, f"flags.{name}", value)
    return path


def set(name: str, value: bool, *, home: str | Path | None = None) -> Path:  # the guide names it so
    """Write flag ``name`` = ``value`` to ``mdm.yaml`` (backed up first); returns the file."""
    return _write({name: value}, home)


def enable_all_new_features(*, home: str | Path | None = None) -> Path:
    """Turn every ``use_new_*`` flag on (one backup, then one write per flag)."""
    return _write(dict.fromkeys(NEW_FEATURE_FLAGS, True), home)


def disable_all_new_features(*, home: str | Path | None = None) -> Path:
    """Turn every ``use_new_*`` flag off; ``feature_compatibility_mode`` is left alone."""
    return _write(dict.fromkeys(NEW_FEATURE_FLAGS, False), home)
