"""Configuration: resolve the home, pick the winning config loader, build Settings."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import attrs

from mdm_core.config.aliases import ALIASES, alias_values
from mdm_core.config.loader import CONFIG_FILE, LoadedConfig, read_yaml_mapping
from mdm_core.config.model import build_settings, coerce, set_dotted, settings_model, unknown_keys
from mdm_core.config.settings import Settings
from mdm_core.errors import ConfigError
from mdm_core.flags import FLAG_NAMES, LEGACY_HOME_FLAGS, Flags, choose
from mdm_core.yamlio import dump_yaml

__all__ = ["Settings", "LoadedSettings", "describe_sources", "load_settings", "resolve_home", "update_config_file",
           "update_config_values", "backup_config_file"]


def resolve_home() -> Path:
    """``$MDM_HOME_DIR`` if set, else ``~/.mdm``."""
    raw = os.environ.get("MDM_HOME_DIR")
    return Path(raw).expanduser().resolve() if raw else (Path.home() / ".mdm").resolve()


@attrs.frozen
class LoadedSettings:
    """Settings plus where each key came from and which loader produced them.

    ``unknown`` holds the keys found under a plugin's section that its settings class
    does not declare (``mdm config show`` warns, ``mdm config validate`` fails). ``notes``
    are the loader's warnings, one sentence each (a legacy loader names there the keys of
    an earlier MDM that this one does not use): never an error."""

    settings: Settings
    sources: dict[str, str]
    loader: str
    files: tuple[str, ...]
    unknown: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def unmigrated_reasons(home: Path) -> list[str]:
    """Why ``home`` holds unmigrated data of an earlier MDM (the ``mdm_unmigrated_home``
    hook of every plugin); empty for a new home."""
    from mdm_core.plugins import get_plugin_manager

    found = get_plugin_manager().collect(
        "mdm_unmigrated_home", accept=lambda item: isinstance(item, str), expected="a reason (str)",
        arguments={"home": home},
    )
    return [reason for _, reason in found]


def _legacy_home_defaults(explicit: set[str], detect: Callable[[], list[str]]) -> dict[str, str]:
    """The flags that default to off in an unmigrated earlier-MDM home (those the user did
    not set), each with its source; ``detect`` gives the home's unmigrated reasons."""
    wanted = [name for name in LEGACY_HOME_FLAGS if name not in explicit]
    if not wanted:
        return {}
    reasons = detect()
    if not reasons:
        return {}
    source = f"1.x home detected: {'; '.join(reasons)}"
    return dict.fromkeys(wanted, source)


def _bootstrap_flags(home: Path, detect: Callable[[], list[str]]) -> Flags:
    """Flags read directly from ``mdm.yaml``'s ``flags:`` and ``MDM_FLAGS_*`` (and the
    defaults of an unmigrated earlier-MDM home): they decide which config loader runs, so
    they cannot come from that loader."""
    values: dict[str, Any] = {}
    path = home / CONFIG_FILE
    if path.is_file():
        section = read_yaml_mapping(path).get("flags") or {}
        if isinstance(section, dict):
            values.update({k: v for k, v in section.items() if k in FLAG_NAMES})
    for name in FLAG_NAMES:
        raw = os.environ.get(f"MDM_FLAGS_{name.upper()}")
        if raw is not None:
            values[name] = raw
    by_key = {f"flags.{name}": name for name in FLAG_NAMES}
    for dotted, (raw, _source) in alias_values(os.environ, by_key)[0].items():
        values[by_key[dotted]] = raw
    clean = {}
    for name, value in values.items():
        try:
            clean[name] = coerce(value, bool, from_text=True)
        except ValueError:
            raise ConfigError(
                f"flag '{name}' must be on/off (1/0, true/false), got {value!r}."
            ) from None
    for name in _legacy_home_defaults(set(clean), detect):
        clean[name] = False
    return Flags(**clean)


_LOADED: ContextVar[dict[Path, LoadedSettings] | None] = ContextVar("mdm_loaded_settings", default=None)


@contextmanager
def settings_loaded_once() -> Iterator[None]:
    """Within the block, :func:`load_settings` loads each home once and gives the same
    result after (one CLI command: its log set-up and the command share one load)."""
    token = _LOADED.set({})
    try:
        yield
    finally:
        _LOADED.reset(token)


def load_settings(home: Path | None = None, *, fresh: bool = False) -> LoadedSettings:
    """Load the settings of ``home`` (default: :func:`resolve_home`) with the winning loader
    (once per home inside :func:`settings_loaded_once`, unless ``fresh``: a migration
    reloads them after a phase changed the config or the flags)."""
    home = home or resolve_home()
    loaded = _LOADED.get()
    if loaded is None or fresh:
        return _load_settings(home)
    if home not in loaded:
        loaded[home] = _load_settings(home)
    return loaded[home]


def _load_settings(home: Path) -> LoadedSettings:
    from mdm_core.plugins import get_plugin_manager

    detected: list[list[str]] = []

    def detect() -> list[str]:  # the hook runs at most once per load
        if not detected:
            detected.append(unmigrated_reasons(home))
        return detected[0]

    flags = _bootstrap_flags(home, detect)
    choice = choose("config", "home", get_plugin_manager().implementations("config"), flags)
    loaded: LoadedConfig = choice.winner.factory(home)
    model = settings_model()
    aliased, alias_notes = alias_values(os.environ, model.leaves, _same_value(model))
    for dotted, (raw, source) in aliased.items():
        set_dotted(loaded.values, dotted, raw)
        loaded.sources[dotted] = source
    explicit = {dotted.split(".", 1)[1] for dotted in loaded.sources if dotted.startswith("flags.")}
    for name, source in _legacy_home_defaults(explicit, detect).items():
        set_dotted(loaded.values, f"flags.{name}", False)
        loaded.sources[f"flags.{name}"] = source
    settings = build_settings(home, loaded.values, loaded.sources, model)
    unknown = tuple(dotted for dotted, _ in unknown_keys(loaded.values, model))
    # a loader may call an alias variable unknown (it does not read the table): the alias served
    notes = tuple(n for n in getattr(loaded, "notes", ()) if n.split(" ", 1)[0] not in ALIASES)
    result = LoadedSettings(settings, loaded.sources, choice.plugin, loaded.files, unknown,
                            notes + tuple(alias_notes))
    if settings.logging.debug_config:
        print_settings(result)
    return result


def _same_value(model: Any) -> Callable[[str, str, str], bool]:
    """Whether two variables' texts give key ``dotted`` the same value (``1`` and ``true``)."""
    def same(dotted: str, a: str, b: str) -> bool:
        typ = model.leaves[dotted].type
        try:
            return coerce(a, typ, from_text=True) == coerce(b, typ, from_text=True)
        except (ValueError, TypeError):
            return a.strip() == b.strip()

    return same


def describe_sources(loaded: LoadedSettings) -> dict[str, str]:
    """Each key set by a file or variable -> ``'value' (source)``, masked."""
    from mdm_core.config.model import converter, get_dotted
    from mdm_core.secrets import mask, mask_setting

    values = converter.unstructure(loaded.settings)
    return {key: mask(f"{mask_setting(key, get_dotted(values, key)[1])!r} ({source})")
            for key, source in loaded.sources.items()}


#: ``MDM_*`` variables that are not settings (read elsewhere); not listed as setting nothing.
_NOT_SETTINGS = ("MDM_HOME_DIR", "MDM_STRICT_PLUGINS", "MDM_DISABLE_PLUGINS")


def print_settings(loaded: LoadedSettings) -> None:
    """``logging.debug_config`` (``MDM_DEBUG_CONFIG``): the settings just loaded on stderr,
    one key a line with its value and source (masked), then the ``MDM_*`` variables that
    set no key."""
    import sys

    from mdm_core.config.model import leaves

    out = sys.stderr
    described = describe_sources(loaded)
    print(f"MDM config: home {loaded.settings.home}, loader '{loaded.loader}', files: "
          f"{', '.join(loaded.files) or 'none'}", file=out)
    for key, text in described.items():
        print(f"MDM config: {key} = {text}", file=out)
    print(f"MDM config: {len(leaves()) - len(described)} other keys at their defaults", file=out)
    used = {leaf.env_var for leaf in leaves().values()} | set(ALIASES) | {
        s.split(" ", 2)[1] for s in loaded.sources.values() if s.startswith("env ")}
    stray = sorted(n for n in os.environ if n.startswith("MDM_") and n not in used and n not in _NOT_SETTINGS)
    if stray:
        print(f"MDM config: MDM_* variables that set no key: {', '.join(stray)}", file=out)


def update_config_file(home: Path, dotted: str, value: Any) -> Path:
    """Set one key in ``<home>/mdm.yaml`` (created if missing), keeping the other keys."""
    return update_config_values(home, {dotted: value})


def update_config_values(home: Path, changes: dict[str, Any]) -> Path:
    """Set the keys ``changes`` (dotted -> value) in ``<home>/mdm.yaml`` (created if missing),
    keeping the other keys; the file is replaced whole (never half written)."""
    for dotted in changes:
        if dotted not in settings_model().leaves:
            raise ConfigError(f"Unknown config key '{dotted}'.")
    path = home / CONFIG_FILE
    data = read_yaml_mapping(path) if path.is_file() else {}
    for dotted, value in changes.items():
        node = data
        parts = dotted.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    home.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(dump_yaml(data), encoding="utf-8")
    tmp.replace(path)
    return path


def backup_config_file(home: Path) -> Path | None:
    """Copy ``<home>/mdm.yaml`` byte for byte to ``mdm.yaml.bak-<UTC timestamp>`` and return
    the copy (None when there is no file)."""
    from datetime import UTC, datetime

    path = home / CONFIG_FILE
    if not path.is_file():
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    backup = path.with_name(f"{CONFIG_FILE}.bak-{stamp}")
    backup.write_bytes(path.read_bytes())
    return backup
