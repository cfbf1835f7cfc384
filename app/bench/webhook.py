"""Webhook → 2xx, and the CPU of a paid order: real `checkout.session.completed` events
(orders created through the API and paid on the sandbox), signed with the app's webhook
secret and posted at a fixed rate (open loop: each event leaves on schedule whether or not
earlier ones were answered), while the restaurant's 3 kitchen screens and every order's
status page are open, as on the platform.

`paid.cpu_ms_per_order` is the web process's CPU over the window ÷ orders: the webhook
(verification, temp order, ticket, commit), the publish, the render, the frames to the 3
screens and to the customer's page. The worker is paused meanwhile (its emails would bring
Resend webhooks to the web process: the email section's cost, not this one's).

`webhook_alone` posts the same events with nothing open (no screen, no status page: no
render, nothing batched) at the paid rate and at WAKE_FACTOR times it. The work per order is
the same in both; what differs is how long the web process sleeps between orders. On a VM
a process resumed from idle pays for it (caches and branch predictors refilled after the
neighbours ran, the vCPU woken): `paid.wake_share` is the part of the webhook's CPU at the
paid rate that the faster rate does not pay, a property of the host the bench reports so
the milliseconds are read with it.

Posted with aiohttp: httpx's own work per request (about half a millisecond here) fell
between the clock reading and the bytes leaving, and was counted as the server's."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import aiohttp

from app.bench.client import PaidOrder, signed
from app.bench.probes import CpuProbe
from app.bench.stats import Latencies

if TYPE_CHECKING:
    from app.bench.runner import BenchSystem

SLUG = "demo-2"
SCREENS = 3  # a restaurant's kitchen screens, as on the platform
POST_TIMEOUT_S = 10.0  # a slower answer counts as an error
WAKE_FACTOR = 4  # the faster rate of `webhook_alone`: 200/s at the default 50/s
FOLLOW_UP_S = 0.3  # the bookkeeping after the last 2xx, inside the window


async def post_at_rate(web_url: str, orders: Sequence[PaidOrder], secret: str, rate: float,
                       on_send: Callable[[PaidOrder, float], None] | None = None
                       ) -> tuple[Latencies, float]:
    """Post each order's event at `rate`/s; returns the 2xx latencies and the elapsed time."""
    latencies = Latencies()
    timeout = aiohttp.ClientTimeout(total=POST_TIMEOUT_S)
    async with aiohttp.ClientSession(web_url, timeout=timeout,
                                     connector=aiohttp.TCPConnector(limit=0)) as session:
        started = time.perf_counter()

        async def send(index: int, order: PaidOrder) -> None:
            await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
            payload, headers = signed(order.event, secret)
            sent = time.perf_counter()
            if on_send is not None:
                on_send(order, sent)
            try:
                async with session.post("/webhooks/stripe", data=payload,
                                        headers=headers) as response:
                    await response.read()
            except (aiohttp.ClientError, TimeoutError):
                latencies.errors += 1
                return
            if 200 <= response.status < 300:
                latencies.add(time.perf_counter() - sent)
            else:
                latencies.errors += 1

        await asyncio.gather(*(send(i, order) for i, order in enumerate(orders)))
        return latencies, time.perf_counter() - started


def webhook_figures(latencies: Latencies, orders: int, elapsed: float,
                    rate: float) -> dict[str, Any]:
    return {"rate_per_s": rate, "events": orders, "duration_s": round(elapsed, 2),
            **latencies.summary()}


async def webhook_alone(system: BenchSystem, orders: Sequence[PaidOrder], rate: float
                        ) -> tuple[float, str]:
    """The web's CPU per order posting `orders` at `rate` with no stream open (worker
    paused, as in the paid window), and what bounded the window."""
    probe = CpuProbe({"web": system.web_pid()}).start()
    with system.workers_paused():
        await post_at_rate(system.web_url, orders, system.webhook_secret, rate)
        await asyncio.sleep(FOLLOW_UP_S)
        usage = probe.stop()
    return usage.per_event_ms("web", len(orders)), usage.bound()


def wake_figures(at_rate: tuple[float, str], faster: tuple[float, str], rate: float
                 ) -> dict[str, Any]:
    """`paid`'s wake figures: the webhook alone at the paid rate and at the faster one."""
    (at_rate_ms, bound), (faster_ms, faster_bound) = at_rate, faster
    return {"webhook_alone_cpu_ms": at_rate_ms, "webhook_alone_faster_cpu_ms": faster_ms,
            "alone_bounded_by": bound, "alone_faster_bounded_by": faster_bound,
            "webhook_alone_faster_rate_per_s": rate * WAKE_FACTOR,
            "wake_share": round(max(0.0, 1 - faster_ms / at_rate_ms), 2) if at_rate_ms else None}
