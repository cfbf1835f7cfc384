"""What one socket write of a kitchen frame costs this machine: the floor under the kitchen's
`cpu_us_per_frame`, measured in the same run.

The fan-out writes each paid order's frame to every screen's connection, one system call per
screen. On loopback that call also runs the receiving end's TCP processing, and on the
virtual machines we run on system calls cost more than the Python around them: 6 to 8 µs of
a frame's 10 to 12 are the kernel's. This probe does nothing but those writes, as the web
does them (uvloop transports, frames of the kitchen's size, `--kitchen-clients` connections
drained by another process, at the kitchen's rate), so `kitchen.write_floors` — the fan-out's
CPU per frame divided by this — holds from one machine to the next where microseconds do not.

Run as `python -m app.bench.write_floor CONNECTIONS FRAME_BYTES RATE FRAMES` (prints JSON),
or `python -m app.bench.write_floor drain PORT CONNECTIONS` for the reading side."""

from __future__ import annotations

import asyncio
import json
import resource
import selectors
import socket
import sys
import time
from typing import Any, cast

from app.bench.empty_server import reap

WARM_UP_FRAMES = 20


def drain(port: int, connections: int) -> None:
    """Opens `connections` to the probe and reads everything until the probe closes them."""
    sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(connections)]
    selector = selectors.DefaultSelector()
    for sock in sockets:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, sock)
    open_count = len(sockets)
    while open_count:
        for key, _ in selector.select(10):
            sock = key.data
            if not sock.recv(1 << 20):
                selector.unregister(sock)
                sock.close()
                open_count -= 1


class _Accepted(asyncio.Protocol):
    def __init__(self, transports: list[asyncio.Transport]) -> None:
        self.transports = transports

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transports.append(cast(asyncio.Transport, transport))  # uvloop's: no subclass


async def measure(connections: int, frame_bytes: int, rate: float,
                  frames: int) -> dict[str, Any]:
    """CPU (and its kernel share) per frame written to one connection, in µs."""
    loop = asyncio.get_running_loop()
    transports: list[asyncio.Transport] = []
    server = await loop.create_server(lambda: _Accepted(transports), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.bench.write_floor", "drain", str(port), str(connections))
    try:
        deadline = time.monotonic() + 20
        while len(transports) < connections:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(transports)}/{connections} connected")
            await asyncio.sleep(0.01)
        for transport in transports:  # as uvicorn's connections
            sock = transport.get_extra_info("socket")
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        async def write_frames(count: int) -> None:
            started = time.perf_counter()
            for index in range(count):
                await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
                # a new frame each time, as each order's is: nothing cached between writes
                frame = b"%x\r\n%b\r\n" % (frame_bytes, str(index).encode().ljust(
                    frame_bytes, b"x"))
                for transport in transports:
                    transport.write(frame)

        await write_frames(WARM_UP_FRAMES)
        before = resource.getrusage(resource.RUSAGE_SELF)
        await write_frames(frames)
        after = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        for transport in transports:
            transport.close()
        server.close()
        await reap(reader, 10)  # it ends once every connection is closed
    writes = frames * connections
    user = after.ru_utime - before.ru_utime
    kernel = after.ru_stime - before.ru_stime
    return {"us_per_frame": round((user + kernel) * 1e6 / writes, 2),
            "kernel_us_per_frame": round(kernel * 1e6 / writes, 2),
            "connections": connections, "frame_bytes": frame_bytes, "frames": frames}


async def run_write_floor(connections: int, frame_bytes: int, rate: float,
                          seconds: float) -> dict[str, Any]:
    """The probe in a process of its own (its CPU alone, under uvloop as the web runs)."""
    frames = max(1, round(rate * seconds))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.bench.write_floor", str(connections), str(frame_bytes),
        str(rate), str(frames), stdout=asyncio.subprocess.PIPE)
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"write-floor probe failed ({process.returncode})")
    figures: dict[str, Any] = json.loads(output)
    return figures


if __name__ == "__main__":
    if sys.argv[1] == "drain":
        drain(int(sys.argv[2]), int(sys.argv[3]))
    else:
        import uvloop

        print(json.dumps(uvloop.run(measure(int(sys.argv[1]), int(sys.argv[2]),
                                            float(sys.argv[3]), int(sys.argv[4])))))
