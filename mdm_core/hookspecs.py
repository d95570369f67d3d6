"""Every hook MDM calls, with its contract.

Plugins implement these with ``@mdm_core.hookimpl`` and are discovered through the
entry-point group ``mdm``. Hooks that offer a *named implementation* (storage backends,
feature engines, config loaders) return :class:`Implementation` records; the host, not
pluggy's call order, picks the winner for each name from the flags (see
:mod:`mdm_core.flags`). Hooks that *add* things (custom features, migration steps, CLI
commands) are 1:N: every result is used.

Hook implementations must be cheap: they describe what a plugin offers and must not
import heavy drivers (duckdb, psycopg, ...). Drivers are imported by the factories.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import pluggy

PROJECT = "mdm"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

GENERATIONS = ("legacy", "new")


@attrs.frozen
class Implementation:
    """A named implementation a plugin offers for a selectable hook.

    ``kind`` is the hook family (``storage``, ``features``, ``config``), ``name`` what users
    and config call it (``sqlite``, ``new``, ``yaml``), ``generation`` is ``legacy`` or
    ``new`` (the flag of that family chooses between generations of the same name),
    ``factory`` builds the working object when it is first needed: for storage it receives
    the :class:`mdm_core.config.settings.Settings` and returns a
    :class:`mdm_core.storage.StorageBackend`; for features it receives the settings and
    returns a :class:`mdm_core.features.engine.FeatureEngine`; for config it receives the
    home folder and returns a :class:`mdm_core.config.loader.LoadedConfig`.

    **Settings.** An implementation that reads settings declares them here:
    ``settings_section`` is the dotted place of its section in ``mdm.yaml``
    (``"database.sqlite"``; the parent must be the top level or a host section such as
    ``database`` or ``feature_engineering``), ``settings_class`` an attrs class whose
    fields are the keys, each with a default (``str``, ``int``, ``float``, ``bool``,
    ``list[str]``, ``X | None``, or a nested attrs class for a sub-section). Keep it in a
    module that imports no driver (``mdm_plugin_<name>/settings.py``). The host adds the
    section to the settings it builds, so ``settings.database.sqlite.journal_mode``,
    ``mdm.yaml``, ``MDM_DATABASE_SQLITE_JOURNAL_MODE``, ``mdm config show --sources`` and
    ``mdm config validate`` work for it exactly as for the host's own sections; the
    factory receives the whole Settings and reads its section from there. Fields declared
    with ``repr=mdm_core.secrets.secret_repr`` (a password) or ``repr=masked_repr`` (a
    DSN holding one) are masked everywhere MDM shows them. Two implementations may share a
    section (legacy and new generation of one backend) when they declare the same class; a
    class that is not attrs, lacks a default or has a field of another type, a section
    that a host key or another plugin's class already holds, marks the plugin ``failed``.
    """

    kind: str
    name: str
    generation: str
    factory: Callable[..., Any]
    description: str = ""
    settings_section: str | None = None
    settings_class: type | None = None

    def __attrs_post_init__(self) -> None:
        if self.generation not in GENERATIONS:
            raise ValueError(f"generation must be one of {GENERATIONS}, got {self.generation!r}")
        if (self.settings_section is None) != (self.settings_class is None):
            raise ValueError("settings_section and settings_class are declared together")


class MDMHookSpecs:
    """Namespace holding the hook specifications."""

    @hookspec
    def mdm_storage_backends(self) -> list[Implementation]:
        """Return the storage backends this plugin offers (``kind='storage'``).

        Each factory receives the Settings and returns an object satisfying
        :class:`mdm_core.storage.StorageBackend`: create/open/drop/move a dataset store; a
        store writes a table from a stream of Arrow record batches, reads it back as a
        stream (columns, filter, limit), lists tables, counts rows, checksums content, runs
        SQL and reports health. Called once per process when storage is first needed.
        A backend's own settings are its section, declared on the Implementation
        (``settings_section="database.<name>"``, ``settings_class=...``; see above).
        """

    @hookspec
    def mdm_feature_engines(self) -> list[Implementation]:
        """Return the feature engines this plugin offers (``kind='features'``).

        Each factory receives the Settings and returns a
        :class:`mdm_core.features.engine.FeatureEngine`: ``fit`` streams over the training
        table and returns a fitted state; ``transform`` turns one record batch into feature
        columns using that state, so every table gets the same columns and values never
        depend on batch boundaries. ``use_new_features`` picks ``new`` over ``legacy``.
        """

    @hookspec
    def mdm_custom_features(self) -> list[Any]:
        """Return custom features (``mdm_core.features.custom.CustomFeature``) to add.

        Every plugin's features are used; a feature applies to every dataset that has all
        of its input columns. Called when features are generated or listed.
        """

    @hookspec
    def mdm_config_loaders(self) -> list[Implementation]:
        """Return config loaders (``kind='config'``).

        Each factory receives the home folder (``pathlib.Path``) and returns a
        ``LoadedConfig``: nested plain values plus, per dotted key, the source it came from.
        ``use_new_config`` picks between generations. Called once per settings load.
        """

    @hookspec
    def mdm_migration_steps(self) -> list[Any]:
        """Return migration steps (:class:`mdm_core.migration.step.MigrationStep`), each
        tagged with its phase (``config``, ``storage``, ``features``, ``dataset``, ``cli``).

        A step can plan (describe without changing anything), apply, verify and roll back.
        The orchestrator runs phases in order and the steps of a phase in name order.
        """

    @hookspec
    def mdm_cli_commands(self) -> list[Any]:
        """Return ``click.Command`` objects to add to the ``mdm`` command group.

        Called when the CLI starts; a name already taken by a built-in command is refused
        and reported as a plugin error.
        """
