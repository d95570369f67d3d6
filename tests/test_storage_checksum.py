"""The generic content checksum: order-independent, content-sensitive, any bytes."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from mdm_core.checksum import checksum_batches


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


def test_values_moved_between_rows_or_columns_change_the_checksum():
    base = pa.table({"a": [1, 2], "b": [1, 2]})
    crossed = pa.table({"a": [1, 2], "b": [2, 1]})
    swapped = pa.table({"a": [1, 2], "b": [1, 2]}).select(["b", "a"]).rename_columns(["a", "b"])
    assert checksum_batches(base.to_batches()) != checksum_batches(crossed.to_batches())
    assert checksum_batches(pa.table({"a": [1, 3], "b": [2, 2]}).to_batches()) != checksum_batches(
        pa.table({"a": [2, 3], "b": [1, 2]}).to_batches())
    assert checksum_batches(swapped.to_batches()) == checksum_batches(base.to_batches())  # same values


def test_null_nan_and_signed_zero_are_told_apart():
    def of(values):
        return checksum_batches(pa.table({"x": pa.array(values, pa.float64())}).to_batches())

    assert len({of([None]), of([float("nan")]), of([0.0]), of([-0.0])}) == 4
    assert of([float("nan")]) == of([float.fromhex("0x1.8p+1023") * 0 + float("nan")])


@given(st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), min_size=1, max_size=30),
       st.lists(st.one_of(st.none(), st.text(max_size=5)), min_size=1, max_size=30),
       st.randoms(use_true_random=False))
@settings(max_examples=60, deadline=None)
def test_checksum_is_order_free_and_sensitive(ints, texts, rnd):
    """Shuffling rows or re-batching never changes the checksum; changing one value does."""
    n = min(len(ints), len(texts))
    table = pa.table({"i": pa.array(ints[:n], pa.int64()), "t": pa.array(texts[:n], pa.string())})
    order = list(range(n))
    rnd.shuffle(order)
    shuffled = table.take(order)
    assert checksum_batches(table.to_batches()) == checksum_batches(shuffled.to_batches(max_chunksize=max(1, n // 3)))
    row = rnd.randrange(n)
    changed_ints = list(table.column("i").to_pylist())
    changed_ints[row] = 1 if changed_ints[row] is None else (None if rnd.random() < 0.5 else changed_ints[row] ^ 1)
    changed = table.set_column(0, "i", pa.array(changed_ints, pa.int64()))
    assert checksum_batches(changed.to_batches()) != checksum_batches(table.to_batches())


def test_every_arrow_type_of_the_stores_is_hashed():
    import datetime
    import decimal

    table = pa.table({
        "bool": [True, None], "i8": pa.array([1, None], pa.int8()), "u64": pa.array([2**64 - 1, 0], pa.uint64()),
        "f32": pa.array([1.5, None], pa.float32()), "date": [datetime.date(2024, 1, 2), None],
        "time": pa.array([1, None], pa.time64("us")), "dur": pa.array([5, None], pa.duration("s")),
        "dec": pa.array([decimal.Decimal("1.20"), None], pa.decimal128(5, 2)),
        "list": pa.array([[1, 2], None], pa.list_(pa.int64())), "large": pa.array(["x", None], pa.large_string()),
        "dict": pa.array(["a", "a"]).dictionary_encode(),
    })
    digest = checksum_batches(table.to_batches())
    for name in table.column_names:
        other = table.set_column(table.column_names.index(name), name, table.column(name).take([1, 0]))
        if name != "dict":
            assert checksum_batches(other.to_batches()) != digest, name


@given(st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), min_size=1, max_size=40),
       st.integers(0, 40))
@settings(max_examples=60, deadline=None)
def test_merged_parts_equal_the_whole(values, cut):
    """A table read in two parts (as a store reading two ranges at once does) has the
    checksum of the whole once the parts are merged."""
    from mdm_core.checksum import ContentChecksum

    table = pa.table({"i": pa.array(values, pa.int64()), "s": pa.array([str(v) for v in values])})
    cut = min(cut, len(values))
    first, second = ContentChecksum(), ContentChecksum()
    for batch in table.slice(0, cut).to_batches():
        first.add(batch)
    for batch in table.slice(cut).to_batches():
        second.add(batch)
    second.merge(first)
    assert second.hexdigest() == checksum_batches(table.to_batches())


def test_parts_read_at_once_give_the_checksum_of_the_whole():
    from mdm_core.checksum import checksum_parts

    table = pa.table({"i": pa.array(range(1_000), pa.int64()), "s": pa.array([str(v % 7) for v in range(1_000)])})
    parts = [lambda: table.slice(0, 300).to_batches(max_chunksize=64), lambda: table.slice(300).to_batches()]
    assert checksum_parts(parts) == checksum_batches(table.to_batches())
    assert checksum_parts(parts[:1]) == checksum_batches(table.slice(0, 300).to_batches())
