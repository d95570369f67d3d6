"""Pieces of the one-sentence errors: shortened text, quoted values, OS reasons."""

from __future__ import annotations


def cut(text: str, limit: int = 200) -> str:
    """``text`` on one line, at most ``limit`` characters (ending ``...`` when cut)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def first_sentence(exc: Exception) -> str:
    """The first sentence of an exception's message, without its full stop."""
    text = cut(str(exc)) or type(exc).__name__
    end = text.find(". ")
    return (text[:end] if end > 0 else text).rstrip(".")


def shown(value: str, limit: int = 60) -> str:
    """A value from the file, quoted and shortened for a message."""
    return repr(value if len(value) <= limit else value[: limit - 3] + "...")


def os_reason(exc: OSError) -> str:
    """Why a file cannot be read, in words (and what to do about it)."""
    if isinstance(exc, PermissionError):
        return "permission denied (check the file's permissions)"
    if isinstance(exc, IsADirectoryError):
        return "it is a folder, not a file"
    return (exc.strerror or str(exc)).rstrip(".").lower() if exc.strerror else cut(str(exc))
