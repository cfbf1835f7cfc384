"""API fault injection: the next n calls of a service fail (500, 429, timeout); added latency.

A fault normally strikes before the request runs (nothing happens, nothing is saved under its
idempotency key). With `after_execute` it strikes after: the request runs and commits, then
its answer is replaced by the fault. The Stripe routes save a 500 or 429 answer under the
request's idempotency key, as Stripe saves a 500; a timeout loses only the answer (the result
Stripe saved is what a retry with the same key gets)."""

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
    after_execute: bool = False


@dataclass(frozen=True)
class Fault:
    """One fault taken from the counter: what to answer, and whether the request runs first."""

    status: int | str  # 500 | 429 | "timeout"
    after_execute: bool

    async def answer_status(self) -> int:
        """The HTTP status to answer with (a timeout hangs first, then answers 504)."""
        if self.status == "timeout":
            await asyncio.sleep(TIMEOUT_HANG_S)
            return 504
        return int(self.status)


class ApiFaults:
    def __init__(self) -> None:
        self.services: dict[str, ServiceFaults] = {
            "stripe": ServiceFaults(),
            "resend": ServiceFaults(),
        }

    def configure(self, body: dict[str, Any]) -> ServiceFaults:
        unknown = set(body) - {"service", "status", "count", "latency_ms", "after_execute"}
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        service = body.get("service")
        if service not in self.services:
            raise ValueError("service must be 'stripe' or 'resend'")
        status = body.get("status")
        if status not in (None, 500, 429, "timeout"):
            raise ValueError("status must be 500, 429 or 'timeout'")
        after = body.get("after_execute", False)
        if not isinstance(after, bool):
            raise ValueError("after_execute must be true or false")
        faults = self.services[service]
        if status is not None:
            faults.status = status
            faults.count = int(body.get("count", 1))
            faults.after_execute = after
        elif "count" in body:
            faults.count = int(body["count"])
        if "latency_ms" in body:
            faults.latency_ms = int(body["latency_ms"])
        return faults

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    async def delay(self, service: str) -> None:
        latency = self.services[service].latency_ms
        if latency:
            await asyncio.sleep(latency / 1000)

    def take(self, service: str) -> Fault | None:
        """The next call's fault, if one is due (counts it down)."""
        faults = self.services[service]
        if faults.count > 0 and faults.status is not None:
            faults.count -= 1
            return Fault(faults.status, faults.after_execute)
        return None

    async def apply(self, service: str) -> int | None:
        """Before-execution faults only (Resend's guard): sleep for the latency and return
        the status to fail with, if any; an after-execution fault is returned as is by
        `take` for routes that run the request first."""
        await self.delay(service)
        fault = self.take(service)
        if fault is None:
            return None
        return await fault.answer_status()

    def view(self) -> dict[str, Any]:
        return {name: vars(f).copy() for name, f in self.services.items()}
