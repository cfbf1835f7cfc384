"""A TCP proxy that can freeze connections open at a moment: their bytes stop flowing both
ways while nothing is closed, as when a phone's Wi-Fi goes quiet, a proxy holds a connection
or a network path is lost without a reset; connections opened afterwards flow normally.
`freeze(path)` picks them by the path of the last request they carried: a browser reuses
idle keep-alive connections for its next requests, and a test freezing those too would
measure the browser's retry, not the page. `freeze_all()` takes every one."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Self

METHODS = {b"GET", b"POST", b"HEAD", b"PUT", b"PATCH", b"DELETE", b"OPTIONS"}


class ThreadedProxy:
    """A TCP proxy on a free local port, served by an event loop of its own in a thread
    (`running()`); subclasses say what each connection does (`_serve`)."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.loop = asyncio.new_event_loop()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def running(self) -> Iterator[Self]:
        self._thread.start()
        server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", self.port), self.loop).result(10)
        try:
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(self._close(server), self.loop).result(10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)

    async def _close(self, server: asyncio.Server) -> None:
        server.close()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class FreezingProxy(ThreadedProxy):
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        super().__init__(target_port, target_host)
        # per open connection: the path of the last request it carried, its "may flow" flag
        self.open: list[tuple[list[bytes], asyncio.Event]] = []

    def freeze(self, path: str) -> int:
        """Stop the bytes (for good) of the connections open now whose last request was for
        `path`; returns how many."""
        async def stop() -> int:
            frozen = [flowing for last, flowing in self.open if last == [path.encode()]]
            for flowing in frozen:
                flowing.clear()
            return len(frozen)
        return asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)

    def freeze_all(self) -> int:
        """Stop the bytes (for good) of every connection open now, whatever it carries (a
        Redis client's: its network path lost without a reset); returns how many."""
        async def stop() -> int:
            for _last, flowing in self.open:
                flowing.clear()
            return len(self.open)
        return asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    flowing: asyncio.Event, last: list[bytes] | None = None) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                if last is not None and data[:8].split(b" ")[0] in METHODS:
                    last[:] = data.split(b"\r\n", 1)[0].split(b" ")[1:2]
                await flowing.wait()
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _serve(self, client_reader: asyncio.StreamReader,
                     client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(*self.target)
        flowing = asyncio.Event()
        flowing.set()
        last: list[bytes] = []
        self.open.append((last, flowing))
        with contextlib.suppress(asyncio.CancelledError):  # the proxy closing: not an error
            await asyncio.gather(self._pipe(client_reader, server_writer, flowing, last),
                                 self._pipe(server_reader, client_writer, flowing))
