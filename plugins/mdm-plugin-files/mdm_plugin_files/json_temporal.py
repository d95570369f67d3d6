"""ISO-8601 text in JSON as dates and timestamps, typed as the CSV reader types the same
text, so a file MDM exported as JSON or JSON Lines registers back with its types.

JSON has no date or time type: exports write them as text (``2013-01-01 05:00:00Z``,
``2013-01-01 05:00:00.000000``). A text column whose values are all ISO-8601 dates or
timestamps (Arrow's own parser decides, as in pyarrow.csv) becomes

- ``date32`` when every value is a date alone (``2013-01-01``);
- ``timestamp[unit]`` when no value carries a zone (a date alone is its midnight);
- ``timestamp[unit, tz=UTC]`` when every value carries ``Z`` or an offset (``+02:00`` is
  converted to UTC: the same instant);
- text otherwise: zone and no zone mixed, or anything else.

``unit`` is the coarsest of ``s``, ``ms``, ``us``, ``ns`` that holds every value exactly
(whole seconds: ``s``, as pyarrow.csv; up to 3, 6, 9 digits after the point: ``ms``,
``us``, ``ns``): Arrow's cast refuses a value it would have to cut, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from mdm_plugin_files.messages import cut

_UNITS = ("s", "ms", "us", "ns")
#: Types tried in order, coarsest first; a type holds every value an earlier one of its
#: ladder holds. Zone and no zone never mix.
_LADDERS = (
    (pa.date32(), *(pa.timestamp(unit) for unit in _UNITS)),
    tuple(pa.timestamp(unit, tz="UTC") for unit in _UNITS),
)
#: Every ISO-8601 date or timestamp starts so; text that does not is not tried at all.
_ISO_START = r"^\d{4}-\d{2}-\d{2}"


class LateValue(pa.ArrowInvalid):
    """A block after the first holds values the types chosen on the first block cannot
    hold exactly; ``widenings`` maps each such column to the type that holds its values
    and everything before (text at worst). A reader reads the file again with them."""

    def __init__(self, message: str, widenings: dict[str, pa.DataType]) -> None:
        super().__init__(message)
        self.widenings = widenings


def is_text(typ: pa.DataType) -> bool:
    return pa.types.is_string(typ) or pa.types.is_large_string(typ)


def temporal_type(column: pa.Array | pa.ChunkedArray) -> pa.DataType | None:
    """The date or timestamp type every value of the text ``column`` reads as exactly (see
    the module), None when there is none or the column holds no value."""
    if column.null_count == len(column):
        return None
    if not pc.all(pc.match_substring_regex(column, _ISO_START)).as_py():
        return None
    for ladder in _LADDERS:
        for typ in ladder:
            try:
                pc.cast(column, typ)
            except pa.ArrowInvalid:
                continue
            return typ
    return None


def widened(current: pa.DataType, needed: pa.DataType | None) -> pa.DataType:
    """The type holding values of both ``current`` and ``needed`` (None: text) exactly:
    the finer of two dates/timestamps on one ladder, else text."""
    for ladder in _LADDERS:
        if current in ladder and needed in ladder:
            return max(current, needed, key=ladder.index)
    return pa.string()


def holds_timestamp(typ: pa.DataType) -> bool:
    """True if ``typ`` is a timestamp or nests one (in a list or struct)."""
    if pa.types.is_timestamp(typ):
        return True
    return any(holds_timestamp(typ.field(i).type) for i in range(typ.num_fields))


def as_text(typ: pa.DataType) -> pa.DataType:
    """``typ`` with every timestamp in it, however nested, as text."""
    if pa.types.is_timestamp(typ):
        return pa.string()
    if pa.types.is_struct(typ):
        return pa.struct([typ.field(i).with_type(as_text(typ.field(i).type)) for i in range(typ.num_fields)])
    if pa.types.is_large_list(typ):
        return pa.large_list(typ.value_field.with_type(as_text(typ.value_type)))
    if pa.types.is_list(typ):
        return pa.list_(typ.value_field.with_type(as_text(typ.value_type)))
    return typ


def chosen_types(
    first: pa.RecordBatch | pa.Table, overrides: Mapping[str, pa.DataType]
) -> dict[str, pa.DataType]:
    """The date/timestamp type of each text column of ``first`` (the block that fixes the
    schema, or a whole table): its ``overrides`` entry (a type widened after a late value)
    if any, else the type its values read as; columns that stay text are left out."""
    types = {}
    for field, column in zip(first.schema, first.columns, strict=True):
        if not is_text(field.type):
            continue
        typ = overrides.get(field.name) or temporal_type(column)
        if typ is not None and not is_text(typ):
            types[field.name] = typ
    return types


def typed_schema(schema: pa.Schema, types: Mapping[str, pa.DataType]) -> pa.Schema:
    return pa.schema([f.with_type(types[f.name]) if f.name in types else f for f in schema])


def with_types(batch: pa.RecordBatch, types: Mapping[str, pa.DataType], path: Path) -> pa.RecordBatch:
    """``batch`` with its text columns named in ``types`` cast to them; LateValue (naming
    every column with a value that does not fit, and the type that holds it) otherwise."""
    if not types:
        return batch
    arrays = list(batch.columns)
    widenings: dict[str, pa.DataType] = {}
    reasons: list[str] = []
    for name, typ in types.items():
        index = batch.schema.get_field_index(name)
        try:
            arrays[index] = pc.cast(arrays[index], typ)
        except pa.ArrowInvalid as exc:
            widenings[name] = widened(typ, temporal_type(arrays[index]))
            reasons.append(f"column '{name}' ({typ}): {cut(str(exc).splitlines()[0], 120)}")
    if widenings:
        wider = ", ".join(f"'{name}' as {typ}" for name, typ in widenings.items())
        raise LateValue(
            f"{path.name}: a block after the first holds values the first block's types cannot hold "
            f"({'; '.join(reasons)}); reading {wider}.",
            widenings,
        )
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)
