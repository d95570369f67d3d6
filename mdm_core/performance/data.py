"""Generated data for benchmarks: the same rows for the same ``rows`` and ``seed``, on any
machine. Built column by column with numpy and Arrow compute (no Python loop over rows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: Values of the categorical columns; ``region`` is what the benchmark's filter selects on.
REGIONS = ("north", "south", "east", "west", "center")
PRODUCTS = tuple(f"product_{i:02d}" for i in range(40))
WORDS = ("data", "model", "feature", "value", "quick", "brown", "fox", "lazy", "dog", "table",
         "column", "engine", "store", "batch", "stream", "query", "index", "row", "sample", "label")
DEFAULT_SEED = 42


def generate_table(rows: int, seed: int = DEFAULT_SEED) -> pa.Table:
    """``rows`` rows: ``id``; numeric ``amount``, ``quantity``, ``score`` (null in about 5%
    of the rows); categorical ``region``, ``product``; text ``comment`` (six words);
    datetime ``created_at`` (2024, to the second); ``label`` (0/1, the target)."""
    rng = np.random.default_rng(seed)
    words = pa.array(WORDS)
    comment = pc.binary_join_element_wise(
        *(pc.take(words, pa.array(rng.integers(0, len(WORDS), rows))) for _ in range(6)), " "
    )
    start = np.datetime64("2024-01-01T00:00:00", "s")
    created = start + rng.integers(0, 365 * 24 * 3600, rows).astype("timedelta64[s]")
    score = rng.normal(50.0, 15.0, rows).round(3)
    return pa.table({
        "id": pa.array(np.arange(1, rows + 1, dtype=np.int64)),
        "amount": pa.array(rng.lognormal(3.0, 1.0, rows).round(2)),
        "quantity": pa.array(rng.integers(1, 100, rows, dtype=np.int64)),
        "score": pa.array(score, mask=rng.random(rows) < 0.05),
        "region": pc.take(pa.array(REGIONS), pa.array(rng.integers(0, len(REGIONS), rows))),
        "product": pc.take(pa.array(PRODUCTS), pa.array(rng.integers(0, len(PRODUCTS), rows))),
        "comment": comment,
        "created_at": pa.array(created, pa.timestamp("s")),
        "label": pa.array(rng.integers(0, 2, rows, dtype=np.int64)),
    })


def write_csv(path: Path, rows: int, seed: int = DEFAULT_SEED) -> Path:
    """:func:`generate_table` written to ``path`` as CSV with a header; returns ``path``."""
    import pyarrow.csv as pacsv

    pacsv.write_csv(generate_table(rows, seed), path)
    return path
