"""The web process's full garbage collections walk only what is new: what survived the last
one is frozen (5,000 open streams' objects made every full collection stop the loop for up
to 0.9 s); a periodic thaw still reclaims frozen objects that died in a reference cycle."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from app.infra.gc_tuning import FullCollectionPacer, paced_full_collections


class Node:
    """A cycle-capable object the test can watch die (weakref)."""

    def __init__(self) -> None:
        self.partner: Node | None = None


@pytest.fixture
def pristine_gc() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def linked_pair() -> tuple[Node, Node]:
    first, second = Node(), Node()
    first.partner, second.partner = second, first
    return first, second


def test_survivors_of_a_full_collection_are_frozen_and_later_ones_skip_them(
        pristine_gc: None) -> None:
    pacer = FullCollectionPacer(thaw_every_s=3600)
    gc.callbacks.append(pacer)
    try:
        long_lived = [Node() for _ in range(5000)]
        gc.collect()
        frozen = gc.get_freeze_count()
        assert frozen >= len(long_lived)  # the streams' objects are out of the next walk
        watched = {id(node) for node in long_lived}
        assert not any(id(seen) in watched for seen in gc.get_objects(2))

        gc.collect()  # a second full collection walks only what is new: the nodes stay out
        # (the frozen count itself may shrink: a frozen object freed by refcount leaves it)
        assert not any(id(seen) in watched for seen in gc.get_objects(2))
        assert gc.get_freeze_count() >= len(long_lived)
        assert len(pacer.pauses) >= 2  # ours, and any the allocations above triggered
        assert all(pause >= 0 and not thawed for pause, _, thawed in pacer.pauses)
    finally:
        gc.callbacks.remove(pacer)


def test_a_thaw_reclaims_frozen_objects_that_died_in_a_cycle(pristine_gc: None) -> None:
    pacer = FullCollectionPacer(thaw_every_s=3600)
    gc.callbacks.append(pacer)
    try:
        first, _ = linked_pair()
        watch = weakref.ref(first)
        gc.collect()  # the pair survives and is frozen
        del first, _
        gc.collect()
        assert watch() is not None  # frozen: a cycle of it is not examined until the thaw

        pacer.thaw_every_s = 0  # the thaw is due
        gc.collect()  # unfreezes everything ...
        assert gc.get_freeze_count() == 0
        gc.collect()  # ... so this full collection examines the whole heap
        assert watch() is None
        assert any(thawed for *_, thawed in pacer.pauses)
    finally:
        gc.callbacks.remove(pacer)


def test_the_lifespan_hook_reports_pauses_and_unhooks(pristine_gc: None) -> None:
    async def run() -> FullCollectionPacer:
        async with paced_full_collections(thaw_every_s=3600) as pacer:
            assert pacer in gc.callbacks
            gc.collect()
            assert pacer.pauses
        return pacer

    pacer = asyncio.run(run())
    assert pacer not in gc.callbacks
    assert gc.get_freeze_count() == 0  # nothing it froze stays out of the collector's view
    assert not pacer.pauses  # reported (metric, and a log line for a slow one) on the way out


def test_the_bench_reads_the_window_s_collections_from_the_histogram() -> None:
    from app.bench.probes import GcPauses

    before = GcPauses(count=3, seconds=0.2, buckets={0.05: 2, 0.1: 3, float("inf"): 3})
    after = GcPauses(count=5, seconds=0.5, buckets={0.05: 2, 0.1: 4, float("inf"): 5})
    assert after.since(before) == {"gc_full_collections": 2, "gc_pause_ms_total": 300.0,
                                   "gc_pause_ms_max_under": None}  # one went past 100 ms
    quiet = GcPauses(count=4, seconds=0.25, buckets={0.05: 3, 0.1: 4, float("inf"): 4})
    assert quiet.since(before)["gc_pause_ms_max_under"] == 50.0
