"""`orderpass bench platform`: the shape of the platform, not of one restaurant.

N restaurants (1,000) with 3 kitchen screens each and C customers (2,000) watching their
order's status page: 5,000 SSE connections on one web process. Paid orders arrive at
`rate` (50/s), spread over the restaurants by a Zipf law (a few restaurants busy, most
quiet). For every paid order the bench times webhook → frame at each of its restaurant's
screens and at its customer's page; it counts frames that never came (`frames_missing`) and
frames naming an order on a screen or page it does not belong to (`frames_misdelivered`);
the web process's RSS per connection; the Redis connections and subscriptions that process
holds. The worker runs (the payment emails go out as on the platform).

Setup: restaurants, menus and logins in a few bulk statements (`platform_seed`); every
order through `POST /api/orders`; the paid ones paid on the sandbox, their real
`checkout.session.completed` events signed and posted by the bench at its own pace."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil
from redis.asyncio import Redis

from app.bench import client as bench_client
from app.bench.live import run_live
from app.bench.platform_seed import seed_restaurants
from app.bench.probes import GcPauses, gc_pauses
from app.bench.runner import BenchSystem
from app.bench.screens import Watcher, kitchen_watcher, order_keys, status_watcher

ZIPF_S = 1.1  # the exponent: the busiest restaurant gets about 1/6 of the orders
SEED = 17  # the same spread in every run
LOGIN_CONCURRENCY = 16


def zipf_choices(count: int, population: int, exponent: float = ZIPF_S,
                 seed: int = SEED) -> list[int]:
    """`count` indexes into range(population), index k drawn with weight 1 / (k + 1)^s."""
    weights = [1 / (rank + 1) ** exponent for rank in range(population)]
    cumulative = list(itertools.accumulate(weights))
    draw = random.Random(seed)
    return [bisect.bisect_left(cumulative, draw.random() * cumulative[-1])
            for _ in range(count)]


async def redis_usage(redis_url: str, web_pid: int) -> dict[str, int]:
    """The web process's Redis connections and the channels they are subscribed to (matched
    by local port against CLIENT LIST)."""
    redis_port = urlsplit(redis_url).port or 6379
    ports: set[int] = set()
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(web_pid)
        for process in [root, *root.children(recursive=True)]:
            for conn in process.net_connections(kind="tcp"):
                if conn.raddr and conn.raddr.port == redis_port:
                    ports.add(conn.laddr.port)
    redis = Redis.from_url(redis_url)
    try:
        clients = await redis.client_list()
        channels = await redis.pubsub_channels("orderpass:*")
    finally:
        await redis.aclose()
    mine = [c for c in clients if int(str(c.get("addr", ":0")).rsplit(":", 1)[1]) in ports]
    return {"redis_connections": len(mine),
            "redis_subscriptions": sum(int(c.get("sub", 0)) + int(c.get("psub", 0))
                                       for c in mine),
            "redis_channels_total": len(channels)}


async def run_platform(system: BenchSystem, web: httpx.AsyncClient,
                       sandbox: httpx.AsyncClient, *, restaurants: int, screens: int,
                       customers: int, rate: float, seconds: float,
                       settle: Callable[[], Awaitable[float]],
                       echo: Callable[[str], None] = print) -> dict[str, Any]:
    password = system.env["ORDERPASS_DEMO_PASSWORD"]
    started = time.perf_counter()
    seeded = await seed_restaurants(system.database_url, restaurants, password)
    seed_s = time.perf_counter() - started
    echo(f"  {len(seeded)} restaurants with menus and logins seeded in {seed_s:.1f}s")
    paid_count = max(1, round(rate * seconds))
    busy = zipf_choices(paid_count, len(seeded))
    quiet = random.Random(SEED + 1).choices(range(len(seeded)), k=max(0, customers - paid_count))
    wanted = [(seeded[k].slug, seeded[k].item_ids) for k in [*busy, *quiet]]
    started = time.perf_counter()
    created = await bench_client.create_orders_for(web, wanted)
    to_pay = created[:paid_count]
    paid = await bench_client.pay(sandbox, to_pay)
    slug_of = {order["id"]: slug for order, (slug, _items) in zip(created, wanted, strict=True)}
    echo(f"  {len(created)} orders created, {len(paid)} paid on the sandbox in "
         f"{time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    cookies = await bench_client.login_many(system.web_url, [r.slug for r in seeded],
                                            password, LOGIN_CONCURRENCY)
    echo(f"  {len(cookies)} kitchen logins in {time.perf_counter() - started:.1f}s")
    settled_s = await settle()  # the confirmation emails of those orders
    watchers: list[Watcher] = [kitchen_watcher(r.slug, cookies[r.slug])
                               for r in seeded for _ in range(screens)]
    watched = [order["id"] for order in created[:customers]]
    watchers += [status_watcher(ref) for ref in watched]
    keys = {order.ref: order_keys(slug_of[order.ref], order.ref) for order in paid}
    rss_before = system.web_rss_mb()
    memory: dict[str, Any] = {}
    gc_before = GcPauses()

    async def on_connected(connected: int) -> None:
        nonlocal gc_before
        await asyncio.sleep(1.0)  # every snapshot written, the streams idle
        memory["rss_mb"] = system.web_rss_mb()
        memory.update(await redis_usage(system.redis_url, system.web_pid()))
        memory["connected"] = connected
        gc_before = await gc_pauses(web)

    echo(f"  {len(watchers)} streams ({screens} screens x {len(seeded)} restaurants, "
         f"{len(watched)} status pages); {len(paid)} paid orders at {rate:g}/s …")
    run = await run_live(system, paid, watchers, keys, rate, pause_workers=False, echo=echo,
                         on_connected=on_connected)
    # The pacer reports every second: wait for the last collections to land.
    await asyncio.sleep(1.5)
    gc_window = (await gc_pauses(web)).since(gc_before)
    grown_mb = max(0.0, memory.get("rss_mb", rss_before) - rss_before)
    per_restaurant = Counter(slug_of[order.ref] for order in paid)
    screens_latency = run.arrivals.screens
    return {
        "restaurants": len(seeded), "screens_per_restaurant": screens,
        "status_pages": len(watched), "connections": len(watchers),
        "connections_live": run.connected, "rate_per_s": rate, "orders": len(paid),
        "duration_s": round(run.elapsed_s, 2), "seed_s": round(seed_s, 2),
        "settled_s": settled_s,
        "busiest_restaurant_orders": max(per_restaurant.values(), default=0),
        "restaurants_with_orders": len(per_restaurant),
        **screens_latency.summary(),
        "status_p50_ms": run.arrivals.status.p(50), "status_p99_ms": run.arrivals.status.p(99),
        "first_screen_p50_ms": run.arrivals.first_screen.p(50),
        "last_screen_p99_ms": run.arrivals.last_screen.p(99),
        "frames_expected": run.expected_pairs,
        "frames_missing": run.frames_missing,
        "frames_misdelivered": run.misdelivered,
        "misdelivered_examples": run.stats.get("misdelivered_examples", []),
        "streams_closed_early": run.stats.get("closed_early", 0),
        "stream_errors": run.stats.get("errors", 0),
        "webhook_p50_ms": run.webhook.p(50), "webhook_p99_ms": run.webhook.p(99),
        "webhook_errors": run.webhook.errors,
        "rss_mb_before": rss_before, "rss_mb": memory.get("rss_mb", rss_before),
        "kb_per_connection": round(grown_mb * 1024 / run.connected, 1) if run.connected
        else 0.0,
        "redis_connections": memory.get("redis_connections", 0),
        "redis_subscriptions": memory.get("redis_subscriptions", 0),
        "redis_channels_total": memory.get("redis_channels_total", 0),
        "web_cpu_ms_per_order": run.usage.per_event_ms("web", len(paid)),
        # Full garbage collections in the web process from the streams being live to the
        # end of the section (each one stops every stream; app/infra/gc_tuning.py).
        **gc_window,
        "cpu_pct": run.usage.pct(), "pg_waits": run.pg_waits,
        "machine_busy_pct": run.usage.machine_busy_pct, "bounded_by": run.usage.bound(),
    }
