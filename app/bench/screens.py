"""Kitchen screens for the bench, in a process of their own.

N logged-in screens hold `GET /kitchen/<slug>/events` over raw sockets (the cheapest client
that still reads every byte) and note when each order's ref first reaches each screen.
Reading 200 streams is real work; done in the process that also posts the webhooks, it
delayed the posts and the timestamps of both. Arrival times are `time.perf_counter()`,
which on Linux is CLOCK_MONOTONIC, one clock for every process of the machine, so the
parent subtracts its own send times from them.

Messages from the screens process: ("connected", n), ("seen", ref, [arrival, ...]) once
every screen has shown `ref`, and on ("stop",) from the parent: ("done", {stats},
{ref: [arrival, ...]}) for the refs not every screen showed.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
from collections import defaultdict
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from app.bench.client import REF_PATTERN

CONNECT_TIMEOUT_S = 60.0


class _Board:
    """What the screens saw, shared by all of them (one event loop, no locking)."""

    def __init__(self, count: int, refs: set[str], conn: Connection) -> None:
        self.count = count
        self.refs = refs
        self.conn = conn
        self.arrivals: dict[str, list[float]] = defaultdict(list)
        self.connected = 0
        self.all_connected = asyncio.Event()
        self.frames = 0
        self.bytes = 0
        self.errors = 0

    def seen(self, found: list[bytes], screen_seen: set[str], at: float) -> None:
        for match in found:
            ref = match.decode()
            if ref in screen_seen or ref not in self.refs:
                continue
            screen_seen.add(ref)
            times = self.arrivals[ref]
            times.append(at)
            if len(times) == self.count:
                self.conn.send(("seen", ref, self.arrivals.pop(ref)))


class _Screen(asyncio.Protocol):
    def __init__(self, board: _Board, request: bytes) -> None:
        self.board = board
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
        board = self.board
        if not self.live:
            self.head += data
            if b"\r\n\r\n" not in self.head:
                return
            status, _, data = self.head.partition(b"\r\n\r\n")
            if not status.startswith(b"HTTP/1.1 200"):
                board.errors += 1
                return
            self.live = True
            board.connected += 1
            if board.connected >= board.count:
                board.all_connected.set()
        board.frames += data.count(b"\n\n") or data.count(b"\r\n\r\n")
        board.bytes += len(data)
        board.seen(REF_PATTERN.findall(self.tail + data), self.seen, now)
        self.tail = data[-40:]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def _screens(host: str, port: int, cookie: str, slug: str, count: int,
                   refs: list[str], conn: Connection) -> None:
    board = _Board(count, set(refs), conn)
    request = (f"GET /kitchen/{slug}/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"Accept: text/event-stream\r\nCookie: {cookie}\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    transports: list[asyncio.BaseTransport] = []

    async def open_one() -> None:
        try:
            transport, _protocol = await loop.create_connection(
                lambda: _Screen(board, request), host, port)
        except OSError:
            board.errors += 1
            return
        transports.append(transport)

    await asyncio.gather(*(open_one() for _ in range(count)))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(board.all_connected.wait(), CONNECT_TIMEOUT_S)
    conn.send(("connected", board.connected))
    stop = asyncio.Event()
    loop.add_reader(conn.fileno(), stop.set)
    await stop.wait()
    loop.remove_reader(conn.fileno())
    conn.recv()  # ("stop",)
    for transport in transports:
        transport.close()
    conn.send(("done", {"frames": board.frames, "bytes": board.bytes, "errors": board.errors},
               dict(board.arrivals)))


def _main(host: str, port: int, cookie: str, slug: str, count: int, refs: list[str],
          conn: Connection) -> None:
    asyncio.run(_screens(host, port, cookie, slug, count, refs, conn))


class ScreensProcess:
    """The parent's handle: start, wait until connected, receive arrivals as they complete,
    stop and collect the rest."""

    def __init__(self, host: str, port: int, cookie: str, slug: str, count: int,
                 refs: list[str], on_seen: Callable[[str, list[float]], None]) -> None:
        self.count = count
        self.on_seen = on_seen
        self.connected = 0
        self.stats: dict[str, int] = {}
        self.partial: dict[str, list[float]] = {}
        self._ready = asyncio.Event()
        self._done = asyncio.Event()
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_main, daemon=True, name="bench-screens",
                                        args=(host, port, cookie, slug, count, refs, child))

    async def __aenter__(self) -> ScreensProcess:
        self._process.start()
        asyncio.get_running_loop().add_reader(self._conn.fileno(), self._receive)
        await asyncio.wait_for(self._ready.wait(), CONNECT_TIMEOUT_S + 30)
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError, BrokenPipeError):
            self._conn.send(("stop",))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._done.wait(), 30)
        asyncio.get_running_loop().remove_reader(self._conn.fileno())
        await asyncio.to_thread(self._process.join, 10)
        if self._process.is_alive():
            self._process.kill()

    def _receive(self) -> None:
        while self._conn.poll():
            try:
                message: tuple[Any, ...] = self._conn.recv()
            except EOFError:
                self._done.set()
                self._ready.set()
                return
            if message[0] == "connected":
                self.connected = message[1]
                self._ready.set()
            elif message[0] == "seen":
                self.on_seen(message[1], message[2])
            elif message[0] == "done":
                self.stats, self.partial = message[1], message[2]
                self._done.set()
