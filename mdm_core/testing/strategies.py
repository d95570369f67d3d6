"""Hypothesis strategies for Arrow tables made of the types every backend supports."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
from hypothesis import strategies as st

from mdm_core.testing.data import HOSTILE_NAMES, HOSTILE_STRINGS, SUPPORTED_TYPES

_UTC = dt.UTC
_MIN_TS = dt.datetime(1900, 1, 1)
_MAX_TS = dt.datetime(2200, 1, 1)

#: Text without NUL (no SQL engine stores it in TEXT) and without lone surrogates.
text = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=16),
)

identifiers = st.one_of(
    st.sampled_from(HOSTILE_NAMES),
    st.text(st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="\x00"), min_size=1, max_size=24),
).filter(lambda s: s.strip() != "" and not s.lower().startswith(("_mdm", "sqlite_")))


def values_for(typ: pa.DataType, *, allow_nan: bool = True) -> st.SearchStrategy[Any]:
    """Python values (or None) of Arrow type ``typ``."""
    if pa.types.is_integer(typ):
        bits = typ.bit_width
        inner = st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    elif pa.types.is_floating(typ):
        inner = st.floats(width=typ.bit_width, allow_nan=allow_nan)
    elif pa.types.is_boolean(typ):
        inner = st.booleans()
    elif pa.types.is_string(typ):
        inner = text
    elif pa.types.is_date(typ):
        inner = st.dates(dt.date(1900, 1, 1), dt.date(2200, 1, 1))
    elif pa.types.is_timestamp(typ):
        inner = st.datetimes(_MIN_TS, _MAX_TS)
        if typ.tz is not None:
            inner = inner.map(lambda d: d.replace(tzinfo=_UTC))
    else:
        raise ValueError(f"no strategy for {typ}")
    return st.none() | inner


@st.composite
def arrow_tables(
    draw: st.DrawFn, *, max_columns: int = 6, max_rows: int = 25, allow_nan: bool = True
) -> pa.Table:
    """Tables of 1..max_columns columns of supported types (names unique ignoring case,
    often hostile) and 0..max_rows rows, with nulls anywhere."""
    names = draw(
        st.lists(identifiers, min_size=1, max_size=max_columns, unique_by=lambda s: s.lower())
    )
    types = draw(st.lists(st.sampled_from(list(SUPPORTED_TYPES.values())), min_size=len(names), max_size=len(names)))
    rows = draw(st.integers(0, max_rows))
    arrays = [
        pa.array(draw(st.lists(values_for(t, allow_nan=allow_nan), min_size=rows, max_size=rows)), t)
        for t in types
    ]
    return pa.Table.from_arrays(arrays, names=names)
