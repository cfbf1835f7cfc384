"""Intake: sustained `POST /api/orders` (validation, Redis temp order, sandbox Checkout Session
through the stripe SDK, email enqueue) from N concurrent closed-loop clients."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import aiohttp
import httpx

from app.bench.client import create_orders, menu_item_ids, order_payload
from app.bench.stats import Latencies

SLUG = "demo-2"  # the kitchen section uses `demo`: keep its board apart


async def run_intake(web_url: str, *, concurrency: int, duration: float) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=web_url, timeout=30) as setup:
        item_ids = await menu_item_ids(setup, SLUG)
        await create_orders(setup, SLUG, min(40, concurrency * 2), concurrency)  # warm-up
    # The measured clients use aiohttp: it shares the machine with the system under test,
    # and costs it less CPU per request than httpx.
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(web_url, connector=connector, timeout=timeout) as client:
        latencies = Latencies()
        statuses: Counter[int] = Counter()
        started = time.perf_counter()
        deadline = started + duration

        async def loop() -> None:
            while time.perf_counter() < deadline:
                payload = order_payload(SLUG, item_ids)
                sent = time.perf_counter()
                try:
                    async with client.post("/api/orders", json=payload) as response:
                        await response.read()
                except (aiohttp.ClientError, TimeoutError):
                    latencies.errors += 1
                    continue
                statuses[response.status] += 1
                if response.status == 201:
                    latencies.add(time.perf_counter() - sent)
                else:
                    latencies.errors += 1

        await asyncio.gather(*(loop() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ok = len(latencies.samples)
    return {"orders_per_s": round(ok / elapsed, 1), "concurrency": concurrency,
            "duration_s": round(elapsed, 2), "orders": ok,
            "statuses": {str(code): n for code, n in sorted(statuses.items())},
            **latencies.summary()}
