"""One measured live-feed run, shared by the webhook (paid), kitchen and platform sections:
watchers (kitchen screens, status pages) connected in a process of their own, paid-order
webhooks posted at a fixed rate, every frame timed from its webhook, CPU per process over
the window (from the first post until every order is shown), frames missing and
misdelivered counted."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from app.bench.arrivals import Arrivals, complete_seen
from app.bench.client import PaidOrder
from app.bench.probes import CpuProbe, CpuUsage, PgWaits
from app.bench.runner import BenchSystem
from app.bench.screens import ScreensProcess, Watcher
from app.bench.stats import Latencies
from app.bench.webhook import post_at_rate

SHOWN_WAIT_S = 10.0  # after the last post, how long frames may still come
SETTLE_S = 0.3  # the work after each 2xx (email enqueue, bookkeeping) inside the window


@dataclass
class LiveRun:
    arrivals: Arrivals
    webhook: Latencies
    elapsed_s: float
    usage: CpuUsage
    pg_waits: dict[str, Any]
    watchers: int
    connected: int
    expected_pairs: int
    stats: dict[str, Any]

    @property
    def frames_missing(self) -> int:
        return self.expected_pairs - self.arrivals.pairs()

    @property
    def misdelivered(self) -> int:
        return int(self.stats.get("misdelivered", 0))


def expected_pairs(watchers: Sequence[Watcher], keys: dict[str, tuple[str, ...]]) -> int:
    per_key: dict[str, int] = {}
    for watcher in watchers:
        per_key[watcher.key] = per_key.get(watcher.key, 0) + 1
    return sum(per_key.get(key, 0) for order_keys in keys.values() for key in order_keys)


async def run_live(system: BenchSystem, orders: Sequence[PaidOrder], watchers: list[Watcher],
                   keys: dict[str, tuple[str, ...]], rate: float, *, pause_workers: bool,
                   echo: Callable[[str], None] = print, label: str = "",
                   during: Callable[[], Coroutine[Any, Any, Any]] | None = None,
                   on_connected: Callable[[int], Awaitable[None]] | None = None) -> LiveRun:
    """`during`: something to run alongside the posts (the kitchen's floor under load),
    cancelled once every order is shown; `on_connected`: called once every watcher is
    live, before the first post (memory and Redis usage of the idle streams)."""
    arrivals = Arrivals(len(orders))
    where = urlsplit(system.web_url)
    screens = ScreensProcess(where.hostname or "127.0.0.1", where.port or 80, watchers, keys,
                             arrivals.on_seen)
    async with screens:
        echo(f"  {label}{screens.connected}/{len(watchers)} streams live (own process)")
        if on_connected is not None:
            await on_connected(screens.connected)
        await asyncio.sleep(0.5)
        stop = asyncio.Event()
        completer = asyncio.create_task(complete_seen(system.database_url, arrivals, stop))
        extra = {"watchers": screens.pid} if screens.pid else {}
        probe = CpuProbe(system.process_pids(), extra).start()
        waits = PgWaits(system.database_url).start()
        paused = system.workers_paused() if pause_workers else contextlib.nullcontext()
        side = asyncio.create_task(during()) if during is not None else None
        with paused:
            webhook, elapsed = await post_at_rate(system.web_url, orders,
                                                  system.webhook_secret, rate,
                                                  on_send=arrivals.on_send)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrivals.all_seen.wait(), SHOWN_WAIT_S)
            await asyncio.sleep(SETTLE_S)
            usage = probe.stop()
        if side is not None:
            side.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await side
        pg = await waits.stop()
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(completer, 10)
    for ref, times in screens.partial.items():  # orders not every watcher showed
        arrivals.on_seen(ref, times, complete=False)
    return LiveRun(arrivals=arrivals, webhook=webhook, elapsed_s=elapsed, usage=usage,
                   pg_waits=pg, watchers=len(watchers), connected=screens.connected,
                   expected_pairs=expected_pairs(watchers, keys), stats=screens.stats)
