"""One render per (key, burst of events) shared by every SSE stream of this process.

Without it, 200 kitchen screens of one restaurant on one web process re-render the board from
Postgres 200 times per event burst. With it, the first stream that needs a fresh board starts
the render and every other stream that needs one at that moment awaits the same result.

Freshness stays exact ("every message is rendered from Postgres at send time, never stale"):
moments are numbered by one process-wide counter (`tick`). An event gets its number the first
time any stream of this process sees it (`EventClock`); a render gets its number when it
starts. A stream that has seen events up to number N only accepts a render numbered above N,
i.e. one that started after the event arrived here and so after the change it announces was
committed (events are published after commit). A render that started before the event is
never served for it; the next waiter starts a new one, which later waiters share.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

_moments = itertools.count(1)


def tick() -> int:
    """The next moment of this process (strictly increasing; the event loop is one thread)."""
    return next(_moments)


class EventClock:
    """The moment each event was first seen by this process, whichever stream saw it first:
    the channels plugin hands the same message to every subscriber of the channel, so all
    streams woken by one event agree on its moment, and one render serves them all."""

    def __init__(self, remember: int = 1024) -> None:
        self._seen: OrderedDict[tuple[str, bytes], int] = OrderedDict()
        self._remember = remember

    def moment_of(self, channel: str, data: bytes | str) -> int:
        key = (channel, data.encode() if isinstance(data, str) else bytes(data))
        moment = self._seen.get(key)
        if moment is None:
            moment = self._seen[key] = tick()
            if len(self._seen) > self._remember:
                self._seen.popitem(last=False)
        return moment


@dataclass
class _Render(Generic[T]):
    started: int
    task: asyncio.Task[T]


class SharedRender(Generic[T]):
    """Single-flight renders per key: `await get(key, after, render)` returns the result of a
    render that started after moment `after`, starting one only if none has."""

    def __init__(self) -> None:
        self._latest: dict[Hashable, _Render[T]] = {}
        self.renders = 0  # how many renders actually ran (tests, metrics)

    async def get(self, key: Hashable, after: int, render: Callable[[], Awaitable[T]]) -> T:
        latest = self._latest.get(key)
        loop = asyncio.get_running_loop()
        if latest is None or latest.started <= after or latest.task.get_loop() is not loop:
            latest = _Render(tick(), loop.create_task(self._run(render)))
            self._latest[key] = latest
            self.renders += 1
            latest.task.add_done_callback(functools.partial(self._forget_failure, key, latest))
        # Shielded: a client that disconnects mid-render must not cancel it for the others.
        return await asyncio.shield(latest.task)

    @staticmethod
    async def _run(render: Callable[[], Awaitable[T]]) -> T:
        return await render()

    def _forget_failure(self, key: Hashable, render: _Render[T], _task: object) -> None:
        """A failed (or cancelled) render is not reused: the next waiter tries again."""
        failed = render.task.cancelled() or render.task.exception() is not None
        if failed and self._latest.get(key) is render:
            del self._latest[key]
