"""Idle SSE: open many kitchen event streams to ONE web process with raw asyncio sockets
(the cheapest client), hold them, and report how many stay open and the web process's RSS."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

SLUG = "demo"
OPEN_CONCURRENCY = 64


async def _open(host: str, port: int, cookie: str
                ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write((f"GET /kitchen/{SLUG}/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
                  f"Accept: text/event-stream\r\nCookie: {cookie}\r\n\r\n").encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        writer.close()
        raise ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
    if not await reader.read(65536):  # the first (snapshot) event: the stream is live
        raise ConnectionError("stream closed before its first event")
    return reader, writer


async def run_sse(host: str, port: int, cookies: dict[str, str], connections: int,
                  rss_mb: Callable[[], float], hold_s: float = 2.0) -> dict[str, Any]:
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    before = rss_mb()
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)
    held: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    failures: dict[str, int] = {}

    async def one() -> None:
        async with gate:
            try:
                held.append(await asyncio.wait_for(_open(host, port, cookie), 60))
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    TimeoutError) as error:
                name = type(error).__name__ + (f": {error}" if isinstance(error, ConnectionError)
                                               else "")
                failures[name] = failures.get(name, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(connections)))
    opened_s = time.perf_counter() - started
    await asyncio.sleep(hold_s)
    alive = sum(1 for reader, _ in held if not reader.at_eof())
    after = rss_mb()
    for _, writer in held:
        writer.close()
    for _, writer in held:
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    grown = max(0.0, after - before)
    return {
        "requested": connections, "idle_connections": alive, "open_failures": failures,
        "open_s": round(opened_s, 2), "rss_mb_before": before, "rss_mb": after,
        "kb_per_connection": round(grown * 1024 / alive, 1) if alive else 0.0,
    }
