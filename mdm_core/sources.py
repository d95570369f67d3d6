"""Source files: the contract a file-format plugin fulfils, and the one place that picks
the reader for a file.

The host reads no file format itself. Plugins offer :class:`SourceFormat` records through
the ``mdm_source_formats`` hook (the bundled ``mdm-plugin-files`` offers CSV/TSV,
Parquet and JSON/JSON Lines); :func:`reader_for` asks every format how sure it is that a
file is its own and builds the reader of the most confident one. A reader turns the file
into a stream of Arrow record batches (:class:`SourceReader`).

This module imports no pyarrow, so plugins can build their records at hook time cheaply.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from mdm_core.errors import DatasetError, PluginError
from mdm_core.logging import get_logger

if TYPE_CHECKING:
    import pyarrow as pa

log = get_logger(__name__)

HOOK = "mdm_source_formats"


@runtime_checkable
class SourceReader(Protocol):
    """Reads one source file as a stream of Arrow record batches.

    Built by a :class:`SourceFormat` factory for one file, a batch size and the column
    kinds the user forced (``--type col=kind``; a reader checks values against them, e.g.
    a ``numeric`` column holding a word is a DatasetError naming the file, column, value
    and row). Registration calls :meth:`column_names` first (to check the columns the
    user named), then :meth:`open` to stream the file into the store; when reading fails
    with ``pyarrow.ArrowInvalid`` it calls :meth:`widen_for`, and if that returns True
    opens the file again, otherwise raises :meth:`error_for`. Any other bad input is a
    :class:`mdm_core.errors.DatasetError` of one sentence naming the file, raised by the
    factory, by :meth:`open` or while the stream is read.
    """

    def open(self) -> pa.RecordBatchReader:
        """A fresh stream over the whole file: batches of at most ``batch_size`` rows, one
        schema for all of them, column names normalised and unique (as written; an empty
        name becomes ``column_<position>``, repeats get ``_2``, ``_3``..., compared
        case-insensitively). Nested values (lists, objects) arrive as JSON text. May be
        called again after :meth:`widen_for`; every call reads from the start. Closing
        the stream releases the file, also when it was not read to the end."""

    def widen_for(self, error: pa.ArrowInvalid) -> bool:
        """Make the next :meth:`open` read past ``error`` (a value late in the file that
        does not fit the type inferred from its start) by reading that column as a wider
        type; True if it did, False if ``error`` is not such a case or the column is
        already as wide as it gets (text). Registration then writes the table again."""

    def error_for(self, error: pa.ArrowInvalid) -> DatasetError:
        """One sentence for a read error that widening could not fix: the file, and where
        known the column, row and value (and the ``--type`` override to drop)."""

    def column_names(self) -> list[str]:
        """The column names :meth:`open` will give, cheaply where the format allows (the
        header, the file's schema) rather than reading the file."""

    # Optional: ``row_bytes() -> float | None``, an upper estimate of the Arrow bytes of
    # one row from what the reader has already read (e.g. a CSV's sniffed sample). Without
    # it (or on None) registration opens the file once more to measure its first rows
    # (:func:`mdm_core.memory.governed_rows`).


def _check_callable(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not callable(value):
        raise TypeError(f"SourceFormat.{attribute.name} must be callable, got {type(value).__name__}")


def _check_name(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"SourceFormat.name must be a non-empty string, got {value!r}")


@attrs.frozen
class SourceFormat:
    """A file format a plugin reads.

    ``name`` is what logs and errors call it (``csv``, ``parquet``); ``claims(path)`` says
    how sure the format is that the file is its own: ``False``, ``None`` or ``0`` for not
    mine, up to ``1`` (``True`` counts as 1). By convention ``1.0`` means the content
    says so (magic bytes), ``0.5`` the name says so (its suffix), ``0.1`` a fallback that
    tries anything. It must be cheap (read a few bytes at most) and must not raise: a
    file it cannot open is judged by its name, and the factory reports the problem.
    ``factory(path, batch_size, kinds)`` builds the :class:`SourceReader` (``kinds`` maps
    column names to the kinds forced with ``--type``); it may raise
    :class:`mdm_core.errors.DatasetError` for a file it cannot read. ``suffixes`` are the
    file-name endings (``.csv``, ``.csv.gz``) that make a file in a registered folder a
    table of this format, named after the file without them.
    """

    name: str = attrs.field(validator=_check_name)
    claims: Callable[[Path], float | bool | None] = attrs.field(validator=_check_callable)
    factory: Callable[[Path, int, dict[str, str]], SourceReader] = attrs.field(validator=_check_callable)
    description: str = ""
    suffixes: tuple[str, ...] = attrs.field(default=(), converter=lambda v: tuple(str(x).lower() for x in v))


def source_formats() -> list[tuple[str, SourceFormat]]:
    """Every format the installed plugins offer, with the plugin offering it, in load
    order; a plugin whose hook fails or offers anything else is marked failed."""
    from mdm_core.plugins import get_plugin_manager

    return get_plugin_manager().collect(
        HOOK, accept=lambda item: isinstance(item, SourceFormat), expected="a SourceFormat"
    )


def table_suffixes() -> tuple[str, ...]:
    """Every suffix an installed format reads, longest first (a folder's files that end
    in none of them are not tables)."""
    found = {suffix for _, offered in source_formats() for suffix in offered.suffixes}
    return tuple(sorted(found, key=lambda suffix: (-len(suffix), suffix)))


def reader_for(path: Path, batch_size: int, kinds: Mapping[str, str] | None = None) -> SourceReader:
    """The reader of ``path``, built by the format claiming it most surely (on a tie, the
    first offered in load order). A format whose ``claims`` raises or answers something
    other than a bool or a number from 0 to 1 marks its plugin failed and is skipped;
    when no format claims the file, one DatasetError sentence says what to install."""
    from mdm_core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    best: tuple[str, SourceFormat] | None = None
    best_score = 0.0
    for plugin, offered in source_formats():
        if manager.pm.get_plugin(plugin) is None:  # failed while an earlier format claimed
            continue
        try:
            score = _score(offered.claims(path))
        except Exception as exc:  # a plugin's bug must not stop registration
            text = " ".join(str(exc).split())[:300]
            manager.fail(plugin, f"source format {offered.name!r} failed to claim a file: {type(exc).__name__}: {text}")
            continue
        if score > best_score:
            best, best_score = (plugin, offered), score
    if best is None:
        raise DatasetError(
            f"No installed plugin reads {path.name}; install mdm-plugin-files (CSV, TSV, Parquet, "
            "JSON, JSON Lines) or the plugin for its format, and check `mdm plugins list`."
        )
    plugin, chosen = best
    log.debug("source format", file=path.name, format=chosen.name, plugin=plugin, score=best_score)
    reader = chosen.factory(path, batch_size, dict(kinds or {}))
    if not isinstance(reader, SourceReader):
        raise PluginError(
            f"Plugin '{plugin}': source format '{chosen.name}' built a {type(reader).__name__}, "
            "not a SourceReader (open, widen_for, error_for, column_names)."
        )
    return reader


def _score(claim: object) -> float:
    """A claim as a number from 0 to 1; TypeError/ValueError for anything else."""
    if claim is None or claim is False:
        return 0.0
    if claim is True:
        return 1.0
    if not isinstance(claim, int | float) or math.isnan(claim) or not 0 <= claim <= 1:
        raise ValueError(f"claims returned {claim!r}, not a bool or a number from 0 to 1")
    return float(claim)
