"""Latency samples and their percentiles (nearest-rank, in milliseconds)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of `values` (0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Latencies:
    """Seconds in, rounded milliseconds out."""

    samples: list[float] = field(default_factory=list)
    errors: int = 0

    def add(self, seconds: float) -> None:
        self.samples.append(seconds * 1000)

    def p(self, pct: float) -> float:
        return round(percentile(self.samples, pct), 2)

    def summary(self, prefix: str = "") -> dict[str, float | int]:
        return {f"{prefix}p50_ms": self.p(50), f"{prefix}p90_ms": self.p(90),
                f"{prefix}p99_ms": self.p(99), f"{prefix}max_ms": self.p(100),
                f"{prefix}samples": len(self.samples), f"{prefix}errors": self.errors}
