"""Garbage collector settings for long-running processes (web, worker).

A full (generation 2) collection walks every tracked object in the process; with the
framework, templates and SDKs loaded at start-up that is most of them. Freezing what
start-up created moves those objects out of the collector's view for good (they live as
long as the process), so later full collections walk only what requests and jobs created.

The web process also holds its open SSE streams: about 160 tracked objects each (request,
coroutines, tasks, queues). With 5,000 streams every full collection walked 800,000 objects
and stopped the loop for up to 0.9 s, each pause longer than the last while streams opened
(`orderpass bench platform`, a gc.callbacks probe) — every screen's frame waited for it.
`FullCollectionPacer` freezes what survives each full collection, so the next one walks
only objects born since; a survivor that later dies inside a reference cycle is reclaimed
when the pacer thaws everything, once per `GC_THAW_MINUTES` (one full-heap pause then,
logged like every pause over `SLOW_PAUSE_S`).

The collection thresholds stay at CPython's defaults: raising the first one (fewer, larger
young collections) let cyclic garbage pile up in the worker (RSS 100 → 300 MB in the soak).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import time
from collections.abc import AsyncIterator
from typing import Any

from app.infra.logging import get_logger
from app.platform.metrics import GC_FULL_PAUSE

log = get_logger("orderpass.gc")

SLOW_PAUSE_S = 0.05  # a full collection longer than this is logged
REPORT_EVERY_S = 1.0


def freeze_startup_heap() -> None:
    """Call once start-up is done (imports, pools, templates): later collections skip it."""
    gc.collect()
    gc.freeze()


class FullCollectionPacer:
    """A `gc.callbacks` hook: times every full collection, then freezes its survivors (or,
    once per `thaw_every_s`, thaws the frozen heap so the next full collection examines all
    of it). The hook does no I/O and takes no lock (it may run inside any allocation, with a
    logging or metrics lock held); `report()` logs and records the pauses it noted."""

    def __init__(self, thaw_every_s: float) -> None:
        self.thaw_every_s = thaw_every_s
        self.last_thaw = time.monotonic()
        self._started = 0.0
        # (seconds, objects collected, thawed?) per full collection
        self.pauses: collections.deque[tuple[float, int, bool]] = collections.deque(
            maxlen=1000)

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        # Right after a full collection nothing unreachable is left in any generation, so
        # what is frozen now is live: no garbage is frozen with it.
        thaw = time.monotonic() - self.last_thaw >= self.thaw_every_s
        if thaw:
            gc.unfreeze()
            self.last_thaw = time.monotonic()
        else:
            gc.freeze()
        # (Not gc.get_freeze_count() here: it walks the whole frozen list.)
        self.pauses.append((pause, int(info.get("collected", 0)), thaw))

    def report(self) -> None:
        while self.pauses:
            pause, collected, thawed = self.pauses.popleft()
            GC_FULL_PAUSE.observe(pause)
            if pause >= SLOW_PAUSE_S or thawed:
                log.info("gc full collection", pause_ms=round(pause * 1000, 1),
                         collected=collected, thawed=thawed)

    async def report_forever(self) -> None:
        while True:
            await asyncio.sleep(REPORT_EVERY_S)
            self.report()


@contextlib.asynccontextmanager
async def paced_full_collections(thaw_every_s: float) -> AsyncIterator[FullCollectionPacer]:
    """For the web process's lifespan: the pacer hooked in, its reports running."""
    pacer = FullCollectionPacer(thaw_every_s)
    gc.callbacks.append(pacer)
    reporting = asyncio.create_task(pacer.report_forever())
    try:
        yield pacer
    finally:
        reporting.cancel()
        gc.callbacks.remove(pacer)
        gc.unfreeze()  # what it froze is the collector's again (an app torn down in tests)
        pacer.report()
