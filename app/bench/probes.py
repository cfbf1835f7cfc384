"""What bounds a figure: CPU used by each part of the system during a section (from /proc,
through psutil), how busy the whole machine was (and how much of that was not ours), and
what Postgres sessions were waiting on (sampled from pg_stat_activity)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import psutil

# Over this share of all cores busy, a figure measures the machine more than the product.
BUSY_PCT = 85.0
# Of that, at least this much not ours (other users of the machine) names the neighbours.
NEIGHBOURS_PCT = 10.0


def _tree(pid: int) -> list[psutil.Process]:
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    return []


def _cpu_seconds(processes: list[psutil.Process]) -> tuple[float, float]:
    """(user + system, system) CPU seconds of the processes, from one read of each."""
    total = kernel = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
            kernel += times.system
    return total, kernel


def _machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores (/proc/stat)."""
    times = psutil.cpu_times()
    total = sum(times)
    idle = times.idle + getattr(times, "iowait", 0.0)
    return total - idle, total


@dataclass
class CpuUsage:
    """CPU of each part over one measured window: seconds, % of one core, and the machine."""

    elapsed_s: float
    seconds: dict[str, float]  # name → CPU seconds (user + system) of its process tree
    machine_busy_pct: float  # of all cores, every process of the machine
    outside_pct: float  # of all cores, used by processes that are not part of the bench
    cores: int = field(default_factory=lambda: os.cpu_count() or 1)
    # name → of `seconds`, those spent in the kernel (socket writes: on loopback the sender
    # also pays for the receiving end's TCP processing)
    kernel_seconds: dict[str, float] = field(default_factory=dict)

    def pct(self) -> dict[str, float]:
        """% of one core per part (100 = one core), plus the machine, as `cpu_pct` shows."""
        usage = {name: round(seconds * 100 / self.elapsed_s, 1)
                 for name, seconds in self.seconds.items()}
        usage["machine_busy_pct_of_all_cores"] = self.machine_busy_pct
        usage["outside_pct_of_all_cores"] = self.outside_pct
        return usage

    def per_event_ms(self, name: str, events: int, *, kernel: bool = False) -> float:
        """CPU milliseconds `name` spent per event over the window (0 without events);
        `kernel`: only those spent in the kernel."""
        seconds = (self.kernel_seconds if kernel else self.seconds).get(name, 0.0)
        return round(seconds * 1000 / events, 3) if events else 0.0

    def bound(self) -> str:
        """What bounded the window: the neighbours, the machine, a saturated process, or
        nothing in particular (then latency is the pipeline's own)."""
        if self.machine_busy_pct > BUSY_PCT:
            if self.outside_pct >= NEIGHBOURS_PCT:
                return (f"neighbours (machine {self.machine_busy_pct:.0f} % busy, "
                        f"{self.outside_pct:.0f} % not ours)")
            return f"the machine's {self.cores} cores ({self.machine_busy_pct:.0f} % busy)"
        busiest, pct = max(self.pct_of_processes().items(), key=lambda item: item[1],
                           default=("", 0.0))
        if pct >= 90:
            return f"{busiest} CPU ({pct:.0f} % of a core)"
        return f"not CPU (machine {self.machine_busy_pct:.0f} % busy, {busiest} {pct:.0f} %)"

    def pct_of_processes(self) -> dict[str, float]:
        return {name: round(seconds * 100 / self.elapsed_s, 1)
                for name, seconds in self.seconds.items()}


class CpuProbe:
    """CPU per named process tree (and this bench process) between `start()` and `stop()`."""

    def __init__(self, pids: dict[str, int], extra: dict[str, int] | None = None) -> None:
        self.pids = pids
        self.extra = extra or {}  # load generators outside the system (screens process)

    def start(self) -> CpuProbe:
        self.trees = {name: _tree(pid) for name, pid in {**self.pids, **self.extra}.items()}
        self.trees["bench_client"] = [psutil.Process()]
        self.before = {name: _cpu_seconds(tree) for name, tree in self.trees.items()}
        self.machine_before = _machine_busy_seconds()
        self.started = time.perf_counter()
        return self

    def stop(self) -> CpuUsage:
        elapsed = max(time.perf_counter() - self.started, 1e-6)
        now = {name: _cpu_seconds(tree) for name, tree in self.trees.items()}
        seconds = {name: round(now[name][0] - self.before[name][0], 4) for name in now}
        kernel = {name: round(now[name][1] - self.before[name][1], 4) for name in now}
        busy, total = _machine_busy_seconds()
        busy_s = busy - self.machine_before[0]
        total_s = max(total - self.machine_before[1], 1e-6)
        ours = sum(seconds.values())
        return CpuUsage(
            elapsed_s=round(elapsed, 3), seconds=seconds,
            machine_busy_pct=round(busy_s * 100 / total_s, 1),
            outside_pct=round(max(0.0, busy_s - ours) * 100 / total_s, 1),
            kernel_seconds=kernel)


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


GC_METRIC = "orderpass_gc_full_collection_seconds"


@dataclass
class GcPauses:
    """The web process's full garbage collections so far (its `/metrics` histogram)."""

    count: float = 0.0
    seconds: float = 0.0
    buckets: dict[float, float] = field(default_factory=dict)  # upper bound (s) -> count

    def since(self, before: GcPauses) -> dict[str, Any]:
        """The collections between two readings: how many, their total, and the smallest
        histogram bound the longest of them stayed under."""
        longest = next((bound for bound, count in sorted(self.buckets.items())
                        if count - before.buckets.get(bound, 0.0) >= self.count - before.count),
                       None)
        return {"gc_full_collections": int(self.count - before.count),
                "gc_pause_ms_total": round((self.seconds - before.seconds) * 1000, 1),
                "gc_pause_ms_max_under": (round(longest * 1000, 1) if longest is not None
                                          and longest != float("inf") else None)}


async def gc_pauses(web: Any) -> GcPauses:
    """Read from the web's `/metrics` (an httpx client on it); zeros if it cannot be read."""
    from prometheus_client.parser import text_string_to_metric_families

    reading = GcPauses()
    with contextlib.suppress(Exception):
        response = await web.get("/metrics")
        for family in text_string_to_metric_families(response.text):
            if family.name != GC_METRIC:
                continue
            for sample in family.samples:
                if sample.name.endswith("_count"):
                    reading.count = sample.value
                elif sample.name.endswith("_sum"):
                    reading.seconds = sample.value
                elif sample.name.endswith("_bucket"):
                    reading.buckets[float(sample.labels["le"])] = sample.value
    return reading


FANOUT_METRICS = ("orderpass_sse_fanout_cpu_seconds", "orderpass_sse_fanout_frames")


async def fanout_totals(web_url: str) -> tuple[float, float]:
    """(CPU seconds, frames) the web's hubs spent writing frames straight to idle streams so
    far (its `/metrics` counters, app/live/hub.py); zeros if they cannot be read."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    values = dict.fromkeys(FANOUT_METRICS, 0.0)
    with contextlib.suppress(Exception):
        async with httpx.AsyncClient(base_url=web_url, timeout=10) as web:
            text = (await web.get("/metrics")).text
        for family in text_string_to_metric_families(text):
            if family.name in values:
                values[family.name] = sum(sample.value for sample in family.samples
                                          if sample.name.endswith("_total"))
    return values[FANOUT_METRICS[0]], values[FANOUT_METRICS[1]]
