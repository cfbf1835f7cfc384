"""Webhook → kitchen SSE frame: N logged-in kitchen screens hold `GET /kitchen/demo/events`;
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
from collections import defaultdict
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx

from app.bench.client import REF_PATTERN, PaidOrder
from app.bench.floor import Floor
from app.bench.stats import Latencies
from app.bench.webhook import post_at_rate

SLUG = "demo"
COMPLETE_AFTER_S = 3.0


class Screens:
    """Kitchen screen clients and the per-order arrival bookkeeping."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.sent_at: dict[str, float] = {}
        self.seen_by: dict[str, int] = defaultdict(int)
        self.latencies = Latencies()
        self.connected = 0
        self.ready = asyncio.Event()
        self.frames = 0
        self.bytes = 0
        self.stream_errors = 0
        self.expected = 0
        self.complete = 0
        self.all_seen = asyncio.Event()

    def on_send(self, order: PaidOrder, at: float) -> None:
        self.sent_at[order.ref] = at

    def on_connected(self) -> None:
        self.connected += 1
        if self.connected >= self.count:
            self.ready.set()

    def on_refs(self, refs: list[bytes], seen: set[str], at: float) -> None:
        for match in refs:
            ref = match.decode()
            sent = self.sent_at.get(ref)
            if sent is None or ref in seen:
                continue
            seen.add(ref)
            self.latencies.add(at - sent)
            self.seen_by[ref] += 1
            if self.seen_by[ref] == self.count:
                self.complete += 1
                if self.complete >= self.expected:
                    self.all_seen.set()


class ScreenProtocol(asyncio.Protocol):
    """One kitchen screen over a raw socket: the cheapest client that still reads every byte
    the server writes, so the bench (which shares the machine) measures the server, not
    an HTTP library. Time is taken when the bytes arrive."""

    def __init__(self, screens: Screens, request: bytes) -> None:
        self.screens = screens
        self.request = request
        self.seen: set[str] = set()
        self.head = b""
        self.live = False
        self.tail = b""
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        screens = self.screens
        if not self.live:
            self.head += data
            if b"\r\n\r\n" not in self.head:
                return
            status, _, data = self.head.partition(b"\r\n\r\n")
            if not status.startswith(b"HTTP/1.1 200"):
                screens.stream_errors += 1
                return
            self.live = True
            screens.on_connected()
        screens.frames += data.count(b"\n\n") or data.count(b"\r\n\r\n")
        screens.bytes += len(data)
        screens.on_refs(REF_PATTERN.findall(self.tail + data), self.seen, now)
        self.tail = data[-40:]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def _screen(host: str, port: int, screens: Screens, cookie: str) -> None:
    request = (f"GET /kitchen/{SLUG}/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"Accept: text/event-stream\r\nCookie: {cookie}\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_connection(
        lambda: ScreenProtocol(screens, request), host, port)
    try:
        await protocol.closed
    finally:
        transport.close()


async def _complete_seen(database_url: str, screens: Screens, stop: asyncio.Event) -> None:
    """Bump orders every screen has shown (or that are old) to `completed`, quietly."""
    conn = await asyncpg.connect(database_url)
    done: set[str] = set()
    try:
        while not stop.is_set():
            now = time.perf_counter()
            ready = [ref for ref, sent in list(screens.sent_at.items()) if ref not in done
                     and (screens.seen_by[ref] >= screens.count or now - sent > COMPLETE_AFTER_S)]
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
    screens = Screens(clients)
    screens.expected = len(orders)
    where = urlsplit(web_url)
    host, port = where.hostname or "127.0.0.1", where.port or 80
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    async with Floor(database_url, redis_url) as floor, \
            httpx.AsyncClient(base_url=web_url, timeout=30) as poster:
        quiet_floor = await floor.measure(200)
        tasks = [asyncio.create_task(_screen(host, port, screens, cookie))
                 for _ in range(clients)]
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(screens.ready.wait(), 60)
            echo(f"  {screens.connected}/{clients} screens live; floor p50 {quiet_floor.p(50)} ms")
            await asyncio.sleep(0.5)
            stop = asyncio.Event()
            completer = asyncio.create_task(_complete_seen(database_url, screens, stop))
            floor_task = asyncio.create_task(floor.measure(10**6, pause=0.1))
            webhook, elapsed = await post_at_rate(poster, orders, secret, rate,
                                                  on_send=screens.on_send)
            echo(f"  webhooks posted in {elapsed:.1f}s; waiting for the last frames …")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(screens.all_seen.wait(), 10)
            floor_task.cancel()
            loaded_floor = floor.latencies
            stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(completer, 10)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    expected = len(orders) * clients
    missing = expected - len(screens.latencies.samples)
    floor_p50 = quiet_floor.p(50)
    kitchen = screens.latencies
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
        "webhook_p50_ms": webhook.p(50), "webhook_p99_ms": webhook.p(99),
        "webhook_errors": webhook.errors,
        "sse_frames_received": screens.frames,
        "sse_mb_received": round(screens.bytes / 2**20, 1),
    }
