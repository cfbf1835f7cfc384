"""Hubs started in the same instant (a restarted web process: every screen reconnects at
once) ping and resync their streams at different moments, each still on its own period."""

from __future__ import annotations

import asyncio
import itertools
import time

from app.live import hub

HEARTBEAT_S = 0.2
HUBS = 40


async def test_hubs_started_together_tick_spread_over_the_period_each_on_its_own() -> None:
    beats: dict[int, list[float]] = {number: [] for number in range(HUBS)}
    hubs = [hub.Hub(channels=None, channel=f"c{number}", compose=None,  # type: ignore[arg-type]
                    heartbeat_s=HEARTBEAT_S) for number in range(HUBS)]
    started = time.monotonic()
    for number, each in enumerate(hubs):
        each.broadcast = lambda _update, n=number: beats[n].append(time.monotonic())  # type: ignore[method-assign]
    tickers = [asyncio.create_task(each._tick()) for each in hubs]
    await asyncio.sleep(HEARTBEAT_S * 3.5)
    for ticker in tickers:
        ticker.cancel()
    await asyncio.gather(*tickers, return_exceptions=True)

    firsts = sorted(times[0] - started for times in beats.values())
    assert firsts[-1] <= HEARTBEAT_S + 0.05  # no stream waits longer for its first ping
    # Spread over the period, not in one instant (40 uniform phases: the widest gap
    # between the earliest and the latest is under half the period with odds ~1e-10).
    assert firsts[-1] - firsts[0] > HEARTBEAT_S / 2
    for times in beats.values():  # then every hub keeps its own period
        assert len(times) >= 3
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert all(gap > HEARTBEAT_S * 0.8 for gap in gaps), gaps
