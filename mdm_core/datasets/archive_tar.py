"""The container of a backup archive: an uncompressed tar (GNU format), written member by
member with each member's data streamed straight into the file, and read in place.

A tar header states its member's size before the data. A streamed member (a Parquet file
written batch by batch) therefore gets a header with size 0, then its data, then the
header is rewritten in place with the real size: in GNU format a header's length depends
on the member's name only, never on its size, so nothing after it moves. Every member's
bytes are counted and hashed (SHA-256) as they are written.

Reading lists the members with :mod:`tarfile` (headers only: the data is skipped by
seeking) and hands out a member's bytes as a slice of a memory map of the file: no copy
on the heap, nothing extracted to disk (so no member name can reach outside).
"""

from __future__ import annotations

import hashlib
import os
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypeVar

import attrs

if TYPE_CHECKING:
    import pyarrow as pa

BLOCK = tarfile.BLOCKSIZE
_HASH_CHUNK = 8 << 20
_T = TypeVar("_T")


@attrs.frozen
class MemberDigest:
    """What was written for one member: its name, size in bytes and SHA-256 (hex)."""

    name: str
    bytes: int
    sha256: str


class MemberSink:
    """The file-like object a streamed member's writer writes into: counts and hashes
    every byte on its way to the archive file. Closing it does nothing (the archive
    stays open for the next member)."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self._hash = hashlib.sha256()
        self.size = 0
        self.closed = False

    def write(self, data) -> int:
        view = memoryview(data)
        self._hash.update(view)
        self._file.write(view)
        self.size += view.nbytes
        return view.nbytes

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        """Nothing: the archive file is flushed once, when it is finished."""

    def close(self) -> None:
        """Nothing: see the class doc."""

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


class TarWriter:
    """Appends members to the tar archive open for writing as ``file`` (at position 0)."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self._mtime = int(time.time())

    def add_bytes(self, name: str, data: bytes) -> MemberDigest:
        """A member holding ``data``."""
        self._file.write(self._header(name, len(data)))
        self._file.write(data)
        self._pad(len(data))
        return MemberDigest(name, len(data), hashlib.sha256(data).hexdigest())

    def add_streamed(self, name: str, write: Callable[[MemberSink], _T]) -> tuple[MemberDigest, _T]:
        """A member whose data ``write`` streams into the sink it is given; returns the
        member's digest and what ``write`` returned."""
        start = self._file.tell()
        placeholder = self._header(name, 0)
        self._file.write(placeholder)
        sink = MemberSink(self._file)
        result = write(sink)
        end = self._file.tell()
        header = self._header(name, sink.size)
        if len(header) != len(placeholder):  # cannot happen in GNU format; never corrupt silently
            raise AssertionError(f"tar header of {name!r} changed length")
        self._file.seek(start)
        self._file.write(header)
        self._file.seek(end)
        self._pad(sink.size)
        return MemberDigest(name, sink.size, sink.hexdigest()), result

    def finish(self) -> None:
        """Write the end-of-archive marker and make the file durable (flush + fsync)."""
        self._file.write(b"\0" * (2 * BLOCK))
        self._file.flush()
        os.fsync(self._file.fileno())

    def _header(self, name: str, size: int) -> bytes:
        info = tarfile.TarInfo(name)
        info.size = size
        info.mode = 0o644
        info.mtime = self._mtime
        return info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")

    def _pad(self, size: int) -> None:
        rest = size % BLOCK
        if rest:
            self._file.write(b"\0" * (BLOCK - rest))


class ArchiveDamaged(Exception):
    """A member is missing or reaches past the end of the file (the caller names it)."""


class TarReader:
    """The members of a tar archive, read in place. Use as a context manager."""

    def __init__(self, path: Path) -> None:
        """tarfile.TarError or OSError when ``path`` is not a readable tar archive (one
        cut short lists the members before the cut)."""
        import pyarrow as pa

        self.path = path
        self._members: dict[str, tuple[int, int]] = {}
        with tarfile.open(path, "r:") as tar:
            try:
                for member in tar:
                    if member.isfile():
                        self._members[member.name] = (member.offset_data, member.size)
            except tarfile.ReadError:  # cut short after its first members: those are listed
                if not self._members:
                    raise
        self._map = pa.memory_map(str(path))
        self._bytes = self._map.read_buffer()  # the whole file, mapped, not copied
        self._file_size = self._bytes.size

    def has(self, name: str) -> bool:
        return name in self._members

    def size(self, name: str) -> int:
        return self._location(name)[1]

    def read(self, name: str) -> pa.Buffer:
        """The member's bytes (a slice of the memory map)."""
        offset, size = self._location(name)
        return self._bytes.slice(offset, size)

    def sha256(self, name: str) -> str:
        buffer = self.read(name)
        digest = hashlib.sha256()
        view = memoryview(buffer)
        for start in range(0, len(view), _HASH_CHUNK):
            digest.update(view[start:start + _HASH_CHUNK])
        return digest.hexdigest()

    def close(self) -> None:
        self._bytes = None
        self._map.close()

    def __enter__(self) -> TarReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _location(self, name: str) -> tuple[int, int]:
        if name not in self._members:
            raise ArchiveDamaged(f"member {name} is missing")
        offset, size = self._members[name]
        if offset + size > self._file_size:
            raise ArchiveDamaged(f"member {name} is cut short ({self._file_size - offset} of {size} bytes)")
        return offset, size
