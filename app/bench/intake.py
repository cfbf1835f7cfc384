"""Intake: sustained `POST /api/orders` (validation, Redis temp order, sandbox Checkout Session
through the stripe SDK, email enqueue) from N concurrent closed-loop clients."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import httpx

from app.bench.client import create_orders, menu_item_ids, order_payload
from app.bench.stats import Latencies

SLUG = "demo-2"  # the kitchen section uses `demo`: keep its board apart


async def run_intake(web_url: str, *, concurrency: int, duration: float) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=web_url, timeout=30, limits=limits) as client:
        item_ids = await menu_item_ids(client, SLUG)
        await create_orders(client, SLUG, min(40, concurrency * 2), concurrency)  # warm-up
        latencies = Latencies()
        statuses: Counter[int] = Counter()
        started = time.perf_counter()
        deadline = started + duration

        async def loop() -> None:
            while time.perf_counter() < deadline:
                payload = order_payload(SLUG, item_ids)
                sent = time.perf_counter()
                try:
                    response = await client.post("/api/orders", json=payload)
                except httpx.HTTPError:
                    latencies.errors += 1
                    continue
                statuses[response.status_code] += 1
                if response.status_code == 201:
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
