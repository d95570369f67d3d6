"""How a piece of JSON text starts, and what a JSON value is in words (for messages)."""

from __future__ import annotations

import codecs

JSON_SPACE = b" \t\r\n"


def json_start(head: bytes) -> bytes | None:
    """The first significant byte of JSON text (after a BOM and whitespace), None if none."""
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8):]
    head = head.lstrip(JSON_SPACE)
    return head[:1] or None


def json_found(text: bytes) -> str:
    """What a JSON value starting with ``text`` is, in words (for error messages)."""
    for literal, words in ((b"null", "null"), (b"true", "true"), (b"false", "false")):
        if text.startswith(literal):
            return words
    first = text[:1]
    if first == b'"':
        return "a string"
    if first == b"[":
        return "an array"
    if first == b"{":
        return "an object"
    if first and (first.isdigit() or first == b"-"):
        return "a number"
    return "text that is not JSON"
