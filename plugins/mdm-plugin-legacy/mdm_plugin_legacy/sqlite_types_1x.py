"""The Arrow type of each column of a 1.x SQLite table: declared type plus stored values.

MDM 1.x wrote SQLite tables with pandas ``to_sql`` through SQLAlchemy, chunk by chunk:
the first chunk's pandas dtypes fixed the declared types (``BIGINT`` for int64, ``FLOAT``
for float64, ``TEXT`` for object, ``BOOLEAN`` for bool, ``DATETIME`` for datetime64;
``INTEGER``/``SMALLINT``/``REAL``/``DATE``/``TIME`` for narrower dtypes), later chunks
were appended whatever their dtypes. SQLite is dynamically typed, so a column may hold
values that do not fit its declared type (text in a ``FLOAT`` column whose first chunk
was all missing, reals in a ``BIGINT`` column). :func:`plan_column` decides from the
declared type *and* the storage classes actually present (``typeof``, scanned once):

============================  =======================  =================================
declared (SQLite affinity)    stored classes           Arrow type
============================  =======================  =================================
INTEGER family (``*INT*``)    integer                  int64
``BOOL*``                     integer 0/1              bool
REAL family (REAL/FLOA/DOUB)  real                     float64
TEXT family (CHAR/CLOB/TEXT)  text                     string
DATE/TIME/DATETIME/TIMESTAMP  any but blob             string: the stored text, as 1.x
                                                       stored it (SQLAlchemy writes
                                                       ``2007-11-11 00:00:00.000000``)
NUMERIC/DECIMAL or untyped    integer / integer+real   int64 / float64
                              / text / blob            / string / binary
anything else                 does not fit             **string** (every value as text:
                                                       integers as digits, reals in the
                                                       shortest form SQLite round-trips,
                                                       17 digits when needed), or
                                                       **binary** when a blob is present
============================  =======================  =================================

So no value is ever lost or altered: a column that does not fit its declared type is
returned as text (binary if it holds blobs), and :class:`ColumnPlan.note` says why.
"""

from __future__ import annotations

import attrs
import pyarrow as pa

from mdm_core.storage import quote_identifier

#: Storage classes (``typeof``) that fit each planned type.
_FITS = {
    "int64": {"integer"},
    "bool": {"bool"},
    "float64": {"real"},
    "string": {"text"},
    "binary": {"blob"},
}
_TEMPORAL = ("DATE", "TIME")  # DATE, TIME, DATETIME, TIMESTAMP


@attrs.frozen
class ColumnPlan:
    """How one column is read: its Arrow ``type``, the SQL expression selecting it
    (``expr``), the type ADBC returns for that expression (``wire``: int64, float64,
    string or binary), and ``note``: why the column is not read as declared, or None."""

    name: str
    declared: str
    type: pa.DataType
    expr: str
    wire: str
    note: str | None = None


def declared_kind(declared: str) -> str:
    """The Arrow type name a declared SQLite column type means when values fit it
    (``int64``, ``bool``, ``float64``, ``string``, ``temporal``, ``numeric`` or
    ``untyped``), following SQLite's affinity rules."""
    text = (declared or "").upper()
    if "BOOL" in text:
        return "bool"
    if "INT" in text:
        return "int64"
    if "CHAR" in text or "CLOB" in text or "TEXT" in text:
        return "string"
    if not text or "BLOB" in text:
        return "untyped"
    if "REAL" in text or "FLOA" in text or "DOUB" in text:
        return "float64"
    if any(word in text for word in _TEMPORAL):
        return "temporal"
    return "numeric"


def scan_expression(name: str, declared: str) -> str:
    """SQL aggregate giving the distinct storage classes of column ``name`` (comma
    separated; ``bool`` for the 0/1 integers of a BOOLEAN column)."""
    col = quote_identifier(name)
    if declared_kind(declared) == "bool":
        return (f"group_concat(DISTINCT CASE WHEN typeof({col}) = 'integer' AND {col} IN (0, 1) "
                f"THEN 'bool' ELSE typeof({col}) END)")
    return f"group_concat(DISTINCT typeof({col}))"


def plan_column(name: str, declared: str, found: str | None) -> ColumnPlan:
    """The plan of column ``name`` declared ``declared`` whose values have the storage
    classes ``found`` (the :func:`scan_expression` result; None for an empty column)."""
    classes = set((found or "").split(",")) - {"", "null"}
    kind = declared_kind(declared)
    col = quote_identifier(name)
    if kind == "temporal":
        if "blob" in classes:
            return _binary(name, declared, col, "it holds binary values")
        if classes <= {"text"}:
            return ColumnPlan(name, declared, pa.string(), col, "string")
        numbers = ", ".join(sorted(classes - {"text"}))
        return _text(name, declared, col, f"declared {declared} and it holds {numbers} values")
    if kind in ("numeric", "untyped"):
        if not classes:
            typ = "float64" if kind == "numeric" else "string"
            return _native(name, declared, col, typ)
        if classes <= {"integer"}:
            return _native(name, declared, col, "int64")
        if classes <= {"integer", "real"}:
            expr = col if classes == {"real"} else f"CAST({col} AS REAL)"
            return ColumnPlan(name, declared, pa.float64(), expr, "float64")
        if classes <= {"text"}:
            return _native(name, declared, col, "string")
        if classes <= {"blob"}:
            return _native(name, declared, col, "binary")
        kind = "mixed"
    elif classes <= _FITS[kind]:
        if kind == "bool":
            return ColumnPlan(name, declared, pa.bool_(), col, "int64")
        return _native(name, declared, col, kind)
    stray = ", ".join(sorted(classes - _FITS.get(kind, set())))
    reason = f"declared {declared or 'without a type'} but it also holds {stray} values"
    if "blob" in classes:
        return _binary(name, declared, col, reason)
    return _text(name, declared, col, reason)


def _native(name: str, declared: str, col: str, typ: str) -> ColumnPlan:
    arrow = {"int64": pa.int64(), "float64": pa.float64(), "string": pa.string(), "binary": pa.binary()}[typ]
    return ColumnPlan(name, declared, arrow, col, typ)


def _text(name: str, declared: str, col: str, reason: str | None) -> ColumnPlan:
    # Reals as the text SQLite gives when it reads back as the same double, else with
    # 17 significant digits (always exact); integers and text as they are.
    expr = (f"CASE typeof({col}) WHEN 'real' THEN CASE WHEN CAST(CAST({col} AS TEXT) AS REAL) = {col} "
            f"THEN CAST({col} AS TEXT) ELSE printf('%!.17g', {col}) END ELSE CAST({col} AS TEXT) END")
    note = None if reason is None else f"read as text: {reason}"
    return ColumnPlan(name, declared, pa.string(), expr, "string", note)


def _binary(name: str, declared: str, col: str, reason: str) -> ColumnPlan:
    return ColumnPlan(name, declared, pa.binary(), f"CAST({col} AS BLOB)", "binary",
                      f"read as binary: {reason}")


#: A literal of each wire type: the first row of every query, so that ADBC's type
#: inference (from the first rows) is exact even when a column starts with NULLs.
SENTINEL = {"int64": "0", "float64": "0.0", "string": "''", "binary": "X''"}
