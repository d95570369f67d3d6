"""Opening source files as binary streams that pyarrow can read safely.

gzip and single-member zip files are decompressed on the fly; read errors (truncated or
corrupt compressed data, I/O errors) become one DatasetError naming the file; and a
stream handed to pyarrow can be wound down without racing pyarrow's read-ahead threads.
"""

from __future__ import annotations

import gzip
import io
import threading
import time
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any

from mdm_core.errors import DatasetError
from mdm_plugin_files.messages import cut, os_reason


class SourceStream(io.BufferedIOBase):
    """A read-only binary stream handed to pyarrow's CSV/JSON readers.

    pyarrow reads ahead on its own I/O threads, which call :meth:`read` from C++. When a
    read fails, a read-ahead may still be running; if the interpreter exits while it
    calls into Python, the process aborts ("terminate called without an active
    exception", pyarrow 26). :meth:`release` therefore makes further reads return EOF,
    waits until no read is in flight, then closes. Every failure path calls it.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw
        self._lock = threading.Lock()
        self._in_flight = 0
        self._last_read = time.monotonic()
        self._stopped = False

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        with self._lock:
            if self._stopped:
                return b""
            self._in_flight += 1
        try:
            return self._read(-1 if size is None else size)
        finally:
            with self._lock:
                self._in_flight -= 1
                self._last_read = time.monotonic()

    def _read(self, size: int) -> bytes:
        return self._raw.read(size)

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def stop(self) -> None:
        """Serve no more data: every further read returns EOF."""
        with self._lock:
            self._stopped = True

    def release(self, quiet: float = 0.02, timeout: float = 2.0) -> None:
        """Stop serving data, let pyarrow's read-ahead finish, close."""
        self.stop()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._in_flight == 0 and time.monotonic() - self._last_read >= quiet:
                    break
            time.sleep(0.002)
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        try:
            self._raw.close()
        finally:
            super().close()


class CheckedStream(SourceStream):
    """A binary stream whose read errors (truncated or corrupt compressed data, I/O
    errors) become one DatasetError naming the file."""

    def __init__(self, raw: IO[bytes], path: Path, container: str) -> None:
        super().__init__(raw)
        self._path = path
        self._container = container

    def _read(self, size: int) -> bytes:
        try:
            return self._raw.read(size)
        except DatasetError:
            raise
        except EOFError:
            raise DatasetError(
                f"{self._path.name} is truncated: its {self._container} data ends early; "
                "the file is incomplete or corrupt (copy or compress it again)."
            ) from None
        except (zlib.error, gzip.BadGzipFile, zipfile.BadZipFile) as exc:
            raise DatasetError(
                f"{self._path.name} is corrupt: its {self._container} data cannot be decompressed ({cut(str(exc))})."
            ) from None
        except OSError as exc:
            raise DatasetError(f"{self._path.name} cannot be read: {os_reason(exc)}.") from None


def open_file(path: Path) -> IO[bytes]:
    """``path`` opened for reading; OSError (permission, folder...) as a DatasetError."""
    try:
        return path.open("rb")
    except OSError as exc:
        raise DatasetError(f"{path.name} cannot be read: {os_reason(exc)}.") from None


def open_binary(path: Path) -> CheckedStream:
    """Open a file for reading, transparently decompressing gzip and single-member zip."""
    with open_file(path) as probe:
        magic = probe.read(4)
    if magic[:2] == b"\x1f\x8b":
        return CheckedStream(gzip.open(path, "rb"), path, "gzip")
    if magic == b"PK\x03\x04":
        try:
            archive = zipfile.ZipFile(path)
            members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX")]
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise DatasetError(
                f"{path.name} is not a readable zip archive: it is truncated or corrupt ({cut(str(exc))})."
            ) from None
        if len(members) != 1:
            raise DatasetError(f"{path.name}: a zip archive must hold exactly one data file, it holds {len(members)}.")
        try:
            member = archive.open(members[0])
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
            raise DatasetError(
                f"{path.name} is not a readable zip archive: it is truncated or corrupt ({cut(str(exc))})."
            ) from None
        return CheckedStream(member, path, "zip")
    return CheckedStream(open_file(path), path, "file")


def wind_down(source: Any, stream: SourceStream, complete: bool) -> None:
    """After pyarrow's streaming reader stopped early (an error, or the consumer gave up):
    stop feeding it, let it finish the blocks it already read ahead (bounded: no new data
    arrives), then release the stream. A reader dropped with work still running on its
    threads can abort the process at exit."""
    if not complete:
        stream.stop()
        for _ in range(256):
            try:
                source.read_next_batch()
            except StopIteration:
                break
            except Exception:  # noqa: BLE001 - the first error was already reported
                break
    stream.release()
