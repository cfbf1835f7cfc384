"""Webhook → kitchen SSE frame: N logged-in kitchen screens (a process of their own:
`app.bench.screens`) hold `GET /kitchen/demo/events`;
paid-order webhooks are posted at a fixed rate; for every (order, screen) pair the latency is
the time from posting the webhook to the first SSE bytes naming that order at that screen.
The floor (Postgres commit + Redis pub/sub round trip) is measured in the same run.

Screens behave like a kitchen that keeps up: once every screen has shown an order (or 3 s
after it was sent), the bench marks it completed directly in Postgres (no event), so the
board stays the size a real kitchen sees instead of growing to every order of the run."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from app.bench.client import PaidOrder
from app.bench.floor import Floor
from app.bench.screens import ScreensProcess
from app.bench.stats import Latencies
from app.bench.webhook import post_at_rate

SLUG = "demo"
COMPLETE_AFTER_S = 3.0


class Arrivals:
    """Per-order bookkeeping in the parent: when each webhook left, and the latencies of the
    frames the screens process reports."""

    def __init__(self, count: int, expected: int) -> None:
        self.count = count
        self.expected = expected
        self.sent_at: dict[str, float] = {}
        self.shown: set[str] = set()  # orders every screen has shown
        self.latencies = Latencies()
        # Per order, its first and last screen: the pipeline (webhook, commit, publish,
        # render) apart from the fan-out to every screen.
        self.first_screen = Latencies()
        self.last_screen = Latencies()
        self.all_seen = asyncio.Event()

    def on_send(self, order: PaidOrder, at: float) -> None:
        self.sent_at[order.ref] = at

    def on_seen(self, ref: str, arrivals: list[float]) -> None:
        sent = self.sent_at.get(ref)
        if sent is None:
            return
        for at in arrivals:
            self.latencies.add(at - sent)
        if arrivals:
            self.first_screen.add(min(arrivals) - sent)
            self.last_screen.add(max(arrivals) - sent)
        if len(arrivals) >= self.count:
            self.shown.add(ref)
            if len(self.shown) >= self.expected:
                self.all_seen.set()


async def _complete_seen(database_url: str, arrivals: Arrivals, stop: asyncio.Event) -> None:
    """Bump orders every screen has shown (or that are old) to `completed`, quietly."""
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


async def run_kitchen(web_url: str, database_url: str, redis_url: str,
                      orders: list[PaidOrder], secret: str, *, clients: int, rate: float,
                      cookies: dict[str, str],
                      echo: Callable[[str], None] = print) -> dict[str, Any]:
    arrivals = Arrivals(clients, len(orders))
    where = urlsplit(web_url)
    host, port = where.hostname or "127.0.0.1", where.port or 80
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    screens = ScreensProcess(host, port, cookie, SLUG, clients, [o.ref for o in orders],
                             arrivals.on_seen)
    async with Floor(database_url, redis_url) as floor:
        quiet_floor = await floor.measure(200)
        async with screens:
            echo(f"  {screens.connected}/{clients} screens live (own process); "
                 f"floor p50 {quiet_floor.p(50)} ms")
            await asyncio.sleep(0.5)
            stop = asyncio.Event()
            completer = asyncio.create_task(_complete_seen(database_url, arrivals, stop))
            floor_task = asyncio.create_task(floor.measure(10**6, pause=0.1))
            webhook, elapsed = await post_at_rate(web_url, orders, secret, rate,
                                                  on_send=arrivals.on_send)
            echo(f"  webhooks posted in {elapsed:.1f}s; waiting for the last frames …")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrivals.all_seen.wait(), 10)
            floor_task.cancel()
            loaded_floor = floor.latencies
            stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(completer, 10)
        for ref, times in screens.partial.items():  # orders not every screen showed
            arrivals.on_seen(ref, times)
    expected = len(orders) * clients
    missing = expected - len(arrivals.latencies.samples)
    floor_p50 = quiet_floor.p(50)
    kitchen = arrivals.latencies
    return {
        "clients": clients, "clients_connected": screens.connected, "rate_per_s": rate,
        "orders": len(orders),
        "duration_s": round(elapsed, 2),
        **kitchen.summary(),
        "frames_missing": missing,
        "floor_p50_ms": floor_p50, "floor_p99_ms": quiet_floor.p(99),
        "floor_under_load_p50_ms": loaded_floor.p(50),
        "floor_under_load_p99_ms": loaded_floor.p(99),
        "ratio_p50": round(kitchen.p(50) / floor_p50, 2) if floor_p50 else 0.0,
        "first_screen_p50_ms": arrivals.first_screen.p(50),
        "first_screen_p99_ms": arrivals.first_screen.p(99),
        "last_screen_p50_ms": arrivals.last_screen.p(50),
        "last_screen_p99_ms": arrivals.last_screen.p(99),
        "webhook_p50_ms": webhook.p(50), "webhook_p99_ms": webhook.p(99),
        "webhook_errors": webhook.errors,
        "sse_frames_received": screens.stats.get("frames", 0),
        "sse_mb_received": round(screens.stats.get("bytes", 0) / 2**20, 1),
        "stream_errors": screens.stats.get("errors", 0),
    }
