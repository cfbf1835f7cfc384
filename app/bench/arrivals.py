"""The parent's bookkeeping of a live-feed run: when each order's webhook left, and the
latencies of the frames the watchers process reports (kitchen screens and status pages
apart), each order's first and last screen, and when every order has been fully shown."""

from __future__ import annotations

import asyncio
import contextlib
import time

import asyncpg

from app.bench.client import PaidOrder
from app.bench.stats import Latencies

COMPLETE_AFTER_S = 3.0


class Arrivals:
    def __init__(self, orders: int) -> None:
        self.orders = orders
        self.sent_at: dict[str, float] = {}
        self.shown: set[str] = set()  # orders every watcher they name has shown
        self.screens = Latencies()  # every (order, kitchen screen) pair
        self.status = Latencies()  # every (order, status page) pair
        # Per order, its first and last screen: the pipeline (webhook, commit, publish,
        # render) apart from the fan-out to every screen.
        self.first_screen = Latencies()
        self.last_screen = Latencies()
        self.all_seen = asyncio.Event()

    def on_send(self, order: PaidOrder, at: float) -> None:
        self.sent_at[order.ref] = at

    def on_seen(self, ref: str, arrivals: list[tuple[float, bool]], *,
                complete: bool = True) -> None:
        sent = self.sent_at.get(ref)
        if sent is None:
            return
        screens = [at for at, is_status in arrivals if not is_status]
        for at in screens:
            self.screens.add(at - sent)
        for at, is_status in arrivals:
            if is_status:
                self.status.add(at - sent)
        if screens:
            self.first_screen.add(min(screens) - sent)
            self.last_screen.add(max(screens) - sent)
        if complete:
            self.shown.add(ref)
            if len(self.shown) >= self.orders:
                self.all_seen.set()

    def pairs(self) -> int:
        return len(self.screens.samples) + len(self.status.samples)


async def complete_seen(database_url: str, arrivals: Arrivals, stop: asyncio.Event) -> None:
    """Bump orders every watcher has shown (or sent COMPLETE_AFTER_S ago) to `completed`
    directly in Postgres, without an event: the boards stay the size of a kitchen that
    keeps up instead of growing to every order of the run."""
    conn = await asyncpg.connect(database_url)
    done: set[str] = set()
    try:
        while not stop.is_set():
            now = time.perf_counter()
            ready = [ref for ref, sent in list(arrivals.sent_at.items()) if ref not in done
                     and (ref in arrivals.shown or now - sent > COMPLETE_AFTER_S)]
            if ready:
                await conn.execute(
                    "UPDATE paid_order SET status = 'completed', completed_at = now() "
                    "WHERE public_id = ANY($1::text[])", ready)
                done.update(ready)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)
    finally:
        await conn.close()
