"""A TCP proxy that can freeze the connections open at a moment: their bytes stop flowing
both ways while nothing is closed, as when a phone's Wi-Fi goes quiet or a proxy holds a
connection; connections opened afterwards flow normally."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator


class FreezingProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.loop = asyncio.new_event_loop()
        self.open: list[asyncio.Event] = []  # one "may flow" flag per open connection
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def freeze(self) -> None:
        """Stop the bytes of every connection open now (for good)."""
        def stop() -> None:
            for flowing in self.open:
                flowing.clear()
        self.loop.call_soon_threadsafe(stop)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    flowing: asyncio.Event) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                await flowing.wait()
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _serve(self, client_reader: asyncio.StreamReader,
                     client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(*self.target)
        flowing = asyncio.Event()
        flowing.set()
        self.open.append(flowing)
        await asyncio.gather(self._pipe(client_reader, server_writer, flowing),
                             self._pipe(server_reader, client_writer, flowing))

    @contextlib.contextmanager
    def running(self) -> Iterator[FreezingProxy]:
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
