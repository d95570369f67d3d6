"""``mdm features test``: run every installed engine and custom feature on a small sample.

The sample is the first rows of a file the user names (read and its column kinds
detected the way registration does), or a built-in deterministic table with every column kind
and missing values, plus a column of integer-valued floats (1..2399) for each input column custom features
declare.
Each engine is fitted on the sample and applied to it in two batches; each custom feature
is probed and computed. Results are :class:`ComponentCheck` rows: ``ok``, ``failed`` (with
the error) or ``not applicable`` (a custom feature whose inputs the sample lacks).
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import pyarrow as pa

from mdm_core.features.contract import FitContext, SourceColumn
from mdm_core.features.custom_stage import CustomStage, prepare
from mdm_core.features.discovery import custom_producers, engine_offers
from mdm_core.features.naming import NameRegistry


@attrs.frozen
class ComponentCheck:
    """How one feature engine or custom feature fared on the sample; ``columns`` is how
    many feature columns it produced, ``error`` the reason when it failed."""

    component: str
    kind: str  # engine | custom feature
    source: str
    status: str  # ok | failed | not applicable
    columns: int = 0
    error: str | None = None


def synthetic_sample(rows: int, extra_numeric: list[str]) -> tuple[pa.Table, dict[str, str]]:
    """A deterministic table with numeric, categorical, datetime and text columns (with
    missing values), an id and a target; plus float columns named ``extra_numeric``."""
    rng = np.random.default_rng(7)
    numbers = rng.normal(100, 15, rows)
    numbers[::11] = np.nan
    data: dict[str, Any] = {
        "id": pa.array(np.arange(rows)),
        "amount": pa.array(numbers, from_pandas=True),
        "count": pa.array(rng.integers(0, 50, rows)),
        "color": pa.array([["red", "green", "blue", None][i % 4] for i in range(rows)]),
        "when": pa.array([f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00" for i in range(rows)]),
        "note": pa.array([f"Item {i} costs {i % 7}$ see www.example.com #{i % 3}" for i in range(rows)]),
        "target": pa.array(rng.integers(0, 2, rows)),
    }
    kinds = {"id": "id", "amount": "numeric", "count": "numeric", "color": "categorical",
             "when": "datetime", "note": "text", "target": "numeric"}
    for name in extra_numeric:
        if name not in data:
            data[name] = pa.array(rng.integers(1, 2400, rows).astype(float))
            kinds[name] = "numeric"
    return pa.table(data), kinds


def check_components(settings: Any, sample: pa.Table, kinds: dict[str, str], dataset: str = "selftest") -> list[ComponentCheck]:
    """Check every engine and custom feature on ``sample`` (see module docstring)."""
    results: list[ComponentCheck] = []
    target = "target" if "target" in sample.column_names else None
    context = FitContext(
        table="sample",
        columns=tuple(SourceColumn(n, kinds.get(n, "numeric")) for n in sample.column_names),
        target_column=target,
        id_columns=tuple(n for n, k in kinds.items() if k == "id"),
        head=sample,
        row_count=sample.num_rows,
    )
    half = max(sample.num_rows // 2, 1)
    batches = sample.to_batches(max_chunksize=half)
    for plugin, impl in engine_offers():
        label = f"{impl.name} ({impl.generation})"
        try:
            engine = impl.factory(settings)
            state = engine.fit(iter(batches), context)
            parts = [engine.transform(state, b) for b in batches]
            if sum(p.num_rows for p in parts) != sample.num_rows:
                raise ValueError("transform returned a different number of rows")
            if any(p.schema != state.schema() for p in parts):
                raise ValueError("transform returned columns other than the fitted ones")
            results.append(ComponentCheck(label, "engine", plugin, "ok", len(state.names)))
        except Exception as exc:  # report every engine failure, keep checking the others
            results.append(ComponentCheck(label, "engine", plugin, "failed", error=f"{type(exc).__name__}: {exc}"))
    for producer in custom_producers(settings, dataset):
        names = NameRegistry(sample.column_names, ())
        try:
            active = prepare([producer], {"sample": sample.column_names}, sample, names, skip_on_error=False)
            if not active:
                results.append(ComponentCheck(producer.name, "custom feature", producer.source, "not applicable"))
                continue
            arrays = CustomStage(active).compute(sample.to_batches()[0] if sample.num_rows else sample)
            results.append(ComponentCheck(producer.name, "custom feature", producer.source, "ok", len(arrays)))
        except Exception as exc:  # the user's code: report and go on
            cause = exc.__cause__ or exc
            results.append(ComponentCheck(producer.name, "custom feature", producer.source, "failed",
                                       error=f"{type(cause).__name__}: {cause}"))
    return results
