"""Webhook → kitchen SSE frame: N logged-in kitchen screens (a process of their own:
`app.bench.screens`) hold `GET /kitchen/demo/events`; paid-order webhooks are posted at a
fixed rate; for every (order, screen) pair the latency is the time from posting the webhook
to the first SSE bytes naming that order at that screen. The floor (Postgres commit + Redis
pub/sub round trip) is measured in the same run.

The fan-out's CPU per screen-frame (`cpu_us_per_frame`) comes from two runs at the same rate:
one with a single screen (the pipeline: webhook, commit, publish, one render, one write),
then one with all N; the web process's extra CPU per order, divided by the extra screens, is
what one more screen costs per order it is shown. The worker is paused in both (its emails'
Resend webhooks would land in the web process's CPU).

The floor under that figure (`write_floor_us_per_frame`, app/bench/write_floor.py): the CPU
of nothing but the socket writes, uvloop as the web runs it, frames of the run's mean size
to as many connections at the same rate; `write_floors` is the hub's own measure of the
fan-out (below) in those units, a ratio that holds across machines of the kind where
microseconds do not.

The hub also measures the fan-out where it happens (`fanout_cpu_us_per_frame`: its thread's
CPU over the frames it wrote straight to idle streams, from the web's `/metrics`): the same
cost without the difference of two runs, whose every other cost varies from run to run.

Screens behave like a kitchen that keeps up: once every screen has shown an order (or 3 s
after it was sent), the bench marks it completed directly in Postgres (no event), so the
board stays the size a real kitchen sees instead of growing to every order of the run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.bench.client import PaidOrder
from app.bench.floor import Floor
from app.bench.live import LiveRun, run_live
from app.bench.probes import fanout_totals
from app.bench.runner import BenchSystem
from app.bench.screens import kitchen_watcher
from app.bench.write_floor import run_write_floor

SLUG = "demo"
DEFAULT_FRAME_BYTES = 4000  # a one-ticket `tickets` frame, when the run counted none
WRITE_FLOOR_SECONDS = 4.0


def _web_ms_per_order(run: LiveRun, orders: int, *, kernel_only: bool = False) -> float:
    seconds = run.usage.kernel_seconds if kernel_only else run.usage.seconds
    return seconds.get("web", 0.0) * 1000 / orders if orders else 0.0


async def run_kitchen(system: BenchSystem, baseline: list[PaidOrder], orders: list[PaidOrder],
                      *, clients: int, rate: float, cookie: str,
                      echo: Callable[[str], None] = print) -> dict[str, Any]:
    keys = {order.ref: (f"r:{SLUG}",) for order in [*baseline, *orders]}
    one = await run_live(system, baseline, [kitchen_watcher(SLUG, cookie)],
                         {o.ref: keys[o.ref] for o in baseline}, rate, pause_workers=True,
                         echo=echo, label="baseline: ")
    async with Floor(system.database_url, system.redis_url) as floor:
        quiet_floor = await floor.measure(200)
        echo(f"  floor p50 {quiet_floor.p(50)} ms")
        fanout_before = await fanout_totals(system.web_url)
        full = await run_live(system, orders, [kitchen_watcher(SLUG, cookie)] * clients,
                              {o.ref: keys[o.ref] for o in orders}, rate, pause_workers=True,
                              echo=echo, during=lambda: floor.measure(10**6, pause=0.1))
        loaded_floor = floor.latencies
    fanout_after = await fanout_totals(system.web_url)
    # The floor under it: bare uvloop writes of frames this size to as many connections.
    frame_bytes = (full.stats.get("bytes", 0) // full.stats["frames"]
                   if full.stats.get("frames") else DEFAULT_FRAME_BYTES)
    floor_writes = await run_write_floor(clients, frame_bytes, rate, WRITE_FLOOR_SECONDS)
    fanout_frames = fanout_after[1] - fanout_before[1]
    # The same cost measured inside the hub (its thread's CPU over the writes it made): no
    # difference of two runs, so the rest of the process's noise is not in it.
    fanout_us = ((fanout_after[0] - fanout_before[0]) * 1e6 / fanout_frames
                 if fanout_frames else 0.0)
    kitchen = full.arrivals.screens
    floor_p50 = quiet_floor.p(50)
    per_order_one = _web_ms_per_order(one, len(baseline))
    per_order_all = _web_ms_per_order(full, len(orders))
    extra_screens = max(1, clients - 1)
    per_frame_us = max(0.0, per_order_all - per_order_one) * 1000 / extra_screens
    # Of it, the kernel's share: one socket write per screen-frame, which on loopback also
    # runs the receiving end's TCP processing (on a real network the NIC and the client do).
    per_frame_kernel_us = max(0.0, _web_ms_per_order(full, len(orders), kernel_only=True)
                              - _web_ms_per_order(one, len(baseline), kernel_only=True)
                              ) * 1000 / extra_screens
    return {
        "clients": clients, "clients_connected": full.connected, "rate_per_s": rate,
        "orders": len(orders),
        "duration_s": round(full.elapsed_s, 2),
        **kitchen.summary(),
        "frames_missing": full.frames_missing,
        "frames_misdelivered": full.misdelivered,
        "floor_p50_ms": floor_p50, "floor_p99_ms": quiet_floor.p(99),
        "floor_under_load_p50_ms": loaded_floor.p(50),
        "floor_under_load_p99_ms": loaded_floor.p(99),
        "ratio_p50": round(kitchen.p(50) / floor_p50, 2) if floor_p50 else 0.0,
        "first_screen_p50_ms": full.arrivals.first_screen.p(50),
        "first_screen_p99_ms": full.arrivals.first_screen.p(99),
        "last_screen_p50_ms": full.arrivals.last_screen.p(50),
        "last_screen_p99_ms": full.arrivals.last_screen.p(99),
        "webhook_p50_ms": full.webhook.p(50), "webhook_p99_ms": full.webhook.p(99),
        "webhook_errors": full.webhook.errors,
        "sse_frames_received": full.stats.get("frames", 0),
        "sse_mb_received": round(full.stats.get("bytes", 0) / 2**20, 1),
        "stream_errors": full.stats.get("errors", 0),
        "cpu_us_per_frame": round(per_frame_us, 2),
        "cpu_us_per_frame_kernel": round(min(per_frame_kernel_us, per_frame_us), 2),
        "fanout_cpu_us_per_frame": round(fanout_us, 2),
        "fanout_frames": int(fanout_frames),
        "write_floor_us_per_frame": floor_writes["us_per_frame"],
        "write_floor_kernel_us_per_frame": floor_writes["kernel_us_per_frame"],
        "mean_frame_bytes": frame_bytes,
        # From the hub's own measure: the two-run difference also carries the rest of the
        # process's run-to-run noise (12 against 17 µs in one run here).
        "write_floors": (round(fanout_us / floor_writes["us_per_frame"], 2)
                         if floor_writes["us_per_frame"] else 0.0),
        "cpu_ms_per_order_one_screen": round(per_order_one, 3),
        "cpu_ms_per_order_all_screens": round(per_order_all, 3),
        "baseline_orders": len(baseline), "baseline_frames_missing": one.frames_missing,
        "baseline_cpu_pct": one.usage.pct(),
        "cpu_pct": full.usage.pct(), "pg_waits": full.pg_waits,
        "machine_busy_pct": full.usage.machine_busy_pct,
        "bounded_by": full.usage.bound(),
    }
