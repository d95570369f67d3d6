"""Every hook MDM calls, with its contract.

Plugins implement these with ``@mdm_core.hookimpl`` and are discovered through the
entry-point group ``mdm``. Hooks that offer a *named implementation* (storage backends,
feature engines, config loaders) return :class:`Implementation` records; the host, not
pluggy's call order, picks the winner for each name from the flags (see
:mod:`mdm_core.flags`). Hooks that *add* things (custom features, migration steps, CLI
commands, source formats) are 1:N: every result is used.

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
    returns a :class:`mdm_core.features.contract.FeatureEngine`; for config it receives the
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

    **Tuning.** ``tune`` (optional) proposes values of the implementation's own settings
    for this machine: ``mdm config tune`` and
    :meth:`mdm_core.performance.tuner.PerformanceTuner.auto_tune` call it with a
    :class:`mdm_core.performance.tuner.TuningContext` (memory, cores, free disk, the home's
    largest table from the catalog, the current settings) and show the
    :class:`mdm_core.performance.tuner.Proposal` records it returns (dotted key of its
    section, current and proposed value, one-sentence reason). It must be cheap (no
    driver import, no connection). Implementations sharing a section are asked once.
    """

    kind: str
    name: str
    generation: str
    factory: Callable[..., Any]
    description: str = ""
    settings_section: str | None = None
    settings_class: type | None = None
    tune: Callable[..., list[Any]] | None = None

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
        :class:`mdm_core.features.contract.FeatureEngine`: ``fit`` streams over the training
        table and returns a fitted state; ``transform`` turns one record batch into feature
        columns using that state, so every table gets the same columns and values never
        depend on batch boundaries. ``use_new_features`` picks ``new`` over ``legacy``.
        """

    @hookspec
    def mdm_custom_features(self, settings: Any, dataset: str | None) -> list[Any]:
        """Return custom features to add: :class:`mdm_core.features.custom.CustomFeature`
        and :class:`mdm_core.features.custom.CustomOperation` objects.

        ``settings`` is the :class:`mdm_core.config.settings.Settings`; ``dataset`` the name
        of the dataset whose features are being generated (``mdm dataset register``,
        ``mdm features regenerate``, ``mdm features test --dataset``), or ``None`` when
        features are only listed (``mdm features list``, ``mdm plugins list``). An
        implementation names only the arguments it uses: ``def mdm_custom_features():``
        and ``def mdm_custom_features(dataset):`` are both valid.

        Every plugin's items are used. A ``CustomFeature`` applies to every dataset whose
        featurised tables all have its input columns, so it is usually returned whatever
        ``dataset`` is. A ``CustomOperation`` declares no inputs or outputs: it applies to
        ``dataset`` alone (return it only when ``dataset`` is the one it is meant for), and
        its output columns are found by running it on the first rows of the training
        table. The host runs items batch by batch; an item that fails is skipped with a
        warning or stops generation (``feature_engineering.skip_on_error``). A plugin that
        reads a per-dataset file (``<custom_features_dir>/<dataset>.py``) sets each
        item's ``source`` to ``"<path>"`` or ``"<path>:<detail>"``: the host then knows
        the file is served and does not report it (mdm-plugin-legacy serves MDM 1.x files
        this way).
        """

    @hookspec
    def mdm_config_loaders(self) -> list[Implementation]:
        """Return config loaders (``kind='config'``).

        Each factory receives the home folder (``pathlib.Path``) and returns a
        ``LoadedConfig``: nested plain values plus, per dotted key, the source it came from.
        ``use_new_config`` picks between generations. Called once per settings load.
        """

    @hookspec
    def mdm_unmigrated_home(self, home: Any) -> list[str]:
        """Return one-line reasons why ``home`` (a ``pathlib.Path``) holds data of an
        earlier MDM that has not been migrated (``"4 MDM 1.x datasets in
        config/datasets"``), or an empty list. Must only read, and be cheap: it runs on
        every settings load.

        While the user has not set them (``mdm.yaml``, ``MDM_FLAGS_*``), the flags
        ``use_new_config``, ``use_new_dataset`` and ``use_new_storage`` then default to
        off, so the legacy generation serves the home as it is; their source reads
        ``1.x home detected: <reason>``. Migration phases set them explicitly.
        """

    @hookspec
    def mdm_dataset_catalogs(self) -> list[Implementation]:
        """Return dataset catalogs (``kind='catalog'``, name ``home``).

        Each factory receives the Settings and returns a
        :class:`mdm_core.datasets.catalog.DatasetCatalog`: the datasets of the home and
        their metadata (:class:`mdm_core.datasets.models.DatasetInfo`). ``use_new_dataset``
        picks the generation: the new catalog knows ``datasets/<name>/dataset.yaml``; a
        legacy catalog also serves an earlier MDM's datasets, read-only, beside the new
        ones. Whatever wins, new datasets are written in the new layout.
        """

    @hookspec
    def mdm_migration_steps(self) -> list[Any]:
        """Return migration steps (:class:`mdm_core.migration.step.MigrationStep`), each
        tagged with its phase (``config``, ``storage``, ``features``, ``dataset``, ``cli``).

        A step plans its work as units (without changing anything), then applies,
        verifies and rolls back one unit at a time; ``apply`` must be safe to repeat after
        an interruption. The orchestrator (:mod:`mdm_core.migration.orchestrator`) runs
        phases in order and the steps of a phase in name order, journals every unit, backs
        up the files a step names, and flips the phase's flag when all its units verified.
        Wrap a step in :class:`mdm_core.migration.step.LazyStep` to import it only when a
        migration uses it.
        """

    @hookspec
    def mdm_cli_commands(self) -> list[Any]:
        """Return ``click.Command`` objects to add to the ``mdm`` command group.

        Called when the CLI starts; a name already taken by a built-in command is refused
        and reported as a plugin error.
        """

    @hookspec
    def mdm_source_formats(self) -> list[Any]:
        """Return the source-file formats this plugin reads
        (:class:`mdm_core.sources.SourceFormat`: ``name``, ``claims``, ``factory``).

        1:N: every format offered is used. For each file to register, the host asks every
        format ``claims(path)``: how sure it is that the file is its own, ``0``/``False``
        for not mine up to ``1`` (by convention ``1.0`` the content says so, ``0.5`` the
        name says so, ``0.1`` a fallback that tries anything). The highest claim reads the
        file; on a tie the format offered first in load order (entry points sort by name)
        wins, so a plugin replaces a bundled format by claiming higher. When no format
        claims a file, registration stops with one sentence naming the file and saying to
        install ``mdm-plugin-files``. A ``claims`` that raises or answers anything else
        marks its plugin failed. The winner's ``factory(path, batch_size, kinds)`` returns
        a :class:`mdm_core.sources.SourceReader` (Arrow record batches, normalised unique
        column names) and may raise DatasetError for a file it cannot read. Called for
        every file registered, so it must be cheap: import readers in the factory.
        """
