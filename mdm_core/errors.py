"""Errors that reach the user as one clear sentence (exit code 1, no traceback)."""

#: Longest error sentence kept where one line per item is printed (a batch, a migration unit).
MAX_ERROR_CHARS = 300
#: Longest error of MDM's own (an MDMError: one sentence naming the cause and the fix, often
#: with a path in it) printed whole on the terminal; longer ones are cut to their first line.
MAX_SENTENCE_CHARS = 500


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


class OutOfMemory(MDMError):
    """Work ran out of memory even with smaller batches (see :mod:`mdm_core.memory`)."""


class PluginError(MDMError):
    """A plugin failed to load or no plugin provides what is needed."""


class MigrationError(MDMError):
    """A migration cannot start or continue (exit code 1 unless a subclass says otherwise)."""

    exit_code = 1


class MigrationBusy(MigrationError):
    """Another migration command holds the home's migration lock."""

    exit_code = 4


def no_such_table(table: str, tables: list[str]) -> StorageError:
    """The sentence for SQL naming a table the dataset's store does not have."""
    shown = ", ".join(tables) if tables else "none"
    return StorageError(
        f"The SQL names table '{table}', which this dataset does not have; use one of its tables ({shown})."
    )


def permission_sentence(exc: PermissionError) -> str:
    """The sentence for a file or folder MDM may not read or write (a read-only home)."""
    import getpass

    where = exc.filename or "a file MDM needs"
    return (
        f"Permission denied on {where}; make it readable and writable for user {getpass.getuser()} "
        "(chown/chmod) or point MDM_HOME_DIR at a folder you own."
    )


def error_sentence(exc: BaseException, *, expected: tuple[type[BaseException], ...] = (MDMError,)) -> str:
    """``exc`` as one line, secrets masked, cut to :data:`MAX_ERROR_CHARS`; an error not of
    the ``expected`` kinds (a bug, an engine failure MDM did not anticipate) names its type."""
    from mdm_core.secrets import mask

    text = " ".join(mask(str(exc)).split())
    if not isinstance(exc, expected):
        text = f"unexpected {type(exc).__name__}" + (f": {text}" if text else "")
    if len(text) > MAX_ERROR_CHARS:
        text = text[:MAX_ERROR_CHARS].rsplit(" ", 1)[0].rstrip(" .,;:") + "..."
    return text or type(exc).__name__
