"""What bounds a figure: CPU used by each part of the system during a section (psutil), and
what Postgres sessions were waiting on (sampled from pg_stat_activity)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from typing import Any

import asyncpg
import psutil


def _tree(pid: int) -> list[psutil.Process]:
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    return []


def _cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


class CpuProbe:
    """CPU % (100 = one core) per named process tree between `start()` and `stop()`."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids

    def start(self) -> CpuProbe:
        self.trees = {name: _tree(pid) for name, pid in self.pids.items()}
        self.before = {name: _cpu_seconds(tree) for name, tree in self.trees.items()}
        self.bench_before = _cpu_seconds([psutil.Process()])
        psutil.cpu_percent()
        self.started = time.perf_counter()
        return self

    def stop(self) -> dict[str, float]:
        elapsed = max(time.perf_counter() - self.started, 1e-6)
        usage = {name: round((_cpu_seconds(tree) - self.before[name]) * 100 / elapsed, 1)
                 for name, tree in self.trees.items()}
        usage["bench_client"] = round(
            (_cpu_seconds([psutil.Process()]) - self.bench_before) * 100 / elapsed, 1)
        usage["machine_busy_pct_of_all_cores"] = psutil.cpu_percent()
        return usage


class PgWaits:
    """Samples what active Postgres sessions wait on, every `interval` seconds."""

    def __init__(self, database_url: str, interval: float = 0.05) -> None:
        self.database_url = database_url
        self.interval = interval
        self.counts: Counter[str] = Counter()
        self.samples = 0

    async def _run(self) -> None:
        conn = await asyncpg.connect(self.database_url)
        try:
            while True:
                rows = await conn.fetch(
                    "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait, "
                    "left(regexp_replace(query, '\\s+', ' ', 'g'), 48) AS query "
                    "FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state = 'active'")
                self.samples += 1
                for row in rows:
                    self.counts[f"{row['wait']} | {row['query']}"] += 1
                await asyncio.sleep(self.interval)
        finally:
            await conn.close()

    def start(self) -> PgWaits:
        self.task = asyncio.create_task(self._run())
        return self

    async def stop(self, top: int = 5) -> dict[str, Any]:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task
        return {"samples": self.samples,
                "top": [{"what": what, "avg_sessions": round(count / max(self.samples, 1), 2)}
                        for what, count in self.counts.most_common(top)]}
