"""Reading server-sent events in tests, and a client logged in to a real server process."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.helpers.accounts import PASSWORD
from tests.helpers.server import RunningProcess


@dataclass
class Event:
    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None
    comments: list[str] = field(default_factory=list)


async def events(response: httpx.Response) -> AsyncIterator[Event]:
    """Parse an SSE stream into events (comments are yielded as their own Event)."""
    current = Event()
    data: list[str] = []
    async for line in response.aiter_lines():
        if line == "":
            if data or current.comments or current.id:
                current.data = "\n".join(data)
                yield current
            current, data = Event(), []
        elif line.startswith(":"):
            current.comments.append(line[1:].strip())
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                data.append(value)
            elif name == "event":
                current.event = value
            elif name == "id":
                current.id = value
            elif name == "retry":
                current.retry = int(value)


async def next_event(stream: AsyncIterator[Event], name: str, timeout: float = 10) -> Event:
    deadline = time.monotonic() + timeout
    async for event in stream:
        if event.event == name:
            return event
        if time.monotonic() > deadline:
            break
    raise AssertionError(f"no {name!r} event")


@asynccontextmanager
async def status_stream(base_url: str, ref: str) -> AsyncIterator[AsyncIterator[Event]]:
    """The customer's status stream (`/orders/{ref}/events`) of a real server, open and past
    its first `order-updated` (the state when the page was opened)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(10, read=15)) as http, \
            http.stream("GET", f"/orders/{ref}/events") as response:
        assert response.status_code == 200
        stream = events(response).__aiter__()
        await next_event(stream, "order-updated")
        yield stream


async def status_update(stream: AsyncIterator[Event], status: str, timeout: float = 10
                        ) -> dict[str, Any]:
    """The first `order-updated` on an open status stream that shows `status`."""
    async def wait() -> dict[str, Any]:
        seen: list[str] = []
        while True:
            body: dict[str, Any] = json.loads((await next_event(stream, "order-updated",
                                                                timeout)).data)
            if body["status"] == status:
                return body
            seen.append(body["status"])
            if len(seen) > 20:
                raise AssertionError(f"no {status!r} update; saw {seen}")

    try:
        return await asyncio.wait_for(wait(), timeout)
    except TimeoutError:
        raise AssertionError(f"the status stream showed no {status!r} within {timeout} s"
                             ) from None


async def logged_in(web: RunningProcess, email: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=web.url, timeout=httpx.Timeout(10, read=15))
    await client.get("/login")
    response = await client.post("/login", data={
        "email": email, "password": PASSWORD, "_csrf_token": client.cookies["csrftoken"]})
    assert response.status_code == 303, response.text
    return client
