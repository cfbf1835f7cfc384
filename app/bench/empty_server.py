"""What one HTTP request costs a server that does nothing, on this machine, at the rates the
paid and intake sections post at: the unit for their CPU figures (`empty_request`).

Measured in the same run as the product's figures, it turns them into ratios that hold
from one machine to the next. Machines of the kind differ 2 to 5 times in what an event costs,
and at 50 requests a second most of that is the event loop waking up, reading, writing
and going back to sleep (system calls, which on these virtual machines cost more than the
Python around them). `paid.empty_requests` says how many empty requests a paid order costs.

Two empty servers, each under uvicorn as `orderpass web` runs it (uvloop, httptools, our
header-deadline protocol, no access log), posted to exactly as the sections post (aiohttp,
open loop, a body of an event's size):
- `asgi`: a bare ASGI callable, the server's own share;
- `litestar`: one Litestar route, no middleware, the framework's share on top.

Run as `python -m app.bench.empty_server KIND PORT` for the server side."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from typing import Any

import aiohttp

from app.bench.probes import CpuProbe
from app.dev.embedded import free_port

KINDS = ("asgi", "litestar")
BODY = b'{"object":"event","data":"' + b"x" * 2000 + b'"}'  # a paid event's size
WARM_UP = 50
START_TIMEOUT_S = 20.0


async def bare_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the body, answers a small JSON object: nothing else."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", b"15")]})
    await send({"type": "http.response.body", "body": b'{"result":"ok"}'})


def bare_litestar() -> Any:
    from litestar import Litestar, Request, post

    @post("/", status_code=200)
    async def receive(request: Request[Any, Any, Any]) -> dict[str, str]:
        await request.body()
        return {"result": "ok"}

    return Litestar([receive], logging_config=None, openapi_config=None)


def serve(kind: str, port: int) -> None:
    import uvicorn

    from app.infra.http_protocol import HeaderDeadlineProtocol

    app = bare_asgi if kind == "asgi" else bare_litestar()
    uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", http=HeaderDeadlineProtocol,
                log_config=None, access_log=False, lifespan="off")


async def request_cpu_ms(kind: str, rate: float, requests: int) -> float:
    """CPU milliseconds per request of the empty `kind` server, posted to at `rate`/s."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.bench.empty_server", kind, str(port),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession(url, connector=aiohttp.TCPConnector(limit=0)) as session:
            await _until_up(session)
            for _ in range(WARM_UP):
                await _post(session)
            probe = CpuProbe({kind: process.pid}).start()
            started = time.perf_counter()

            async def send(index: int) -> None:
                await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
                await _post(session)

            await asyncio.gather(*(send(index) for index in range(requests)))
            usage = probe.stop()
        return usage.per_event_ms(kind, requests)
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _post(session: aiohttp.ClientSession) -> None:
    async with session.post("/", data=BODY) as response:
        await response.read()


async def _until_up(session: aiohttp.ClientSession) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            await _post(session)
            return
        except aiohttp.ClientError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


async def run_empty_requests(rates: dict[str, float], seconds: float) -> dict[str, Any]:
    """`rates`: section → the rate it posts at. Returns each empty server's CPU per request
    at each section's rate (`asgi_cpu_ms_at_paid_rate`, `litestar_cpu_ms_at_paid_rate`, …)."""
    figures: dict[str, Any] = {f"{name}_rate_per_s": rate for name, rate in rates.items()}
    for name, rate in rates.items():
        for kind in KINDS:
            figures[f"{kind}_cpu_ms_at_{name}_rate"] = await request_cpu_ms(
                kind, rate, max(1, round(rate * seconds)))
    return figures


def multiple(cpu_ms: float, empty: dict[str, Any], section: str) -> float | None:
    """How many empty requests (bare ASGI, at the section's rate) an event's CPU is worth."""
    unit = empty.get(f"asgi_cpu_ms_at_{section}_rate")
    return round(cpu_ms / unit, 1) if unit else None

if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
