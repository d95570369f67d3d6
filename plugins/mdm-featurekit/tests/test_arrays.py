"""Arrow <-> numpy conversions (mdm_featurekit.arrays)."""

from __future__ import annotations

import decimal

import numpy as np
import pyarrow as pa
from mdm_featurekit import as_text, float_array, int_array, to_float_array

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
BIG = 2**53 + 1


def test_float_conversion_accepts_every_integer_and_decimal():
    ints = pa.array([INT64_MIN, INT64_MAX, BIG, None])
    assert to_float_array(ints)[:3].tolist() == [float(INT64_MIN), float(INT64_MAX), float(BIG)]
    assert to_float_array(pa.array([2**64 - 1], pa.uint64())).tolist() == [float(2**64)]
    wide = pa.array([decimal.Decimal("12345678901234567890.123")], pa.decimal128(23, 3))
    assert to_float_array(wide).tolist() == [12345678901234567890.123]


def test_text_of_any_column_keeps_nulls():
    assert as_text(pa.array([1, None, 3])).to_pylist() == ["1", None, "3"]
    assert as_text(pa.array(["a", "b", None, "a"]).dictionary_encode()).to_pylist() == ["a", "b", None, "a"]
    assert as_text(pa.chunked_array([["x"], ["y"]])).to_pylist() == ["x", "y"]


def test_numpy_back_to_arrow_marks_missing_values_null():
    assert float_array(np.array([1.5, np.nan, np.inf, -np.inf])).to_pylist() == [1.5, None, None, None]
    ints = int_array(np.array([True, False, True]), np.array([False, False, True]))
    assert ints.type == pa.int64() and ints.to_pylist() == [1, 0, None]
