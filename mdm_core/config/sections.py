"""Plugin-owned settings sections, and the Settings class composed from them.

A plugin declares a section on its :class:`~mdm_core.hookspecs.Implementation`
(``settings_section="database.sqlite", settings_class=SQLiteSettings``). The host checks
the class (:func:`check_settings_class`) and the place (:func:`check_section`), then
:func:`compose` builds the settings classes of this process: every host section class
that gains a plugin section is re-made as an attrs *subclass* of itself with one more
field (``attrs.make_class``), keeping its own fields, their order, defaults and reprs.

Why subclasses and not a mapping of sections: the result is a plain attrs model like the
host's own, so ``settings.database.sqlite.journal_mode`` is attribute access, cattrs
structures and unstructures it with no special hooks, ``attrs.evolve`` works on every
level, reprs are attrs reprs (a section's ``repr=secret_repr`` fields stay masked), and
``isinstance(settings, Settings)`` still holds for code typed against the host model.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from mdm_core.config.settings import Settings

#: Value types a settings field may have (plus ``X | None``, ``list[str]`` and attrs classes).
SCALARS = (str, int, float, bool)


@attrs.frozen
class Section:
    """One plugin's settings section: where it goes and which class holds its keys."""

    dotted: str
    cls: type
    plugin: str

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.dotted.split("."))


def resolved_fields(cls: type) -> tuple[attrs.Attribute, ...]:
    """The attrs fields of ``cls`` with string annotations resolved to types."""
    attrs.resolve_types(cls)
    return attrs.fields(cls)


def field_default(field: attrs.Attribute) -> Any:
    default = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        default = default.factory(None) if default.takes_self else default.factory()
    return default


def check_settings_class(cls: Any) -> None:
    """Raise ValueError saying why ``cls`` cannot be a settings section class: not an
    attrs class, a field without a default, a field type the config cannot hold, a
    default that does not fit its type, or a class that cannot be built from defaults."""
    if not isinstance(cls, type) or not attrs.has(cls):
        raise ValueError(f"settings class {cls!r} is not an attrs class")
    try:
        fields = resolved_fields(cls)
    except Exception as exc:  # NameError from an annotation naming nothing
        raise ValueError(f"field types of {cls.__name__} cannot be resolved: {exc}") from None
    for field in fields:
        where = f"{cls.__name__}.{field.name}"
        if field.default is attrs.NOTHING:
            raise ValueError(f"field {where} has no default")
        if attrs.has(field.type):
            check_settings_class(field.type)
            continue
        if not _supported(field.type):
            raise ValueError(f"field {where} has type {field.type!r}; a setting is str, int, float, bool, "
                             "list[str], X | None or an attrs class")
        try:
            default = field_default(field)
        except Exception as exc:
            raise ValueError(f"default of {where} fails: {type(exc).__name__}: {exc}") from None
        if not _fits(default, field.type):
            raise ValueError(f"default of {where} is {default!r}, not of type {field.type!r}")
    try:
        cls()
    except Exception as exc:
        raise ValueError(f"{cls.__name__}() fails: {type(exc).__name__}: {exc}") from None


def check_section(section: Section, claimed: Iterable[Section], base: type = Settings) -> None:
    """Raise ValueError if ``section`` cannot go where it says: a malformed name, a parent
    that is not a host section, a name the host already uses, or a place another plugin
    claimed with another class."""
    path = section.path
    if not all(part.isidentifier() and part == part.lower() for part in path):
        raise ValueError(f"section name {section.dotted!r} must be dotted lower-case identifiers")
    cls = base
    for part in path[:-1]:
        field = _field(cls, part)
        if field is None or not attrs.has(field.type):
            raise ValueError(f"{'.'.join(path[:-1])!r} is not a section of the host")
        cls = field.type
    if _field(cls, path[-1]) is not None or (cls is base and path[-1] == "home"):
        raise ValueError(f"{section.dotted!r} is already a key of the host")
    check_settings_class(section.cls)
    for other in claimed:
        if other.dotted == section.dotted and other.cls is not section.cls:
            raise ValueError(f"plugin {other.plugin!r} already declares {section.dotted!r} "
                             f"with {other.cls.__module__}.{other.cls.__name__}")


@attrs.frozen
class Composed:
    """The settings classes of one set of sections: the root and, by name, every host
    section class (``DatabaseSettings`` then has the plugins' fields)."""

    settings: type
    classes: dict[str, type]


def compose(sections: Sequence[Section], base: type = Settings) -> Composed:
    """The host model ``base`` extended with ``sections`` (checked by :func:`check_section`)."""
    tree: dict[tuple[str, ...], dict[str, type]] = {}
    for section in sections:
        tree.setdefault(section.path[:-1], {})[section.path[-1]] = section.cls
    classes: dict[str, type] = {}
    root = _extend(base, (), tree, classes)
    return Composed(root, classes)


def _extend(cls: type, path: tuple[str, ...], tree: dict, classes: dict[str, type]) -> type:
    fields = resolved_fields(cls)
    nested = {f.name: _extend(f.type, (*path, f.name), tree, classes) for f in fields if attrs.has(f.type)}
    added = tree.get(path, {})
    if not added and all(nested[f.name] is f.type for f in fields if f.name in nested):
        classes.setdefault(cls.__name__, cls)
        return cls
    body: dict[str, Any] = {}
    for field in fields:
        new_type = nested.get(field.name, field.type)
        default = attrs.Factory(new_type) if new_type is not field.type else field.default
        body[field.name] = _copy(field, new_type, default)
    for name, section_cls in added.items():
        body[name] = attrs.field(default=attrs.Factory(section_cls), type=section_cls)
    made = attrs.make_class(cls.__name__, body, bases=(cls,), frozen=True, slots=True)
    made.__module__ = cls.__module__
    made.__qualname__ = cls.__qualname__
    made.__doc__ = cls.__doc__
    classes[cls.__name__] = made
    return made


def _copy(field: attrs.Attribute, typ: type, default: Any) -> Any:
    return attrs.field(default=default, validator=field.validator, repr=field.repr, eq=field.eq,
                       order=field.order, hash=field.hash, init=field.init, metadata=field.metadata,
                       type=typ, converter=field.converter, kw_only=field.kw_only, alias=field.alias)


def _field(cls: type, name: str) -> attrs.Attribute | None:
    return next((f for f in resolved_fields(cls) if f.name == name), None)


def _is_optional(typ: Any) -> bool:
    return typing.get_origin(typ) in (typing.Union, types.UnionType) and type(None) in typing.get_args(typ)


def _inner(typ: Any) -> Any:
    args = [t for t in typing.get_args(typ) if t is not type(None)]
    return args[0] if len(args) == 1 else None


def _supported(typ: Any) -> bool:
    if _is_optional(typ):
        return _supported(_inner(typ))
    if typing.get_origin(typ) is list:
        return typing.get_args(typ) in ((str,), ())
    return typ in SCALARS


def _fits(value: Any, typ: Any) -> bool:
    if _is_optional(typ):
        return value is None or _fits(value, _inner(typ))
    if typing.get_origin(typ) is list or typ is list:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if typ is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if typ is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, typ)


def declared_sections(manager: Any) -> list[Section]:
    """The settings sections declared by the implementations of ``manager``'s loaded
    plugins. A plugin declaring a broken one (class not attrs, a field without a usable
    default, a place the host holds or another plugin's class holds) is marked failed.
    When two plugins declare one place with different classes, the implementation named
    like the section (``sqlite`` for ``database.sqlite``) keeps it, otherwise the first
    in load order."""
    from mdm_core.plugins import IMPLEMENTATION_HOOKS

    declared = [
        (plugin, impl) for kind in IMPLEMENTATION_HOOKS for plugin, impl in manager.implementations(kind)
        if impl.settings_class is not None
    ]
    declared.sort(key=lambda item: str(item[1].settings_section).rsplit(".", 1)[-1] != item[1].name)
    claimed: list[Section] = []
    for plugin, impl in declared:
        if not manager.is_loaded(plugin):
            continue
        section = Section(str(impl.settings_section), impl.settings_class, plugin)
        try:
            check_section(section, claimed)
        except ValueError as exc:
            manager.fail(plugin, f"settings section {impl.settings_section!r}: {' '.join(str(exc).split())}")
            continue
        claimed.append(section)
    first: dict[str, Section] = {}
    for section in claimed:
        if manager.is_loaded(section.plugin):
            first.setdefault(section.dotted, section)
    return list(first.values())
