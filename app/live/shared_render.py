"""One snapshot render per key shared by every SSE stream of this process that needs one now.

Without it, 200 kitchen screens of one restaurant connecting at once (a web process restarted,
a network blip) or resyncing together re-render the whole board 200 times. With it, the first
stream that needs a fresh board starts the render and every other one awaits the same result.

Freshness stays exact ("every message is rendered from Postgres at send time, never stale"):
moments are numbered by one process-wide counter (`tick`). A render gets its number when it
starts. A stream that needs state newer than moment N (its connection, or the resync the hub
asked for at N) only accepts a render numbered above N, i.e. one that started after the
changes it must show were committed. An older render is never served for it; the next waiter
starts a new one, which later waiters share.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")

_moments = itertools.count(1)


def tick() -> int:
    """The next moment of this process (strictly increasing; the event loop is one thread)."""
    return next(_moments)


class _Render(Generic[T]):
    """One render: `started` is the moment it began reading, None until its task runs (a
    render not yet begun will begin after any moment taken now, so it is fresh enough for
    every waiter arriving before it runs: a wave of reconnecting screens shares one)."""

    def __init__(self, render: Callable[[], Awaitable[T]]) -> None:
        self.started: int | None = None
        self.task = asyncio.get_running_loop().create_task(self._run(render))

    async def _run(self, render: Callable[[], Awaitable[T]]) -> T:
        self.started = tick()
        return await render()

    def fresh_after(self, moment: int) -> bool:
        return self.started is None or self.started > moment


class SharedRender(Generic[T]):
    """Single-flight renders per key: `await get(key, after, render)` returns the moment a
    render started (after moment `after`) and its result, starting one only if none has."""

    def __init__(self) -> None:
        self._latest: dict[Hashable, _Render[T]] = {}
        self.renders = 0  # how many renders actually ran (tests, metrics)

    async def get(self, key: Hashable, after: int,
                  render: Callable[[], Awaitable[T]]) -> tuple[int, T]:
        latest = self._latest.get(key)
        loop = asyncio.get_running_loop()
        if latest is None or not latest.fresh_after(after) or latest.task.get_loop() is not loop:
            latest = _Render(render)
            self._latest[key] = latest
            self.renders += 1
            latest.task.add_done_callback(functools.partial(self._forget_failure, key, latest))
        # Shielded: a client that disconnects mid-render must not cancel it for the others.
        value = await asyncio.shield(latest.task)
        assert latest.started is not None  # it ran
        return latest.started, value

    def _forget_failure(self, key: Hashable, render: _Render[T], _task: object) -> None:
        """A failed (or cancelled) render is not reused: the next waiter tries again."""
        failed = render.task.cancelled() or render.task.exception() is not None
        if failed and self._latest.get(key) is render:
            del self._latest[key]
