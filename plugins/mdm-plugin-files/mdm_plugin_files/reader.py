"""What every bundled reader shares: the ``mdm_core.sources.SourceReader`` methods a
format need not specialise, and the ``--type numeric`` check on every stream."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import attrs
import pyarrow as pa

from mdm_core.errors import DatasetError
from mdm_plugin_files.messages import cut
from mdm_plugin_files.numeric import with_numeric_check


@attrs.define
class FileReader(ABC):
    """Opens one source file as batches of ``batch_size`` rows.

    ``kinds`` maps column names to the kinds the user forced (``--type col=kind``): a
    ``numeric`` column must hold numbers, checked on every batch (DatasetError naming the
    file, column, value and row otherwise). A format implements :meth:`_stream`.
    """

    path: Path
    batch_size: int
    kinds: dict[str, str] = attrs.Factory(dict)

    @abstractmethod
    def _stream(self) -> pa.RecordBatchReader:
        """The format's stream over the whole file (before the ``--type`` checks)."""

    def open(self) -> pa.RecordBatchReader:
        """A fresh stream over the whole file with normalised, unique column names."""
        return with_numeric_check(self._stream(), self.kinds, self.path)

    def widen_for(self, error: pa.ArrowInvalid) -> bool:
        """Nothing to widen: only CSV infers types from the start of the file."""
        return False

    def error_for(self, error: pa.ArrowInvalid) -> DatasetError:
        """The file's name and the first line of the error."""
        text = str(error).strip()
        first = text.splitlines()[0] if text else type(error).__name__
        return DatasetError(f"{self.path.name}: {cut(first)}")

    def column_names(self) -> list[str]:
        """The column names the stream will have."""
        stream = self.open()
        try:
            return stream.schema.names
        finally:
            stream.close()
