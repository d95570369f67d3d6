"""How loaded settings are shown: every key with its masked value and source, and one
sentence per section holding unknown keys (``mdm config show``/``validate``, ``mdm doctor``,
``mdm diagnose``)."""

from __future__ import annotations

from typing import Any


def settings_rows(loaded: Any) -> list[tuple[str, Any, str]]:
    """(key, value as it may be shown, source) of every setting: secrets masked."""
    from mdm_core.config.model import converter, get_dotted, settings_model
    from mdm_core.secrets import mask

    values = converter.unstructure(loaded.settings)
    rows = []
    for dotted, leaf in settings_model().leaves.items():
        _, value = get_dotted(values, dotted)
        rows.append((dotted, leaf.shown(value), mask(loaded.sources.get(dotted, "default"))))
    return rows


def unknown_key_lines(loaded: Any) -> list[str]:
    """One line per plugin section holding keys its settings class does not declare."""
    from mdm_core.config.model import settings_model, source_of
    from mdm_core.secrets import mask

    by_section: dict[Any, list[str]] = {}
    for dotted in loaded.unknown:
        section = next(s for s in settings_model().sections if dotted.startswith(s.dotted + "."))
        by_section.setdefault(section, []).append(dotted)
    lines = []
    for section, keys in by_section.items():
        where = sorted({mask(source_of(k, loaded.sources)) for k in keys})
        known = [d[len(section.dotted) + 1:] for d, leaf in settings_model().leaves.items() if leaf.section == section]
        lines.append(f"{', '.join(where)}: unknown key{'s' if len(keys) > 1 else ''} "
                     f"{', '.join(repr(k) for k in keys)} in section '{section.dotted}' of plugin "
                     f"'{section.plugin}' (known: {', '.join(known)})")
    return lines
