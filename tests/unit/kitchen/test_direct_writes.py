"""The hub writes an update straight to an idle stream's connection, and queues it for the
stream's own loop whenever that could reorder or lose a frame (the stream busy, the client
not reading). Through a real uvicorn server, the frames written both ways arrive whole and
in order."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import uvicorn
from litestar import Litestar, get
from litestar.response import ServerSentEventMessage
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from app.infra.security_headers import security_headers_middleware
from app.live import hub
from app.live.sse import (
    EncodedMessage,
    LiveEvents,
    _connection_writer,
    connection_writer,
    encoded,
)


class Connection:
    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.accepting = True

    def write(self, body: bytes) -> bool:
        if self.accepting:
            self.written.append(body)
        return self.accepting


def update(started: int, data: str) -> hub.Update:
    return hub.Update(started, encoded("board", data))


async def waiting(inbox: hub.Inbox) -> asyncio.Task[None]:
    task = asyncio.create_task(inbox.wait())
    await asyncio.sleep(0)  # the stream's loop now waits in it
    return task


async def test_an_idle_stream_is_written_at_once_and_a_busy_one_keeps_its_order() -> None:
    inbox, connection = hub.Inbox(), Connection()
    inbox.writer = connection.write
    waiter = await waiting(inbox)

    inbox.push(update(5, "A"))
    assert [body.endswith(b"data: A\r\n\r\n") for body in connection.written] == [True]
    assert not waiter.done() and inbox.take() == []  # the stream's task was never woken

    connection.accepting = False  # the client stopped reading: the transport paused us
    inbox.push(update(6, "B"))
    connection.accepting = True
    inbox.push(update(7, "C"))  # behind B, which the stream's loop has not sent yet
    await waiter
    queued = inbox.take()
    assert [item.message.data for item in queued if item.message] == ["B", "C"]
    assert len(connection.written) == 1


async def test_the_hub_skips_what_the_stream_shows_already() -> None:
    inbox, connection = hub.Inbox(), Connection()
    inbox.writer = connection.write
    inbox.fresh = 10  # the stream's snapshot was rendered at moment 10
    waiter = await waiting(inbox)

    inbox.push(update(9, "older than the snapshot"))
    inbox.push(update(11, "new"))
    inbox.push(update(12, "new"))  # a later render showing the same
    inbox.push(update(13, "newer"))
    new, newer = connection.written
    assert new.endswith(b"data: new\r\n\r\n") and newer.endswith(b"data: newer\r\n\r\n")
    assert not waiter.done()
    waiter.cancel()


async def test_heartbeats_pass_through_the_streams_own_loop() -> None:
    """What wraps a stream acts as its messages pass: a kitchen screen's `until_revoked`
    ends it at a heartbeat once its session is revoked. A heartbeat written by the hub
    would never reach it."""
    inbox, connection = hub.Inbox(), Connection()
    inbox.writer = connection.write
    waiter = await waiting(inbox)
    inbox.push(hub.Update(0, hub.PING))
    await waiter
    assert connection.written == []
    assert [item.message for item in inbox.take()] == [hub.PING]


async def test_a_resync_or_a_stream_not_waiting_gets_no_direct_write() -> None:
    inbox, connection = hub.Inbox(), Connection()
    inbox.writer = connection.write
    inbox.push(update(1, "before the stream waits"))  # its snapshot is still being sent
    assert connection.written == [] and len(inbox.take()) == 1

    waiter = await waiting(inbox)
    inbox.push(hub.Update(2, None))  # a snapshot is due: later updates go after it
    inbox.push(update(3, "after the snapshot"))
    await waiter
    assert connection.written == [] and inbox.resync_after == 2 and len(inbox.take()) == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_frames_written_by_the_hub_and_by_the_stream_arrive_in_order_through_uvicorn(
) -> None:
    """uvicorn's chunked framing, reproduced by `connection_writer`, interleaved with
    uvicorn's own sends on one connection: what a browser's EventSource reads."""
    seen_writer: list[bool] = []

    async def messages() -> AsyncIterator[ServerSentEventMessage]:
        yield encoded("board", "first, sent by the stream")
        write = _connection_writer.get()
        seen_writer.append(write is not None)
        assert write is not None
        assert write(encoded("board", "second, written by the hub").encode())
        yield EncodedMessage(encoded=encoded("board", "third, sent by the stream").encode())

    @get("/events")
    async def events() -> LiveEvents:
        return LiveEvents(messages())

    app = Litestar([events])
    # as `create_app` does: the outermost middleware keeps the server's own send
    app.asgi_handler = security_headers_middleware(app.asgi_handler, production=False)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           http="httptools", log_config=None, lifespan="off"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{port}/events", timeout=10)
        data = [line.removeprefix("data: ") for line in response.text.splitlines()
                if line.startswith("data: ")]
        assert data == ["first, sent by the stream", "second, written by the hub",
                        "third, sent by the stream"]
        assert seen_writer == [True]
    finally:
        server.should_exit = True
        await serving


class _ClosedHandle:
    """A uvloop transport whose handle closed before the protocol heard of it."""

    def is_closing(self) -> bool:
        return False

    def write(self, _data: bytes) -> None:
        raise RuntimeError("unable to perform operation on <TCPTransport closed=True>")


class _Flow:
    def __init__(self) -> None:
        self.write_paused = False


def test_a_write_that_fails_or_would_wait_is_left_to_the_streams_own_loop() -> None:
    """The hub calls the writer for all its streams in one loop: one dead connection must
    answer False (the stream's own send then ends that stream), never raise into the hub."""
    cycle = RequestResponseCycle.__new__(RequestResponseCycle)
    flow = _Flow()
    cycle.transport, cycle.flow = _ClosedHandle(), flow  # type: ignore[assignment]
    cycle.disconnected = cycle.response_complete = False
    cycle.chunked_encoding = True
    write = connection_writer(cycle.send)
    assert write is not None
    assert write(b"data: x\r\n\r\n") is False
    flow.write_paused = True  # the client stopped reading
    cycle.transport = asyncio.Transport()  # would raise NotImplementedError if written to
    assert connection_writer(cycle.send)(b"data: x\r\n\r\n") is False  # type: ignore[misc]
    cycle.chunked_encoding = False  # HTTP/1.0: no direct writes at all
    assert connection_writer(cycle.send) is None


async def test_the_fan_out_counts_the_frames_it_wrote_and_their_cpu() -> None:
    """/metrics carries the fan-out's own cost: frames the hub wrote straight to idle
    streams and the CPU time of writing them (the bench's `fanout_cpu_us_per_frame`);
    heartbeats, skipped duplicates and frames queued for a busy stream are not counted."""
    from app.platform.metrics import SSE_FANOUT_CPU, SSE_FANOUT_FRAMES

    channel = hub.Hub.__new__(hub.Hub)  # the fan-out alone: no Redis subscription
    connections = [Connection() for _ in range(3)]
    channel.inboxes = set()
    waiters = []
    for connection in connections:
        inbox = hub.Inbox()
        inbox.writer = connection.write
        channel.inboxes.add(inbox)
        waiters.append(await waiting(inbox))
    frames, cpu = SSE_FANOUT_FRAMES._value.get(), SSE_FANOUT_CPU._value.get()

    connections[0].accepting = False  # one client not reading: queued, not written here
    channel.broadcast(update(5, "A"))
    channel.broadcast(update(6, "A"))  # the same data again: the two idle streams skip it
    channel.broadcast(hub.Update(0, hub.PING))
    assert SSE_FANOUT_FRAMES._value.get() - frames == 2
    assert SSE_FANOUT_CPU._value.get() > cpu
    assert [len(connection.written) for connection in connections] == [0, 1, 1]
    for waiter in waiters:
        waiter.cancel()
