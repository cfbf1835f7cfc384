"""A TCP proxy that moves every client connection to a fresh connection to its target on
demand, without the clients noticing: as a failover proxy in front of Redis does when the
primary changes. Whatever lived on the old server connection (a pub/sub subscription) is
gone, and no read or write of the client ever fails. The connection's set-up (redis-py's
CLIENT SETNAME and SELECT) is replayed on the new one, as such a proxy keeps the client's
database; nothing else is."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from tests.helpers.freezing_proxy import ThreadedProxy

ERRORS = (ConnectionError, OSError)
SET_UP = {b"CLIENT", b"SELECT", b"AUTH", b"HELLO"}  # commands a client connects with


def _commands(data: bytes) -> list[bytes]:
    """The names of the RESP commands in `data`, in order (redis-py may write two at once:
    CLIENT SETINFO LIB-NAME and LIB-VER); [] if it does not start with one."""
    names: list[bytes] = []
    at = 0
    while data.startswith(b"*", at):
        end = data.index(b"\r\n", at)
        count, at = int(data[at + 1:end]), end + 2
        for index in range(count):
            end = data.index(b"\r\n", at)
            length, at = int(data[at + 1:end]), end + 2
            if index == 0:
                names.append(data[at:at + length].upper())
            at += length + 2
    return names


@dataclass
class _Link:
    client: asyncio.StreamWriter
    server: asyncio.StreamWriter | None = None
    downstream: asyncio.Task[None] | None = None
    set_up: list[tuple[bytes, int]] = field(default_factory=list)  # (bytes, commands in it)
    set_up_done: bool = False  # a command other than set-up went by: nothing more is kept


class FailoverProxy(ThreadedProxy):
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        super().__init__(target_port, target_host)
        self.links: list[_Link] = []

    def fail_over(self) -> int:
        """Every open client connection now talks to a new server connection; returns how
        many were moved."""
        async def move() -> int:
            for link in list(self.links):
                await self._connect(link)
            return len(self.links)
        return asyncio.run_coroutine_threadsafe(move(), self.loop).result(10)

    async def _connect(self, link: _Link) -> None:
        """A new server connection for `link`; the old one (if any) is dropped."""
        old, old_downstream = link.server, link.downstream
        reader, server = await asyncio.open_connection(*self.target)
        if old is not None:  # the client set this connection up already: do it again
            for written, count in link.set_up:
                server.write(written)
                await server.drain()
                for _ in range(count):  # +OK or -ERR each (the client has had its answers)
                    await reader.readline()
        link.server = server
        link.downstream = asyncio.create_task(self._down(reader, link))
        if old_downstream is not None:
            old_downstream.cancel()
        if old is not None:
            old.close()

    async def _down(self, reader: asyncio.StreamReader, link: _Link) -> None:
        with contextlib.suppress(*ERRORS):
            while data := await reader.read(65536):
                link.client.write(data)
                await link.client.drain()
        if link.downstream is asyncio.current_task():  # the server closed, not a move
            link.client.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = _Link(writer)
        self.links.append(link)
        try:
            await self._connect(link)
            with contextlib.suppress(*ERRORS):
                while data := await reader.read(65536):
                    assert link.server is not None
                    if not link.set_up_done:
                        names = _commands(data)
                        if names and all(name in SET_UP for name in names):
                            link.set_up.append((data, len(names)))
                        else:
                            link.set_up_done = True
                    link.server.write(data)
                    await link.server.drain()
        finally:
            self.links.remove(link)
            if link.downstream is not None:
                link.downstream.cancel()
            if link.server is not None:
                link.server.close()
            writer.close()
