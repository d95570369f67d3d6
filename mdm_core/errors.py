"""Errors that reach the user as one clear sentence (exit code 1, no traceback)."""


class MDMError(Exception):
    """Base class: ``str(error)`` is the complete message shown to the user."""


class ConfigError(MDMError):
    """The configuration (file, environment or flag) is invalid."""


class DatasetError(MDMError):
    """A dataset operation cannot be carried out (unknown name, bad input, conflict)."""


class DatasetNotFound(DatasetError):
    """No dataset of that name is registered."""


class DatasetBusy(DatasetError):
    """Another process is registering, replacing or removing the same dataset."""


class StorageError(MDMError):
    """A storage backend failed or is unavailable."""


class PluginError(MDMError):
    """A plugin failed to load or no plugin provides what is needed."""


class MigrationError(MDMError):
    """A migration cannot start or continue (exit code 1 unless a subclass says otherwise)."""

    exit_code = 1


class MigrationBusy(MigrationError):
    """Another migration command holds the home's migration lock."""

    exit_code = 4
