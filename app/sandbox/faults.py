"""API fault injection: the next n calls of a service fail (500, 429, timeout); added latency."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

TIMEOUT_HANG_S = 30.0  # longer than any sane client timeout; then 504


@dataclass
class ServiceFaults:
    status: int | str | None = None  # 500 | 429 | "timeout"
    count: int = 0
    latency_ms: int = 0


class ApiFaults:
    def __init__(self) -> None:
        self.services: dict[str, ServiceFaults] = {
            "stripe": ServiceFaults(),
            "resend": ServiceFaults(),
        }

    def configure(self, body: dict[str, Any]) -> ServiceFaults:
        service = body.get("service")
        if service not in self.services:
            raise ValueError("service must be 'stripe' or 'resend'")
        status = body.get("status")
        if status not in (None, 500, 429, "timeout"):
            raise ValueError("status must be 500, 429 or 'timeout'")
        faults = self.services[service]
        if status is not None:
            faults.status = status
            faults.count = int(body.get("count", 1))
        elif "count" in body:
            faults.count = int(body["count"])
        if "latency_ms" in body:
            faults.latency_ms = int(body["latency_ms"])
        return faults

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    async def apply(self, service: str) -> int | None:
        """Sleep for the configured latency and return the status to fail with, if any."""
        faults = self.services[service]
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.count > 0 and faults.status is not None:
            faults.count -= 1
            if faults.status == "timeout":
                await asyncio.sleep(TIMEOUT_HANG_S)
                return 504
            return int(faults.status)
        return None

    def view(self) -> dict[str, Any]:
        return {name: vars(f).copy() for name, f in self.services.items()}
