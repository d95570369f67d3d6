"""Running one action over many datasets: choosing them by name patterns, and going on
past failures.

- :func:`resolve_patterns` turns patterns (comma lists, globs, names in any spelling) into
  the registered names they match, in catalog order, and the patterns that matched nothing.
- :func:`run_each` runs an action per dataset; an exception ends that dataset's run only and
  is kept as one masked sentence, so one failing dataset never stops the others.
"""

from __future__ import annotations

import fnmatch
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from mdm_core.errors import error_sentence

#: A glob's bracket expression (``[a-c]``), left as written when a pattern is normalised.
_BRACKETS = re.compile(r"(\[[^\]]*\])")


@attrs.frozen
class BatchOutcome:
    """What the action did for one dataset: ``result`` when ``ok``, else ``error`` (one
    sentence, secrets masked); ``seconds`` it took either way."""

    name: str
    ok: bool
    error: str | None = None
    result: Any = None
    seconds: float = 0.0


def split_patterns(patterns: Sequence[str]) -> list[str]:
    """Every item of every argument's comma list, stripped, empties and repeats dropped."""
    items = (item.strip() for argument in patterns for item in argument.split(","))
    return list(dict.fromkeys(item for item in items if item))


def normalize_pattern(pattern: str) -> str:
    """``pattern`` spelled as :func:`mdm_core.datasets.models.normalize_name` spells names
    (stripped, lower case, ``-`` as ``_``), glob characters ``* ? [...]`` kept; a range
    inside brackets (``[a-c]``) keeps its ``-``."""
    parts = _BRACKETS.split(pattern.strip().lower())
    return "".join(part if _BRACKETS.fullmatch(part) else part.replace("-", "_") for part in parts)


def resolve_patterns(names: Sequence[str], patterns: Sequence[str]) -> tuple[list[str], list[str]]:
    """The ``names`` (registered, normalised) matched by any of ``patterns``, in the order
    of ``names`` without repeats, and the pattern items that matched none of them.

    Each argument of ``patterns`` may be a comma list; each item is a glob (fnmatch) or a
    plain name, compared case-insensitively after normalisation (``Penguins-Raw`` matches
    ``penguins_raw``)."""
    matched: set[str] = set()
    unmatched: list[str] = []
    for item in split_patterns(patterns):
        wanted = normalize_pattern(item)
        hits = {name for name in names if fnmatch.fnmatchcase(name.lower(), wanted)}
        if not hits:
            unmatched.append(item)
        matched |= hits
    return list(dict.fromkeys(name for name in names if name in matched)), unmatched


def run_each(
    names: Sequence[str],
    action: Callable[[str], Any],
    on_done: Callable[[BatchOutcome], None] | None = None,
) -> list[BatchOutcome]:
    """Call ``action(name)`` for each of ``names`` in order; one outcome per name. An
    ``Exception`` fails that name only (KeyboardInterrupt and SystemExit stop the run).
    ``on_done`` sees each outcome as soon as it is known (to print progress)."""
    outcomes = []
    for name in names:
        started = time.perf_counter()
        try:
            outcome = BatchOutcome(name, True, result=action(name), seconds=time.perf_counter() - started)
        except Exception as exc:
            outcome = BatchOutcome(name, False, error=error_sentence(exc), seconds=time.perf_counter() - started)
        outcomes.append(outcome)
        if on_done:
            on_done(outcome)
    return outcomes
