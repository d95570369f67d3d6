"""Counts over free text with Arrow compute (no per-row Python): pattern matches, distinct
words, and ratios of counts. Null text gives null counts unless stated."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mdm_featurekit.arrays import as_text, int_array

#: Regular expressions (RE2 syntax) that :func:`text_counts` counts, by name.
TEXT_PATTERNS = {
    "uppercase": r"\p{Lu}",
    "lowercase": r"\p{Ll}",
    "digits": r"\p{Nd}",
    "spaces": r"\s",
    "special": r"[^\p{L}\p{N}\s]",
    "words": r"\S+",
    "urls": r"(?i)(?:https?://|www\.)\S+",
    "emails": r"[\w.+-]+@[\w-]+\.[\w.-]+",
    "hashtags": r"#\w+",
    "mentions": r"(?:^|\s)@\w+",
}


def text_counts(column: pa.Array, what: str) -> pa.Array:
    """Matches of :data:`TEXT_PATTERNS` ``what`` in each string, int64 (null stays null)."""
    return pc.count_substring_regex(as_text(column), TEXT_PATTERNS[what]).cast(pa.int64())


def unique_word_counts(column: pa.Array) -> pa.Array:
    """Distinct whitespace-separated words per string (case-sensitive), int64; null stays
    null."""
    text = as_text(column)
    words = pc.utf8_split_whitespace(text)
    parents = pc.list_parent_indices(words)
    flat = pc.list_flatten(words)
    table = pa.table({"row": parents, "word": flat}).filter(pc.not_equal(flat, ""))
    counts = np.zeros(len(text), dtype=np.int64)
    if table.num_rows:
        grouped = table.group_by("row").aggregate([("word", "count_distinct")])
        counts[grouped["row"].to_numpy()] = grouped["word_count_distinct"].to_numpy()
    return int_array(counts, text.is_null().to_numpy(zero_copy_only=False))


def count_ratio(a: pa.Array, b: pa.Array) -> pa.Array:
    """``a / b`` of two count arrays as float64, 0 where ``b`` is 0 (null where either is
    null), e.g. characters per word."""
    b = b.cast(pa.float64())
    return pc.if_else(pc.equal(b, 0.0), 0.0, pc.divide(a.cast(pa.float64()), b))
