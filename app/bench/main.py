"""Runs the selected bench sections against a freshly started system, in an order that keeps
them from disturbing each other (email and idle SSE on a quiet system, then intake, webhooks
and the kitchen feed), and always stops every child process."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from types import FrameType
from typing import Any

import httpx

from app.bench import client as bench_client
from app.bench import email, intake, kitchen, report, sse, webhook
from app.bench.probes import CpuProbe, PgWaits
from app.bench.runner import BenchSystem

SECTIONS = ("email", "sse", "intake", "webhook", "kitchen")
QUIET_TIMEOUT_S = 20.0


@dataclass
class BenchOptions:
    sections: tuple[str, ...] = SECTIONS
    duration: float = 6.0
    webhook_seconds: float = 6.0
    rate: float = 50.0
    kitchen_clients: int = 200
    sse_connections: int = 1000
    intake_concurrency: int = 16
    intake_rate: float = 200.0
    emails: int = 200
    web_workers: int = 1
    worker_processes: int = 1
    keep_data: bool = False


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # the same clean shutdown as Ctrl-C


def run_bench(options: BenchOptions, echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Start the system, run the sections, stop everything; returns the results."""
    signal.signal(signal.SIGTERM, _terminate)
    system = BenchSystem(web_workers=options.web_workers,
                         worker_processes=options.worker_processes,
                         keep_data=options.keep_data, echo=echo)
    results: dict[str, Any] = {"machine": report.machine(), "options": asdict(options)}
    try:
        started = time.perf_counter()
        system.start()
        echo(f"system up in {time.perf_counter() - started:.1f}s "
             f"(web {system.web_url}, sandbox {system.sandbox_url})")
        asyncio.run(_sections(system, options, results, echo))
        system.check_children()
    finally:
        echo("stopping every child process …")
        system.stop()
    return results


async def _sections(system: BenchSystem, options: BenchOptions, results: dict[str, Any],
                    echo: Callable[[str], None]) -> None:
    wanted = set(options.sections)
    password = system.env["ORDERPASS_DEMO_PASSWORD"]
    async with httpx.AsyncClient(base_url=system.web_url, timeout=30) as web, \
            httpx.AsyncClient(base_url=system.sandbox_url, timeout=30) as sandbox:
        if "email" in wanted:
            echo(f"email: {options.emails} confirmation emails under a 2 req/s Resend limit …")
            results["email"] = await email.run_email(web, sandbox, system.database_url,
                                                     options.emails)
        if "sse" in wanted:
            echo(f"sse: {options.sse_connections} idle kitchen streams to one web process …")
            cookies = await bench_client.login(system.web_url, kitchen.SLUG, password)
            results["sse"] = await sse.run_sse("127.0.0.1", system.web_port, cookies,
                                               options.sse_connections, system.web_rss_mb)
        if "intake" in wanted:
            echo(f"intake: {options.intake_concurrency} concurrent clients for "
                 f"{options.duration:g}s, then {options.intake_rate:g} orders/s for "
                 f"{options.duration:g}s …")
            await _quiet(system, results, "intake", echo)
            results["intake"] = await _probed(system, intake.run_intake(
                system.web_url, concurrency=options.intake_concurrency,
                duration=options.duration, rate=options.intake_rate,
                settle=lambda: email.wait_email_quiet(system.database_url, QUIET_TIMEOUT_S)))
        count = max(1, round(options.rate * options.webhook_seconds))
        if "webhook" in wanted:
            await _quiet(system, results, "webhook", echo)
            echo(f"webhook: preparing {count} paid orders …")
            orders = await bench_client.paid_orders(web, sandbox, webhook.SLUG, count)
            await _quiet(system, results, "webhook", echo)
            echo(f"webhook: {count} signed events at {options.rate:g}/s …")
            results["webhook"] = await _probed(system, webhook.run_webhook(
                system.web_url, orders, system.webhook_secret, options.rate))
        if "kitchen" in wanted:
            echo(f"kitchen: preparing {count} paid orders …")
            orders = await bench_client.paid_orders(web, sandbox, kitchen.SLUG, count)
            await _quiet(system, results, "kitchen", echo)
            echo(f"kitchen: {options.kitchen_clients} screens, {count} webhooks at "
                 f"{options.rate:g}/s …")
            cookies = await bench_client.login(system.web_url, kitchen.SLUG, password)
            results["kitchen"] = await _probed(system, kitchen.run_kitchen(
                system.web_url, system.database_url, system.redis_url, orders,
                system.webhook_secret, clients=options.kitchen_clients, rate=options.rate,
                cookies=cookies, echo=echo))


async def _quiet(system: BenchSystem, results: dict[str, Any], section: str,
                 echo: Callable[[str], None]) -> None:
    """Let the worker drain the email backlog earlier sections queued (bounded wait)."""
    waited = await email.wait_email_quiet(system.database_url, QUIET_TIMEOUT_S)
    if waited >= 1:
        echo(f"  (waited {waited:g}s for the email backlog to drain)")
    results.setdefault("waits_s", {})[section] = waited


async def _probed(system: BenchSystem, section: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """Run a section while recording CPU per process and Postgres wait events."""
    cpu = CpuProbe(system.process_pids()).start()
    waits = PgWaits(system.database_url).start()
    try:
        figures = await section
    finally:
        usage = cpu.stop()
        pg = await waits.stop()
    return {**figures, "cpu_pct": usage, "pg_waits": pg}
