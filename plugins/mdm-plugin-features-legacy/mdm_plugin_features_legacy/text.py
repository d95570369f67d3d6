"""1.x text features of free-text columns (missing text counts as empty).

Per column ``c``: ``c_length c_word_count c_avg_word_length c_n_uppercase c_n_lowercase
c_n_digits c_n_spaces c_n_special c_has_digits c_has_special c_is_upper c_is_lower
c_unique_word_count c_unique_word_ratio c_n_urls c_n_emails c_n_hashtags c_n_mentions``.
Words are whitespace-separated; ``avg_word_length`` is non-space characters per word.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from mdm_featurekit import TableProfile, as_text, count_ratio, text_counts, unique_word_counts

from mdm_core.features.contract import FeatureSpec, FeatureUnit, SourceColumn

FAMILY = "text"
NAMES = (
    "length", "word_count", "avg_word_length", "n_uppercase", "n_lowercase", "n_digits",
    "n_spaces", "n_special", "has_digits", "has_special", "is_upper", "is_lower",
    "unique_word_count", "unique_word_ratio", "n_urls", "n_emails", "n_hashtags", "n_mentions",
)
FLOATS = {"avg_word_length", "unique_word_ratio"}


def plan(profile: TableProfile, column: SourceColumn, fe) -> list[FeatureUnit]:
    """The text unit of one column (none for other kinds)."""
    c = column.name
    if not fe.text.enabled or column.kind != "text":
        return []
    outputs = tuple(FeatureSpec(f"{c}_{n}", FAMILY, (c,), "float64" if n in FLOATS else "int64") for n in NAMES)
    return [FeatureUnit(f"{FAMILY}:{c}", FAMILY, "text", (c,), outputs)]


def compute(batch: pa.RecordBatch, unit: FeatureUnit) -> dict[str, pa.Array]:
    c = unit.sources[0]
    text = pc.fill_null(as_text(batch.column(c)), "")
    i64 = pa.int64()
    words = text_counts(text, "words")
    spaces = text_counts(text, "spaces")
    length = pc.utf8_length(text).cast(i64)
    digits = text_counts(text, "digits")
    special = text_counts(text, "special")
    unique = unique_word_counts(text)
    values = {
        "length": length,
        "word_count": words,
        "avg_word_length": count_ratio(pc.subtract(length, spaces), words),
        "n_uppercase": text_counts(text, "uppercase"),
        "n_lowercase": text_counts(text, "lowercase"),
        "n_digits": digits,
        "n_spaces": spaces,
        "n_special": special,
        "has_digits": pc.greater(digits, 0).cast(i64),
        "has_special": pc.greater(special, 0).cast(i64),
        "is_upper": pc.utf8_is_upper(text).cast(i64),
        "is_lower": pc.utf8_is_lower(text).cast(i64),
        "unique_word_count": unique,
        "unique_word_ratio": count_ratio(unique, words),
        "n_urls": text_counts(text, "urls"),
        "n_emails": text_counts(text, "emails"),
        "n_hashtags": text_counts(text, "hashtags"),
        "n_mentions": text_counts(text, "mentions"),
    }
    return {f"{c}_{k}": v for k, v in values.items()}


OPS = {"text": compute}
