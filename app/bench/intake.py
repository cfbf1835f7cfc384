"""Intake: `POST /api/orders` through the full path (validation, Redis temp order, sandbox
Checkout Session through the stripe SDK, email enqueue), measured two ways:

- capacity: N concurrent closed-loop clients, each posting its next order as soon as the
  last one is answered, for `duration` seconds (the most orders/s the system completes);
- at a fixed rate (open loop): orders leave on schedule, `rate` per second, whether or not
  earlier ones were answered, for `duration` seconds; the p50/p99 of that phase are the
  latency a customer sees when that many orders arrive each second.

`cpu_ms_per_order` is the web process's CPU over the open loop ÷ orders answered. The worker
is paused meanwhile: the confirmation emails it would send bring Resend webhooks to the web
process (their cost is `email.web_cpu_ms_per_email`), and its CPU would share the cores.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import httpx

from app.bench.client import create_orders, menu_item_ids, order_payload
from app.bench.probes import CpuProbe
from app.bench.runner import BenchSystem
from app.bench.stats import Latencies

SLUG = "demo-2"  # the kitchen section uses `demo`: keep its board apart
MAX_IN_FLIGHT = 512  # the open loop's ceiling on concurrent requests (connections)

Post = Callable[[], Awaitable[None]]


class _Poster:
    """Posts orders and records latencies and status codes (aiohttp: the client shares the
    machine with the system under test, and costs it less CPU per request than httpx)."""

    def __init__(self, session: aiohttp.ClientSession, item_ids: list[int]) -> None:
        self.session = session
        self.item_ids = item_ids
        self.latencies = Latencies()
        self.statuses: Counter[int] = Counter()

    async def post(self) -> None:
        payload = order_payload(SLUG, self.item_ids)
        sent = time.perf_counter()
        try:
            async with self.session.post("/api/orders", json=payload) as response:
                await response.read()
        except (aiohttp.ClientError, TimeoutError):
            self.latencies.errors += 1
            return
        self.statuses[response.status] += 1
        if response.status == 201:
            self.latencies.add(time.perf_counter() - sent)
        else:
            self.latencies.errors += 1

    def summary(self, elapsed: float) -> dict[str, Any]:
        return {"orders_per_s": round(len(self.latencies.samples) / elapsed, 1),
                "duration_s": round(elapsed, 2), "orders": len(self.latencies.samples),
                "statuses": {str(code): n for code, n in sorted(self.statuses.items())},
                **self.latencies.summary()}


async def _closed_loop(poster: _Poster, concurrency: int, duration: float) -> float:
    started = time.perf_counter()
    deadline = started + duration

    async def client() -> None:
        while time.perf_counter() < deadline:
            await poster.post()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return time.perf_counter() - started


async def _open_loop(poster: _Poster, rate: float, duration: float) -> float:
    started = time.perf_counter()
    count = max(1, round(rate * duration))

    async def one(index: int) -> None:
        await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
        await poster.post()

    await asyncio.gather(*(one(index) for index in range(count)))
    return time.perf_counter() - started


async def run_intake(system: BenchSystem, *, concurrency: int, duration: float, rate: float,
                     settle: Callable[[], Awaitable[float]]) -> dict[str, Any]:
    """`settle` waits (bounded) until the emails queued so far are sent, and returns the
    seconds it waited: the open loop then measures 200 orders/s from a drained start, not the
    capacity phase's backlog of a few thousand emails."""
    web_url = system.web_url
    async with httpx.AsyncClient(base_url=web_url, timeout=30) as setup:
        item_ids = await menu_item_ids(setup, SLUG)
        await create_orders(setup, SLUG, min(40, concurrency * 2), concurrency)  # warm-up
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(web_url, timeout=timeout,
                                     connector=aiohttp.TCPConnector(limit=concurrency)) as s:
        capacity = _Poster(s, item_ids)
        probe = CpuProbe(system.process_pids()).start()
        capacity_s = await _closed_loop(capacity, concurrency, duration)
        capacity_usage = probe.stop()
    settled_s = await settle()
    async with aiohttp.ClientSession(web_url, timeout=timeout,
                                     connector=aiohttp.TCPConnector(limit=MAX_IN_FLIGHT)) as s:
        at_rate = _Poster(s, item_ids)
        with system.workers_paused():
            probe = CpuProbe(system.process_pids()).start()
            at_rate_s = await _open_loop(at_rate, rate, duration)
            usage = probe.stop()
    fixed = at_rate.summary(at_rate_s)
    answered = len(at_rate.latencies.samples)
    return {"max_orders_per_s": capacity.summary(capacity_s)["orders_per_s"],
            "concurrency": concurrency, "capacity": capacity.summary(capacity_s),
            "capacity_cpu_pct": capacity_usage.pct(),
            "capacity_bounded_by": capacity_usage.bound(),
            "rate_per_s": rate, "settled_s": settled_s, **fixed,
            "cpu_ms_per_order": usage.per_event_ms("web", answered),
            "kernel_ms_per_order": usage.per_event_ms("web", answered, kernel=True),
            "open_loop_cpu_pct": usage.pct(), "open_loop_bounded_by": usage.bound()}
