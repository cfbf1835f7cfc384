"""A graceful stop of `orderpass web` (SIGTERM: a deploy, a supervisor) ends its live streams
at once and cleanly, and lets ordinary requests in flight finish.

An outside try (a cook with two tablets) found every open stream held the stopping process
for uvicorn's whole grace period (10 s), then cancelled with two "Exception in ASGI
application" tracebacks, while the screens showed "Live" against a server that accepted
nothing (`app.live.web_server`)."""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from arq.connections import ArqRedis

from tests.helpers.orders import make_paid_order, temp_keys, valid_order
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess, start_web
from tests.helpers.sse import Event, events, logged_in, next_event

pytestmark = pytest.mark.timeout(120)

STREAMS_END_S = 2.0  # from SIGTERM to every open stream's end
EXIT_S = 3.0  # from SIGTERM to the process gone, when only streams were open
STRIPE_SLOW_MS = 3000  # an order's intake in flight at SIGTERM waits this long on Stripe
# INFO: the shutdown's line; the grace period as in production (the suite's is 1 s)
WEB_ENV = {"SSE_HEARTBEAT_SECONDS": "1", "LOG_LEVEL": "INFO",
           "WEB_GRACEFUL_SHUTDOWN_SECONDS": "10"}


async def _to_the_end(stream: AsyncIterator[Event]) -> None:
    """Read a stream until its response ends; a connection cut before the end of the
    response (no last chunk) raises httpx.RemoteProtocolError."""
    async for _ in stream:
        pass


async def _all_end(*streams: AsyncIterator[Event], within: float) -> float:
    started = time.monotonic()
    try:
        async with asyncio.timeout(within):
            await asyncio.gather(*map(_to_the_end, streams))
    except TimeoutError:
        raise AssertionError(f"the live streams were still open {within} s after SIGTERM"
                             ) from None
    return time.monotonic() - started


def _exits(web: RunningProcess, within: float) -> None:
    deadline = time.monotonic() + within
    while web.process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert web.process.poll() is not None, (
        f"the web process was still running {within} s after SIGTERM:\n{web.log()[-3000:]}")


def _clean(log: str) -> None:
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log[-4000:]
    assert "timeout graceful shutdown exceeded" not in log, log[-4000:]


@pytest.mark.parametrize("args", [[], ["--workers", "2"]], ids=["one process", "workers"])
async def test_sigterm_ends_every_live_stream_at_once_and_the_process_exits(
        args: list[str]) -> None:
    """With `--workers N` uvicorn's supervisor passes SIGTERM on to every worker."""
    order = await make_paid_order()
    with start_web(env=WEB_ENV, args=args) as web:
        kitchen = await logged_in(web, "kitchen@demo.test")
        diner = httpx.AsyncClient(base_url=web.url, timeout=httpx.Timeout(10, read=15))
        try:
            async with kitchen.stream("GET", "/kitchen/demo/events") as screen, \
                    diner.stream("GET", f"/orders/{order.public_id}/events") as page:
                assert screen.status_code == page.status_code == 200
                board, status = events(screen).__aiter__(), events(page).__aiter__()
                await next_event(board, "board")
                await next_event(status, "order-updated")

                web.process.send_signal(signal.SIGTERM)
                stopped = time.monotonic()
                took = await _all_end(board, status, within=STREAMS_END_S)
                print(f"streams ended {took:.2f} s after SIGTERM")
        finally:
            await kitchen.aclose()
            await diner.aclose()
        _exits(web, EXIT_S - (time.monotonic() - stopped))
        print(f"process gone {time.monotonic() - stopped:.2f} s after SIGTERM")
        log = web.log()
    _clean(log)
    ended = [int(count) for count in
             re.findall(r"live streams ended for shutdown\s+streams=(\d+)", log)]
    assert len(ended) == (2 if args else 1) and sum(ended) == 2, log[-3000:]


async def test_a_request_in_flight_at_sigterm_still_finishes(
        sandbox: RunningSandbox, redis: ArqRedis) -> None:
    """The streams end without waiting for it; the order being placed is answered."""
    order = await make_paid_order()
    with start_web(env=WEB_ENV) as web:
        diner = httpx.AsyncClient(base_url=web.url, timeout=httpx.Timeout(10, read=15))
        customer = httpx.AsyncClient(base_url=web.url, timeout=30)
        try:
            body = await valid_order(customer)
            async with diner.stream("GET", f"/orders/{order.public_id}/events") as page:
                status = events(page).__aiter__()
                await next_event(status, "order-updated")

                before = set(await temp_keys(redis))
                sandbox.api_faults(service="stripe", latency_ms=STRIPE_SLOW_MS)
                placing = asyncio.create_task(customer.post("/api/orders", json=body))
                for _ in range(500):  # intake stores the order, then waits on Stripe
                    if set(await temp_keys(redis)) - before:
                        break
                    await asyncio.sleep(0.01)
                else:
                    raise AssertionError("the order never reached intake")
                assert not placing.done()

                web.process.send_signal(signal.SIGTERM)
                stopped = time.monotonic()
                await _all_end(status, within=STREAMS_END_S)
                assert not placing.done()  # the stream did not wait for it
            placed = await placing
            assert placed.status_code == 201, placed.text
            assert placed.json()["payment_url"]
        finally:
            sandbox.api_faults(service="stripe", latency_ms=0)
            await diner.aclose()
            await customer.aclose()
        _exits(web, 3.0)
        print(f"process gone {time.monotonic() - stopped:.2f} s after SIGTERM")
        log = web.log()
    _clean(log)
