"""Text counts with Arrow compute (mdm_featurekit.text)."""

from __future__ import annotations

import pyarrow as pa
from mdm_featurekit import TEXT_PATTERNS, count_ratio, text_counts, unique_word_counts


def test_pattern_counts_keep_nulls():
    text = pa.array(["Hello World 42!", "visit www.x.org or mail a@b.co #tag @me", None])
    assert text_counts(text, "words").to_pylist() == [3, 7, None]
    assert text_counts(text, "uppercase").to_pylist() == [2, 0, None]
    assert text_counts(text, "digits").to_pylist() == [2, 0, None]
    assert [text_counts(text, k).to_pylist()[1] for k in ("urls", "emails", "hashtags", "mentions")] == [1, 1, 1, 1]
    assert set(TEXT_PATTERNS) >= {"words", "spaces", "special"}


def test_unique_words_are_case_sensitive_and_ratios_avoid_division_by_zero():
    text = pa.array(["a b a", "A a", "", None])
    unique = unique_word_counts(text)
    assert unique.to_pylist() == [2, 2, 0, None]
    words = text_counts(text, "words")
    assert count_ratio(unique, words).to_pylist() == [2 / 3, 1.0, 0.0, None]
