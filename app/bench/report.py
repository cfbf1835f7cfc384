"""The bench's outputs: a plain-text table for the terminal and the JSON file."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import psutil

# (section, key, label, unit) in table order; absent sections are skipped.
ROWS: list[tuple[str, str, str, str]] = [
    ("intake", "max_orders_per_s", "intake capacity (closed loop)", "orders/s"),
    ("intake", "rate_per_s", "intake offered rate (open loop)", "orders/s"),
    ("intake", "orders_per_s", "intake completed at that rate", "orders/s"),
    ("intake", "p50_ms", "intake latency p50 at that rate", "ms"),
    ("intake", "p99_ms", "intake latency p99 at that rate", "ms"),
    ("webhook", "p50_ms", "webhook -> 2xx p50", "ms"),
    ("webhook", "p99_ms", "webhook -> 2xx p99", "ms"),
    ("kitchen", "p50_ms", "webhook -> kitchen frame p50", "ms"),
    ("kitchen", "p99_ms", "webhook -> kitchen frame p99", "ms"),
    ("kitchen", "floor_p50_ms", "floor (PG commit + pub/sub) p50", "ms"),
    ("kitchen", "ratio_p50", "kitchen p50 / floor p50", "x"),
    ("kitchen", "floor_under_load_p50_ms", "floor under load p50", "ms"),
    ("kitchen", "first_screen_p50_ms", "first of the screens p50", "ms"),
    ("kitchen", "last_screen_p50_ms", "last of the screens p50", "ms"),
    ("sse", "idle_connections", "idle SSE connections held", "conns"),
    ("sse", "rss_mb", "web RSS with them open", "MB"),
    ("sse", "kb_per_connection", "memory per SSE connection", "KB"),
    ("email", "per_s", "emails sent", "emails/s"),
]


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


def table(results: dict[str, Any]) -> str:
    lines = [f"{'figure':<36} {'value':>12}  unit", "-" * 58]
    for section, key, label, unit in ROWS:
        figures = results.get(section)
        if isinstance(figures, dict) and key in figures:
            lines.append(f"{label:<36} {figures[key]:>12}  {unit}")
    return "\n".join(lines)


def write_json(results: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
