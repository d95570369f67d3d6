"""Running custom-feature producers batch by batch with stable output columns.

:func:`prepare` decides which producers apply to a dataset (declared input columns present
in every featurised table; 1.x operations that produce columns on the first rows of the
training table) and fixes each output's name and type; :class:`CustomStage` then computes
them for any batch, casting every result to its fixed type so all batches and tables get
the same columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import pyarrow as pa

from mdm_core.errors import MDMError
from mdm_core.features.contract import FEATURE_TYPES, FeatureComputationError
from mdm_core.features.naming import NameRegistry
from mdm_core.features.producers import Producer
from mdm_core.logging import get_logger

log = get_logger(__name__)


@attrs.frozen
class ActiveProducer:
    """A producer that applies, with its output columns (name -> feature dtype)."""

    producer: Producer
    outputs: dict[str, str]


def _inferred_dtype(series: Any) -> str:
    import pandas as pd

    if pd.api.types.is_bool_dtype(series.dtype):
        return "int64"
    if pd.api.types.is_numeric_dtype(series.dtype):
        return "float64"
    return "string"


def to_arrow(series: Any, dtype: str, rows: int) -> pa.Array:
    """A producer's Series as an Arrow array of the feature dtype (NaN/inf -> null)."""
    import pandas as pd

    if not isinstance(series, pd.Series):
        raise TypeError(f"returned {type(series).__name__}, expected a pandas Series")
    if len(series) != rows:
        raise ValueError(f"returned {len(series)} values for {rows} rows")
    series = series.reset_index(drop=True)
    if dtype == "string":
        values = series.astype("string")
        return pa.array(values.to_numpy(dtype=object, na_value=None), type=pa.string())
    if pd.api.types.is_bool_dtype(series.dtype):
        series = series.astype("Int64") if series.hasnans else series.astype("int64")
    if dtype == "int64" and pd.api.types.is_integer_dtype(series.dtype):
        # exact whatever the size (a float round trip would round beyond 2**53)
        return pa.array(series, type=pa.int64(), from_pandas=True)
    numbers = pd.to_numeric(series, errors="raise").astype("float64").to_numpy()
    mask = ~np.isfinite(numbers)
    if dtype == "int64":
        clean = np.where(mask, 0, numbers)
        if not np.all(clean == np.round(clean)):
            raise ValueError("returned non-integer values for an int64 feature")
        return pa.array(clean.astype(np.int64), mask=mask, type=pa.int64())
    return pa.array(numbers, mask=mask, type=FEATURE_TYPES[dtype])


def _frame(batch: pa.RecordBatch | pa.Table, columns: Sequence[str] | None) -> Any:
    part = batch.select(list(columns)) if columns is not None else batch
    return part.to_pandas()


def prepare(
    producers: list[Producer],
    table_columns: dict[str, list[str]],
    head: pa.Table,
    names: NameRegistry,
    *,
    skip_on_error: bool,
) -> list[ActiveProducer]:
    """The producers that apply, with outputs fixed; see module docstring.

    ``table_columns`` maps each featurised table to its columns; ``head`` is the first rows
    of the training table; ``names`` refuses skipped and already-taken column names.
    """
    active: list[ActiveProducer] = []
    for producer in producers:
        if names.skipped(producer.name):
            log.info("custom feature skipped by skip_list", feature=producer.name)
            continue
        if producer.input_columns is not None:
            missing = {t: [c for c in producer.input_columns if c not in cols] for t, cols in table_columns.items()}
            missing = {t: cols for t, cols in missing.items() if cols}
            if missing:
                log.info("custom feature does not apply", feature=producer.name, missing=missing)
                continue
        try:
            outputs = _probe(producer, head)
        except Exception as exc:
            if not skip_on_error:
                raise MDMError(
                    f"Custom feature '{producer.name}' ({producer.source}) failed: {type(exc).__name__}: {exc}; "
                    f"fix it, add '{producer.name}' to feature_engineering.skip_list (MDM_FEATURES_SKIP_LIST) or "
                    "turn feature_engineering.skip_on_error back on to skip it."
                ) from exc
            log.warning("custom feature failed; skipped", feature=producer.name, source=producer.source, error=f"{type(exc).__name__}: {exc}")
            continue
        kept = {}
        for name, dtype in outputs.items():
            if names.claim(name, f"custom feature '{producer.name}'"):
                kept[name] = dtype
        if kept:
            active.append(ActiveProducer(producer, kept))
    return active


def _probe(producer: Producer, head: pa.Table) -> dict[str, str]:
    """Run ``producer`` on the head rows; return its output names and dtypes."""
    result = producer.call(_frame(head, producer.input_columns))
    outputs: dict[str, str] = {}
    for name, series in result.items():
        dtype = (producer.outputs or {}).get(name) or _inferred_dtype(series)
        to_arrow(series, dtype, head.num_rows)
        outputs[str(name)] = dtype
    if producer.outputs is not None:
        missing = [n for n in producer.outputs if n not in outputs]
        if missing:
            raise ValueError(f"did not return {missing}")
    return outputs


class CustomStage:
    """Computes the active producers on batches (see module docstring)."""

    def __init__(self, active: list[ActiveProducer]) -> None:
        self.active = active

    @property
    def fields(self) -> list[pa.Field]:
        return [pa.field(n, FEATURE_TYPES[d]) for a in self.active for n, d in a.outputs.items()]

    def without(self, producer_name: str) -> CustomStage:
        return CustomStage([a for a in self.active if a.producer.name != producer_name])

    def compute(self, batch: pa.RecordBatch) -> list[pa.Array]:
        arrays: list[pa.Array] = []
        for item in self.active:
            producer = item.producer
            try:
                result = producer.call(_frame(batch, producer.input_columns))
                for name, dtype in item.outputs.items():
                    if name not in result:
                        raise ValueError(f"did not return '{name}' for this batch")
                    arrays.append(to_arrow(result[name], dtype, batch.num_rows))
            except Exception as exc:  # the user's code; reported with its name
                raise FeatureComputationError(producer.name, list(item.outputs), exc) from exc
        return arrays
