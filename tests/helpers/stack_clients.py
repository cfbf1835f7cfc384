"""Clients of a whole stack (tests/helpers/stack.py) as its people hold them: a kitchen
tablet's or a customer's phone's SSE stream recorded line by line, a logged-in cook."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from tests.helpers.stack import PASSWORD, Stack, wait_until


class StreamTap:
    """Holds one SSE stream open in a thread and records every line with its arrival time
    (monotonic), as a kitchen tablet or a customer's phone would hold it."""

    def __init__(self, url: str, cookies: httpx.Cookies | None = None) -> None:
        self.url = url
        self.cookies = cookies
        self.lines: list[tuple[float, str]] = []
        self.status = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="sse-tap")

    def start(self, first: str, timeout: float = 10) -> StreamTap:
        self._thread.start()
        wait_until(lambda: self.seen(first), timeout, f"{first!r} on {self.url}")
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        with httpx.Client(cookies=self.cookies, timeout=httpx.Timeout(5, read=None)) as client, \
                client.stream("GET", self.url) as response:
            self.status = response.status_code
            for line in response.iter_lines():
                self.lines.append((time.monotonic(), line))
                if self._stop.is_set():
                    return

    def seen(self, text: str, after: float = 0.0) -> float | None:
        """When a line containing `text` first arrived after `after`, if one did."""
        for at, line in list(self.lines):
            if at >= after and text in line:
                return at
        return None


def logged_in(stack: Stack, email: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=stack.web_url, timeout=30)
    client.get("/login")
    token = client.cookies["csrftoken"]
    response = client.post("/login", data={"email": email, "password": PASSWORD,
                                           "_csrf_token": token})
    assert response.status_code == 303, response.text
    return client, token


def timed(call: Callable[..., httpx.Response], *args: object,
          **kwargs: object) -> tuple[int, float, httpx.Response | None]:
    """(status, seconds, response) of one request; status 0 when no answer came within the
    client's own timeout (a request held by a dependency that hangs)."""
    started = time.monotonic()
    try:
        response: httpx.Response | None = call(*args, **kwargs)
    except httpx.TimeoutException:
        response = None
    return (response.status_code if response else 0), time.monotonic() - started, response
