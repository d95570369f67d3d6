"""Text family of the new engine (``feature_engineering.text.*``); missing text gives nulls.

Per text column ``c`` (1.x names in brackets): ``basic``: ``c__len`` [c_length],
``c__words`` [c_word_count], ``c__avg_word_len`` [c_avg_word_length];
``characters``: ``c__upper`` [c_n_uppercase], ``c__lower`` [c_n_lowercase],
``c__digits`` [c_n_digits], ``c__spaces`` [c_n_spaces], ``c__special`` [c_n_special];
``words``: ``c__unique_words`` [c_unique_word_count], ``c__unique_word_ratio``
[c_unique_word_ratio]; ``patterns``: ``c__urls`` [c_n_urls], ``c__emails`` [c_n_emails],
``c__hashtags`` [c_n_hashtags], ``c__mentions`` [c_n_mentions].
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from mdm_featurekit import TableProfile, as_text, count_ratio, text_counts, unique_word_counts

from mdm_core.features.contract import FeatureUnit, SourceColumn
from mdm_plugin_features_new.naming import Namer

GROUPS = {
    "basic": (("len", "length"), ("words", "word_count"), ("avg_word_len", "avg_word_length")),
    "characters": (("upper", "n_uppercase"), ("lower", "n_lowercase"), ("digits", "n_digits"),
                   ("spaces", "n_spaces"), ("special", "n_special")),
    "words": (("unique_words", "unique_word_count"), ("unique_word_ratio", "unique_word_ratio")),
    "patterns": (("urls", "n_urls"), ("emails", "n_emails"), ("hashtags", "n_hashtags"), ("mentions", "n_mentions")),
}
FLOATS = {"avg_word_len", "unique_word_ratio"}
COUNTS = {"upper": "uppercase", "lower": "lowercase", "digits": "digits", "spaces": "spaces",
          "special": "special", "words": "words", "urls": "urls", "emails": "emails",
          "hashtags": "hashtags", "mentions": "mentions"}


def plan(profile: TableProfile, column: SourceColumn, fe, namer: Namer) -> list[FeatureUnit]:
    """The text unit of one column (none for other kinds)."""
    cfg = fe.text
    c = column.name
    if not cfg.enabled or column.kind != "text":
        return []
    names = {}
    specs = []
    for group, items in GROUPS.items():
        if not getattr(cfg, group):
            continue
        for key, legacy in items:
            spec = namer.spec("text", c, key, legacy, "float64" if key in FLOATS else "int64")
            names[spec.name] = key
            specs.append(spec)
    if not specs:
        return []
    return [FeatureUnit(f"text:{c}", "text", "text", (c,), tuple(specs), {"names": names})]


def compute(batch: pa.RecordBatch, unit: FeatureUnit) -> dict[str, pa.Array]:
    text = as_text(batch.column(unit.sources[0]))
    cache: dict[str, pa.Array] = {}

    def get(key: str) -> pa.Array:
        if key not in cache:
            if key == "len":
                cache[key] = pc.utf8_length(text).cast(pa.int64())
            elif key == "unique_words":
                cache[key] = unique_word_counts(text)
            elif key == "avg_word_len":
                cache[key] = count_ratio(pc.subtract(get("len"), get("spaces")), get("words"))
            elif key == "unique_word_ratio":
                cache[key] = count_ratio(get("unique_words"), get("words"))
            else:
                cache[key] = text_counts(text, COUNTS[key])
        return cache[key]

    names = unit.params["names"]
    return {spec.name: get(names[spec.name]) for spec in unit.outputs}


OPS = {"text": compute}
