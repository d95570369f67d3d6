"""The guard between a JSON Lines file and pyarrow's JSON reader.

pyarrow's JSON reader crashes the process on some input (a line holding ``null``, values
nested very deeply), so every block is checked before pyarrow sees it: one regex scan
per block, no per-line Python loop unless a block is suspect.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import IO

from mdm_plugin_files.json_text import JSON_SPACE, json_found
from mdm_plugin_files.streams import SourceStream

#: Deepest nesting of objects/arrays accepted in JSON (values deeper than this crash or
#: exhaust pyarrow's and Python's JSON code; MDM stores nested values as JSON text).
MAX_JSON_DEPTH = 64


class JsonLinesGuard(SourceStream):
    """Feeds JSON Lines to pyarrow, checking each line on the way: a line that does not
    start with ``{`` (``null``, a number, a string, an array: pyarrow crashes the process
    on some of them) or that nests too deeply stops the stream, and :attr:`problem` says
    which line and what it holds. Costs one regex scan per block read."""

    _BAD_LINE = re.compile(rb"\n[ \t\r\n]*([^{ \t\r\n])")
    #: More than MAX_JSON_DEPTH openers in a row once everything but brackets is dropped.
    _DEEP = re.compile(rb"[\[{]{%d}" % (MAX_JSON_DEPTH + 1))
    _NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")

    def __init__(self, raw: IO[bytes], path: Path) -> None:
        super().__init__(raw)
        self._path = path
        self._line = 1  # line number at the start of the next chunk
        self._at_line_start = True  # only whitespace seen since the last newline
        self._start = True  # nothing read yet (a BOM may come first)
        self.problem: str | None = None

    def _read(self, size: int) -> bytes:
        if self.problem is not None:
            return b""
        chunk = self._raw.read(size)
        if not chunk:
            return chunk
        bad = self._first_bad(chunk)
        self._start = False
        deep = self._too_deep(chunk)
        if bad is not None or deep is not None:
            if bad is not None and (deep is None or bad[0] <= deep):
                offset, found = bad
                what = f"holds {found}; expected JSON Lines of objects (one object per line)"
            else:
                offset = deep
                what = f"nests objects or arrays more than {MAX_JSON_DEPTH} levels deep, which MDM does not read"
            line = self._line + chunk.count(b"\n", 0, offset)
            self.problem = f"{self._path.name}: line {line} {what}."
            return b""
        self._line += chunk.count(b"\n")
        tail = chunk[chunk.rfind(b"\n") + 1:] if b"\n" in chunk else (chunk if self._at_line_start else b"x")
        self._at_line_start = not tail.strip(JSON_SPACE)
        return chunk

    def _too_deep(self, chunk: bytes) -> int | None:
        """Offset of the first line nesting too deeply (brackets inside strings count too:
        a string of 65 opening brackets is refused as well)."""
        if not self._DEEP.search(chunk.translate(None, self._NOT_BRACKETS)):
            return None
        offset = 0
        for line in chunk.split(b"\n"):
            if self._DEEP.search(line.translate(None, self._NOT_BRACKETS)):
                return offset
            offset += len(line) + 1
        return 0

    def _first_bad(self, chunk: bytes) -> tuple[int, str] | None:
        """Offset and description of the first line not starting with ``{``."""
        if self._at_line_start:
            body = chunk.removeprefix(codecs.BOM_UTF8) if self._start else chunk
            stripped = body.lstrip(JSON_SPACE)
            if stripped and stripped[:1] != b"{":
                offset = len(chunk) - len(stripped)
                return offset, json_found(stripped[:8])
        match = self._BAD_LINE.search(chunk)
        if match is None:
            return None
        return match.start(1), json_found(chunk[match.start(1): match.start(1) + 8])
