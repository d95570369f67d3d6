"""A deterministic generated dataset with the value kinds users register: integers,
floats holding NaN and NULL, unicode text with NULLs, datetimes with NULLs, booleans.
Used by ``mdm storage compare`` and ``mdm selftest``."""

from __future__ import annotations

import pyarrow as pa

#: Texts of the ``label`` column: accents, CJK, an emoji, quotes, an SQL keyword.
LABELS = ("café", "naïve", "東京", "🐧 penguin", "O'Brien", 'say "hi"', "select", "plain")

#: The datetime columns of :func:`generated_table` (what a 1.x YAML lists as datetime columns).
DATETIME_COLUMNS = ("event time",)


def generated_table(rows: int = 2_000, seed: int = 13) -> pa.Table:
    """``rows`` rows, the same for the same ``seed``: ``id`` (0..rows-1), ``count`` (int64),
    ``value`` (float64, ~5% NaN and ~5% NULL), ``score`` (float64, no missing values),
    ``label`` (text, ~7% NULL), ``event time`` (timestamp[us], ~3% NULL), ``flag`` (bool)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    value = rng.normal(100.0, 25.0, rows)
    value[rng.random(rows) < 0.05] = np.nan
    value_null = rng.random(rows) < 0.05
    labels = rng.integers(0, len(LABELS), rows)
    label_null = rng.random(rows) < 0.07
    seconds = rng.integers(0, 3 * 365 * 86_400, rows) * 1_000_000 + rng.integers(0, 1_000_000, rows)
    start = np.datetime64("2022-01-01T00:00:00", "us")
    times = start + seconds.astype("timedelta64[us]")
    time_null = rng.random(rows) < 0.03
    return pa.table({
        "id": pa.array(np.arange(rows, dtype=np.int64)),
        "count": pa.array(rng.integers(-1_000, 1_000_000, rows, dtype=np.int64)),
        "value": pa.array(value, mask=value_null),
        "score": pa.array(rng.normal(0.0, 1.0, rows)),
        "label": pa.array([LABELS[i] for i in labels], pa.string(), mask=label_null),
        "event time": pa.array(times, pa.timestamp("us"), mask=time_null),
        "flag": pa.array(rng.random(rows) < 0.4),
    })
