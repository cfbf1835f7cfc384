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
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from app.dev.embedded import free_port

KINDS = ("asgi", "litestar")
BODY = b'{"object":"event","data":"' + b"x" * 2000 + b'"}'  # a paid event's size
WARM_UP = 50
START_TIMEOUT_S = 20.0


def cpu_seconds() -> str:
    """This process's CPU time, to the nanosecond: /proc's ticks (10 ms) are too coarse for
    a few hundred requests of a fraction of a millisecond each."""
    return repr(time.process_time())


async def bare_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the body, answers a small JSON object: nothing else (`GET /cpu`: its CPU)."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    body = cpu_seconds().encode() if scope["path"] == "/cpu" else b'{"result":"ok"}'
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def bare_litestar() -> Any:
    from litestar import Litestar, Request, get, post

    @post("/", status_code=200)
    async def receive(request: Request[Any, Any, Any]) -> dict[str, str]:
        await request.body()
        return {"result": "ok"}

    @get("/cpu", media_type="text/plain")
    async def cpu() -> str:
        return cpu_seconds()

    return Litestar([receive, cpu], logging_config=None, openapi_config=None)


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
            before = await _cpu(session)
            started = time.perf_counter()

            async def send(index: int) -> None:
                await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
                await _post(session)

            await asyncio.gather(*(send(index) for index in range(requests)))
            spent = await _cpu(session) - before
        return round(spent * 1000 / requests, 3)
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        await reap(process, 5)


async def reap(process: asyncio.subprocess.Process, grace_s: float) -> None:
    """Wait for a probe's child to end, killing it after `grace_s` seconds."""
    try:
        await asyncio.wait_for(process.wait(), grace_s)
    except TimeoutError:
        process.kill()
        await process.wait()


async def _cpu(session: aiohttp.ClientSession) -> float:
    async with session.get("/cpu") as response:
        return float(await response.text())


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


async def run_empty_requests(rates: dict[str, float], seconds: float, database_url: str,
                             redis_url: str) -> dict[str, Any]:
    """`rates`: section → the rate it posts at. Returns each empty server's CPU per request
    at each section's rate (`asgi_cpu_ms_at_paid_rate`, `litestar_cpu_ms_at_paid_rate`, …),
    and one more Postgres or Redis round trip's inside an event at the paid rate."""
    figures: dict[str, Any] = {f"{name}_rate_per_s": rate for name, rate in rates.items()}
    for name, rate in rates.items():
        for kind in KINDS:
            figures[f"{kind}_cpu_ms_at_{name}_rate"] = await request_cpu_ms(
                kind, rate, max(1, round(rate * seconds)))
    paid_rate = rates.get("paid")
    if paid_rate:
        trips = await round_trip_cpu_ms(database_url, redis_url, paid_rate,
                                        max(1, round(paid_rate * seconds)))
        for name, cpu_ms in trips.items():
            figures[f"{name}_round_trip_cpu_ms"] = cpu_ms
    return figures


def multiple(cpu_ms: float, empty: dict[str, Any], section: str) -> float | None:
    """How many empty requests (bare ASGI, at the section's rate) an event's CPU is worth
    (None without that unit)."""
    unit = empty.get(f"asgi_cpu_ms_at_{section}_rate")
    return round(cpu_ms / unit, 1) if unit else None

# The marginal CPU of one round trip inside an event, as the web makes them: events at the
# paid rate, each a chain of CHAIN_SHORT, then CHAIN_LONG round trips to Postgres (through
# an asyncpg pool as the app's, `SELECT $1`) or Redis (a GET); the difference per extra round
# trip. Run as `python -m app.bench.empty_server round-trips DATABASE_URL REDIS_URL RATE N`.
CHAIN_SHORT, CHAIN_LONG = 1, 5


async def round_trip_cpu_ms(database_url: str, redis_url: str, rate: float,
                            events: int) -> dict[str, float]:
    """{"postgres": ms, "redis": ms}: one more round trip's CPU in an event, measured in
    a process of its own (the web's side of it: send, wake up, read)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.bench.empty_server", "round-trips", database_url,
        redis_url, str(rate), str(events), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL)
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"round-trip probe failed ({process.returncode})")
    return {name: float(value) for name, value in json.loads(output).items()}


async def _chains(operation: Callable[[], Awaitable[Any]], rate: float, events: int,
                  length: int) -> float:
    """CPU seconds of this process over `events` events at `rate`, each `length` calls."""
    started, cpu = time.perf_counter(), time.process_time()
    for index in range(events):
        await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
        for _ in range(length):
            await operation()
    return time.process_time() - cpu


async def _probe_round_trips(database_url: str, redis_url: str, rate: float,
                             events: int) -> dict[str, float]:
    import asyncpg
    from redis.asyncio import Redis

    async def keep_session(_connection: asyncpg.Connection) -> None:
        """As the app's pool: no reset query per release (app/infra/db.py)."""

    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=20,
                                     reset=keep_session)
    redis = Redis.from_url(redis_url)
    operations: dict[str, Callable[[], Awaitable[Any]]] = {
        "postgres": lambda: pool.fetch("SELECT $1::int", 1),
        "redis": lambda: redis.get("orderpass:bench:absent")}
    figures: dict[str, float] = {}
    try:
        for name, operation in operations.items():
            for _ in range(WARM_UP):
                await operation()
            short = await _chains(operation, rate, events, CHAIN_SHORT)
            long = await _chains(operation, rate, events, CHAIN_LONG)
            figures[name] = round(max(0.0, long - short) * 1000
                                  / (events * (CHAIN_LONG - CHAIN_SHORT)), 3)
    finally:
        await pool.close()
        await redis.aclose()
    return figures


if __name__ == "__main__":
    if sys.argv[1] == "round-trips":
        import uvloop

        print(json.dumps(uvloop.run(_probe_round_trips(
            sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])))))
    else:
        serve(sys.argv[1], int(sys.argv[2]))
