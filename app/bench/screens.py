"""SSE watchers for the bench (kitchen screens and customers' status pages), in a process of
their own.

Each watcher holds one event stream over a raw socket (the cheapest client that still reads
every byte) and notes when each of the bench's orders first reaches it. Reading thousands of
streams is real work; done in the process that also posts the webhooks, it delayed the posts
and the timestamps of both. Arrival times are `time.perf_counter()`, which on Linux is
CLOCK_MONOTONIC, one clock for every process of the machine, so the parent subtracts its own
send times from them.

A watcher has a key: `r:<slug>` for a screen of that restaurant's kitchen, `o:<ref>` for the
status page of that order. Each order names the keys that must show it (its restaurant's
screens, its customer's page). An order shown on a watcher whose key it does not name is
*misdelivered* (another restaurant's ticket on a screen, another customer's order on a page).
A kitchen screen counts an order when its ref appears; a status page when its frame says the
order is paid (its snapshot already names it while it awaits payment).

Messages from the process: ("connected", n), ("seen", ref, [(arrival, is_status), ...])
once every watcher the order names has shown it, and on ("stop",) from the parent:
("done", {stats}, {ref: [(arrival, is_status), ...]}) for the orders not fully shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from app.bench.client import REF_PATTERN

CONNECT_TIMEOUT_S = 120.0
OPEN_CONCURRENCY = 128  # connections being opened at once (the server's accept backlog)
TAIL = 96  # bytes kept from the previous chunk: a ref or a status split across two reads
PAID_STATUS = re.compile(rb'"id":"(TEMP-[A-Za-z0-9]{22})","status":"paid"')

Arrival = tuple[float, bool]  # (perf_counter, the watcher is a status page)


@dataclass(frozen=True)
class Watcher:
    path: str  # /kitchen/<slug>/events or /orders/<ref>/events
    key: str  # r:<slug> or o:<ref>
    cookie: str = ""

    @property
    def is_status(self) -> bool:
        return self.key.startswith("o:")


def kitchen_watcher(slug: str, cookie: str) -> Watcher:
    return Watcher(f"/kitchen/{slug}/events", f"r:{slug}", cookie)


def status_watcher(ref: str) -> Watcher:
    return Watcher(f"/orders/{ref}/events", f"o:{ref}")


def order_keys(slug: str, ref: str) -> tuple[str, ...]:
    """The watchers that must show a paid order: its restaurant's screens, its customer's page."""
    return (f"r:{slug}", f"o:{ref}")


class _Board:
    """What the watchers saw, shared by all of them (one event loop, no locking)."""

    def __init__(self, watchers: list[Watcher], orders: dict[str, tuple[str, ...]],
                 conn: Connection) -> None:
        self.orders = orders
        self.conn = conn
        per_key: dict[str, int] = defaultdict(int)
        for watcher in watchers:
            per_key[watcher.key] += 1
        self.expected = {ref: sum(per_key.get(key, 0) for key in keys)
                         for ref, keys in orders.items()}
        self.count = len(watchers)
        self.arrivals: dict[str, list[Arrival]] = defaultdict(list)
        self.connected = 0
        self.all_connected = asyncio.Event()
        self.frames = 0
        self.bytes = 0
        self.errors = 0
        self.closed_early = 0
        self.misdelivered = 0
        self.misdelivered_examples: list[str] = []

    def arrived(self, ref: str, at: float, status: bool) -> None:
        times = self.arrivals[ref]
        times.append((at, status))
        if len(times) == self.expected.get(ref, 0):
            self.conn.send(("seen", ref, self.arrivals.pop(ref)))

    def wrong(self, watcher: Watcher, ref: str) -> None:
        self.misdelivered += 1
        if len(self.misdelivered_examples) < 5:
            self.misdelivered_examples.append(f"{ref} on {watcher.key}")


class _Stream(asyncio.Protocol):
    def __init__(self, board: _Board, watcher: Watcher, request: bytes,
                 head_done: asyncio.Future[None]) -> None:
        self.board = board
        self.watcher = watcher
        self.request = request
        self.head_done = head_done
        self.seen: set[str] = set()  # refs counted (or found misdelivered) on this stream
        self.head = b""
        self.live = False
        self.tail = b""

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
            if not self.head_done.done():
                self.head_done.set_result(None)
            if not status.startswith(b"HTTP/1.1 200"):
                board.errors += 1
                return
            self.live = True
            board.connected += 1
            if board.connected >= board.count:
                board.all_connected.set()
        board.frames += data.count(b"\r\n\r\n")  # each event ends so (sse.encoded)
        board.bytes += len(data)
        window = self.tail + data
        self.tail = window[-TAIL:]
        refs = REF_PATTERN.findall(window)
        if not refs:
            return
        watcher, orders, seen = self.watcher, board.orders, self.seen
        paid = ({match.decode() for match in PAID_STATUS.findall(window)}
                if watcher.is_status else set())
        for match in refs:
            ref = match.decode()
            if ref in seen or ref not in orders:
                continue
            if watcher.key not in orders[ref]:
                seen.add(ref)
                board.wrong(watcher, ref)
            elif not watcher.is_status or ref in paid:
                seen.add(ref)
                board.arrived(ref, now, watcher.is_status)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.head_done.done():
            self.head_done.set_result(None)
        if self.live:
            self.board.closed_early += 1


async def _watch(host: str, port: int, watchers: list[Watcher],
                 orders: dict[str, tuple[str, ...]], conn: Connection) -> None:
    board = _Board(watchers, orders, conn)
    loop = asyncio.get_running_loop()
    transports: list[asyncio.BaseTransport] = []
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)

    async def open_one(watcher: Watcher) -> None:
        cookie = f"Cookie: {watcher.cookie}\r\n" if watcher.cookie else ""
        request = (f"GET {watcher.path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                   f"Accept: text/event-stream\r\n{cookie}\r\n").encode()
        async with gate:  # until the response head: the server has taken the connection
            head_done: asyncio.Future[None] = loop.create_future()
            try:
                transport, _protocol = await loop.create_connection(
                    lambda: _Stream(board, watcher, request, head_done), host, port)
            except OSError:
                board.errors += 1
                return
            transports.append(transport)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(head_done, CONNECT_TIMEOUT_S)

    await asyncio.gather(*(open_one(watcher) for watcher in watchers))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(board.all_connected.wait(), CONNECT_TIMEOUT_S)
    board.closed_early = 0  # from here on, a stream closing is a failure of the run
    conn.send(("connected", board.connected))
    stop = asyncio.Event()
    loop.add_reader(conn.fileno(), stop.set)
    await stop.wait()
    loop.remove_reader(conn.fileno())
    conn.recv()  # ("stop",)
    closed_early = board.closed_early
    for transport in transports:
        transport.close()
    conn.send(("done", {"frames": board.frames, "bytes": board.bytes, "errors": board.errors,
                        "closed_early": closed_early, "misdelivered": board.misdelivered,
                        "misdelivered_examples": board.misdelivered_examples},
               dict(board.arrivals)))


def _main(host: str, port: int, watchers: list[Watcher], orders: dict[str, tuple[str, ...]],
          conn: Connection) -> None:
    asyncio.run(_watch(host, port, watchers, orders, conn))


class ScreensProcess:
    """The parent's handle: start, wait until connected, receive arrivals as they complete,
    stop and collect the rest."""

    def __init__(self, host: str, port: int, watchers: list[Watcher],
                 orders: dict[str, tuple[str, ...]],
                 on_seen: Callable[[str, list[Arrival]], None]) -> None:
        self.count = len(watchers)
        self.on_seen = on_seen
        self.connected = 0
        self.stats: dict[str, Any] = {}
        self.partial: dict[str, list[Arrival]] = {}
        self._ready = asyncio.Event()
        self._done = asyncio.Event()
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_main, daemon=True, name="bench-screens",
                                        args=(host, port, watchers, orders, child))

    @property
    def pid(self) -> int | None:
        return self._process.pid

    async def __aenter__(self) -> ScreensProcess:
        self._process.start()
        asyncio.get_running_loop().add_reader(self._conn.fileno(), self._receive)
        await asyncio.wait_for(self._ready.wait(), 2 * CONNECT_TIMEOUT_S + 30)
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
