"""The two-thread stages of feature generation keep order, surface errors where they
happened and stop their worker when the consumer stops."""

from __future__ import annotations

import threading

import pytest

from mdm_core.pipeline import ahead, prefetched


class Source:
    """An iterator that records how far it was pulled and whether it was closed."""

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n, self.fail_at = n, fail_at
        self.pulled = 0
        self.closed = False
        self.threads: set[str] = set()

    def __iter__(self):
        try:
            for i in range(self.n):
                self.threads.add(threading.current_thread().name)
                if i == self.fail_at:
                    raise ValueError(f"bad item {i}")
                self.pulled += 1
                yield i
        finally:
            self.closed = True


def test_prefetched_yields_everything_in_order_from_a_worker() -> None:
    source = Source(50)
    assert list(prefetched(iter(source), depth=3)) == list(range(50))
    assert source.closed and source.threads == {"mdm-prefetch"}


def test_prefetched_raises_the_source_error_after_the_items_before_it() -> None:
    got = []
    with pytest.raises(ValueError, match="bad item 7"):
        for item in prefetched(iter(Source(20, fail_at=7))):
            got.append(item)
    assert got == list(range(7))


def test_prefetched_stops_its_worker_when_the_consumer_stops() -> None:
    source = Source(10_000)
    before = threading.active_count()
    with pytest.raises(RuntimeError):
        for item in prefetched(iter(source), depth=2):
            if item == 3:
                raise RuntimeError("consumer failed")
    assert source.closed
    assert source.pulled <= 3 + 2 + 2  # never more than depth ahead (plus one in hand)
    assert threading.active_count() == before


def test_ahead_pairs_items_with_results_in_order_and_closes_the_source() -> None:
    source = Source(30)
    items = iter(source)
    assert list(ahead(items, lambda x: x * x, depth=4)) == [(i, i * i) for i in range(30)]
    assert source.closed and threading.current_thread().name in source.threads


def test_ahead_raises_a_function_error_at_its_item() -> None:
    def fn(x: int) -> int:
        if x == 5:
            raise KeyError(x)
        return x

    seen = []
    with pytest.raises(KeyError):
        for item, _ in ahead(iter(Source(10)), fn):
            seen.append(item)
    assert seen == [0, 1, 2, 3, 4]
