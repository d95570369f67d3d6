"""The generic content checksum: order-independent, content-sensitive, any bytes."""

from __future__ import annotations

import pyarrow as pa

from mdm_core.storage import checksum_batches


def _table(payload: bytes) -> pa.Table:
    return pa.table({
        "b": pa.array([payload, None, b"\x00"], pa.binary()),
        "s": ["é", None, "x"],
        "ts": pa.array([1, None, 3], pa.timestamp("s", tz="UTC")),
    })


def test_binary_columns_with_invalid_utf8_are_checksummed():
    table = _table(b"\xff\xfe")
    assert checksum_batches(table.to_batches()).startswith("3:")


def test_row_order_and_batching_do_not_matter():
    table = _table(b"\xff\xfe")
    shuffled = pa.concat_tables([table.slice(2), table.slice(0, 2)])
    assert checksum_batches(table.to_batches()) == checksum_batches(shuffled.to_batches(max_chunksize=1))


def test_any_changed_value_changes_the_checksum():
    assert checksum_batches(_table(b"\xff\xfe").to_batches()) != checksum_batches(_table(b"\xff\xff").to_batches())
