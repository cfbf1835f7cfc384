"""The bench's outputs: a plain-text table for the terminal (each figure with its target and
what bounded it) and the JSON file."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import psutil

# (section, key, label, unit, target, where the section says what bounded that figure) in
# table order; absent sections are skipped. The bound is a key of the same section, or a
# fixed note for figures no CPU bounds.
ROWS: list[tuple[str, str, str, str, str, str]] = [
    ("empty_request", "asgi_cpu_ms_at_paid_rate", "empty request CPU at the paid rate", "ms",
     "", "empty"),
    ("empty_request", "litestar_cpu_ms_at_paid_rate", "  with Litestar (one route)", "ms", "",
     "empty"),
    ("empty_request", "asgi_cpu_ms_at_intake_rate", "empty request CPU at the intake rate",
     "ms", "", "empty"),
    ("empty_request", "postgres_round_trip_cpu_ms", "one more Postgres round trip", "ms", "",
     "empty"),
    ("empty_request", "redis_round_trip_cpu_ms", "one more Redis round trip", "ms", "",
     "empty"),
    ("intake", "max_orders_per_s", "intake capacity (closed loop)", "orders/s", ">= 200",
     "capacity_bounded_by"),
    ("intake", "rate_per_s", "intake offered rate (open loop)", "orders/s", "",
     "open_loop_bounded_by"),
    ("intake", "orders_per_s", "intake completed at that rate", "orders/s", "",
     "open_loop_bounded_by"),
    ("intake", "p50_ms", "intake latency p50 at that rate", "ms", "", "open_loop_bounded_by"),
    ("intake", "p99_ms", "intake latency p99 at that rate", "ms", "<= 100",
     "open_loop_bounded_by"),
    ("intake", "cpu_ms_per_order", "intake web CPU per order", "ms", "<= 1.5",
     "open_loop_bounded_by"),
    ("intake", "kernel_ms_per_order", "  of it in the kernel", "ms", "",
     "open_loop_bounded_by"),
    ("intake", "empty_requests", "  in empty requests at that rate", "x", "", "empty"),
    ("webhook", "p50_ms", "webhook -> 2xx p50", "ms", "", "bounded_by"),
    ("webhook", "p99_ms", "webhook -> 2xx p99", "ms", "<= 50", "bounded_by"),
    ("paid", "cpu_ms_per_order", "paid order web CPU (3 screens + page)", "ms", "<= 1.5",
     "bounded_by"),
    ("paid", "kernel_ms_per_order", "  of it in the kernel", "ms", "", "bounded_by"),
    ("paid", "empty_requests", "  in empty requests at that rate", "x", "", "empty"),
    ("paid", "webhook_alone_cpu_ms", "  the webhook alone (nothing open)", "ms", "",
     "alone_bounded_by"),
    ("paid", "webhook_alone_faster_cpu_ms", "  the same at 4x the rate", "ms", "",
     "alone_faster_bounded_by"),
    ("paid", "wake_share", "  share the host charges for waking", "x", "", "wake"),
    ("kitchen", "p50_ms", "webhook -> kitchen frame p50", "ms", "", "bounded_by"),
    ("kitchen", "p99_ms", "webhook -> kitchen frame p99", "ms", "<= 50", "bounded_by"),
    ("kitchen", "floor_p50_ms", "floor (PG commit + pub/sub) p50", "ms", "", "bounded_by"),
    ("kitchen", "ratio_p50", "kitchen p50 / floor p50", "x", "", "bounded_by"),
    ("kitchen", "floor_under_load_p50_ms", "floor under load p50", "ms", "", "bounded_by"),
    ("kitchen", "first_screen_p50_ms", "first of the screens p50", "ms", "", "bounded_by"),
    ("kitchen", "last_screen_p50_ms", "last of the screens p50", "ms", "", "bounded_by"),
    ("kitchen", "cpu_us_per_frame", "web CPU per screen-frame", "us", "<= 10", "bounded_by"),
    ("kitchen", "cpu_us_per_frame_kernel", "  of it in the kernel (socket writes)", "us", "",
     "bounded_by"),
    ("kitchen", "fanout_cpu_us_per_frame", "  the hub's own writes, measured inside", "us", "",
     "bounded_by"),
    ("kitchen", "write_floor_us_per_frame", "bare uvloop socket write of a frame", "us", "",
     "bounded_by"),
    ("kitchen", "write_floors", "  the hub's writes in bare writes", "x", "", "bounded_by"),
    ("sse", "idle_connections", "idle SSE connections held", "conns", "", "memory"),
    ("sse", "rss_mb", "web RSS with them open", "MB", "", "memory"),
    ("sse", "kb_per_connection", "memory per SSE connection", "KB", "<= 40", "memory"),
    ("email", "per_s", "emails sent (backlog drained)", "emails/s", ">= 150", "bounded_by"),
    ("email", "rate_limited", "Resend 429s in the run", "429s", "0", "bounded_by"),
    ("email", "web_cpu_ms_per_email", "web CPU per email (Resend webhooks)", "ms", "",
     "bounded_by"),
    ("worker", "cpu_ms_per_email", "worker CPU per email", "ms", "<= 1", "bounded_by"),
    ("platform", "p50_ms", "platform webhook -> screen p50", "ms", "", "bounded_by"),
    ("platform", "p99_ms", "platform webhook -> screen p99", "ms", "<= 50", "bounded_by"),
    ("platform", "status_p99_ms", "platform webhook -> status page p99", "ms", "",
     "bounded_by"),
    ("platform", "web_cpu_ms_per_order", "platform web CPU per paid order", "ms", "",
     "bounded_by"),
    ("platform", "gc_full_collections", "platform web full GCs (live..end)", "GCs", "",
     "gc"),
    ("platform", "gc_pause_ms_max_under", "platform longest full GC under", "ms", "", "gc"),
    ("platform", "frames_missing", "platform frames missing", "frames", "0", "bounded_by"),
    ("platform", "frames_misdelivered", "platform frames misdelivered", "frames", "0",
     "bounded_by"),
    ("platform", "connections_live", "platform SSE connections live", "conns", "5000",
     "memory"),
    ("platform", "kb_per_connection", "platform RSS per connection", "KB", "<= 40", "memory"),
    ("platform", "redis_connections", "Redis connections (web process)", "conns", "",
     "memory"),
    ("platform", "redis_subscriptions", "Redis subscriptions (web process)", "channels", "",
     "memory"),
]
FIXED_BOUNDS = {"memory": "memory (idle streams; not a CPU figure)",
                "empty": "this machine's cost of an empty request or round trip (a unit)",
                "gc": "objects born since the last full GC (survivors are frozen)",
                "wake": "the host: a process resumed from idle between orders"}


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(), "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


def flat(results: dict[str, Any]) -> dict[str, Any]:
    """`section.key` → value for every scalar figure."""
    return {f"{section}.{key}": value for section, figures in results.items()
            if isinstance(figures, dict) and section not in ("machine", "options")
            for key, value in figures.items() if isinstance(value, int | float)}


def bounds(results: dict[str, Any]) -> dict[str, str]:
    """`section.key` → what bounded it, for every figure of the table that was measured."""
    notes: dict[str, str] = {}
    for section, key, _label, _unit, _target, bound in ROWS:
        figures = results.get(section)
        if isinstance(figures, dict) and key in figures:
            notes[f"{section}.{key}"] = str(FIXED_BOUNDS.get(bound) or figures.get(bound)
                                            or "not recorded")
    return notes


def table(results: dict[str, Any]) -> str:
    notes = bounds(results)
    lines = [f"{'figure':<38} {'value':>10}  {'unit':<9} {'target':<7} bounded by",
             "-" * 100]
    for section, key, label, unit, target, _bound in ROWS:
        figures = results.get(section)
        if isinstance(figures, dict) and figures.get(key) is not None:
            lines.append(f"{label:<38} {figures[key]:>10}  {unit:<9} {target:<7} "
                         f"{notes[f'{section}.{key}']}")
    return "\n".join(lines)


def write_json(results: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
