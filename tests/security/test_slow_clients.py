"""Slowloris against a real web process (issue #14 item 10): 1,000 connections that send
their headers a little at a time and never finish are closed at the header deadline (they
were all still held after 60 s), and meanwhile a new request is served within 1 s."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers.server import RunningProcess, start_web

SLOW = 1000
HEADER_TIMEOUT_S = 3.0


@pytest.fixture(scope="module")
def web_with_deadline() -> Iterator[RunningProcess]:
    with start_web(env={"WEB_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT_S)}) as server:
        yield server


def closed_by_server(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1024) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_unfinished_headers_do_not_hold_the_server(web_with_deadline: RunningProcess) -> None:
    slow: list[socket.socket] = []
    try:
        for n in range(SLOW):
            sock = socket.create_connection(("127.0.0.1", web_with_deadline.port), timeout=5)
            sock.sendall(f"GET /r/demo HTTP/1.1\r\nHost: x\r\nX-Slow-{n}: ".encode())
            slow.append(sock)
        opened = time.monotonic()
        for sock in slow[:50]:  # still dribbling: each byte must not extend the deadline
            sock.sendall(b"a")
        started = time.monotonic()
        response = httpx.get(web_with_deadline.url + "/healthz", timeout=5)
        served_s = time.monotonic() - started
        assert response.status_code == 200
        assert served_s < 1.0, served_s
        time.sleep(max(0.0, opened + HEADER_TIMEOUT_S + 2 - time.monotonic()))
        held = [sock for sock in slow if not closed_by_server(sock)]
        assert not held, f"{len(held)} of {SLOW} slow connections still held"
        assert httpx.get(web_with_deadline.url + "/healthz", timeout=5).status_code == 200
        print(f"{SLOW} slow connections: new request served in {served_s * 1000:.0f} ms; "
              f"all closed {HEADER_TIMEOUT_S:g} s on")
    finally:
        for sock in slow:
            sock.close()
