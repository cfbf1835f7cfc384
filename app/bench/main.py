"""Runs the selected bench sections against a freshly started system, in an order that keeps
them from disturbing each other (email and idle SSE on a quiet system, then intake, webhooks
and the kitchen feed; the platform section only when named), and always stops every child
process."""

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
from app.bench import email, empty_server, intake, kitchen, platform, report, sse, webhook
from app.bench.live import run_live
from app.bench.probes import CpuProbe, PgWaits
from app.bench.runner import BenchSystem
from app.bench.screens import kitchen_watcher, order_keys, status_watcher

SECTIONS = ("empty", "email", "sse", "intake", "webhook", "kitchen")
OPTIONAL_SECTIONS = ("platform",)  # run only when named: `orderpass bench platform`
QUIET_TIMEOUT_S = 20.0
EMPTY_SECONDS = (2.0, 4.0)  # the empty server's window per rate: webhook seconds, within these


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
    emails: int = 3000
    platform_restaurants: int = 1000
    platform_screens: int = 3
    platform_customers: int = 2000
    platform_seconds: float = 20.0
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
    results["machine"]["placement"] = system.placement.describe()
    echo(f"cores: {system.placement.describe()}")
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
        if "empty" in wanted:  # first: the machine is quiet
            rates = {"paid": options.rate, "intake": options.intake_rate}
            echo(f"empty: an empty server's CPU per request at {options.rate:g}/s and "
                 f"{options.intake_rate:g}/s …")
            seconds = min(max(options.webhook_seconds, EMPTY_SECONDS[0]), EMPTY_SECONDS[1])
            results["empty_request"] = await empty_server.run_empty_requests(
                rates, seconds, system.database_url, system.redis_url)
        if "email" in wanted:
            echo(f"email: a backlog of {options.emails} confirmation emails under Resend's "
                 "limit (2 requests/s, 100 per batch) …")
            results["email"], results["worker"] = await email.run_email(
                system, web, sandbox, options.emails)
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
                system, concurrency=options.intake_concurrency,
                duration=options.duration, rate=options.intake_rate,
                settle=lambda: email.wait_email_quiet(system.database_url, QUIET_TIMEOUT_S)))
        count = max(1, round(options.rate * options.webhook_seconds))
        if "webhook" in wanted:
            await _webhook(system, web, sandbox, options, results, count, echo)
        if "kitchen" in wanted:
            echo(f"kitchen: preparing {count} + {max(1, count // 2)} paid orders …")
            orders = await bench_client.paid_orders(web, sandbox, kitchen.SLUG, count)
            baseline = await bench_client.paid_orders(web, sandbox, kitchen.SLUG,
                                                      max(1, count // 2))
            await _quiet(system, results, "kitchen", echo)
            echo(f"kitchen: 1 screen, then {options.kitchen_clients} screens, webhooks at "
                 f"{options.rate:g}/s …")
            jar = await bench_client.login(system.web_url, kitchen.SLUG, password)
            results["kitchen"] = await kitchen.run_kitchen(
                system, baseline, orders, clients=options.kitchen_clients, rate=options.rate,
                cookie=_cookie(jar), echo=echo)
        if "platform" in wanted:
            echo(f"platform: {options.platform_restaurants} restaurants x "
                 f"{options.platform_screens} screens, {options.platform_customers} status "
                 f"pages, {options.rate:g} paid orders/s (Zipf) for "
                 f"{options.platform_seconds:g}s …")
            results["platform"] = await platform.run_platform(
                system, web, sandbox, restaurants=options.platform_restaurants,
                screens=options.platform_screens, customers=options.platform_customers,
                rate=options.rate, seconds=options.platform_seconds,
                settle=lambda: _quiet(system, results, "platform", echo), echo=echo)
    _in_empty_requests(results)


def _in_empty_requests(results: dict[str, Any]) -> None:
    """Each section's CPU per event in empty requests at its own rate (a ratio from one run
    that machines of the kind share better than milliseconds)."""
    empty = results.get("empty_request")
    if not empty:
        return
    for section in ("paid", "intake"):
        figures = results.get(section)
        if figures and figures.get("cpu_ms_per_order"):
            worth = empty_server.multiple(figures["cpu_ms_per_order"], empty, section)
            if worth is not None:
                figures["empty_requests"] = worth


def _cookie(jar: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in jar.items())


async def _webhook(system: BenchSystem, web: httpx.AsyncClient, sandbox: httpx.AsyncClient,
                   options: BenchOptions, results: dict[str, Any], count: int,
                   echo: Callable[[str], None]) -> None:
    """Webhook → 2xx and the paid order's CPU, with the restaurant's screens and every
    order's status page open (`webhook` and `paid` figures)."""
    await _quiet(system, results, "webhook", echo)
    echo(f"webhook: preparing {count} paid orders …")
    orders = await bench_client.paid_orders(web, sandbox, webhook.SLUG, count)
    jar = await bench_client.login(system.web_url, webhook.SLUG,
                                   system.env["ORDERPASS_DEMO_PASSWORD"])
    await _quiet(system, results, "webhook", echo)
    watchers = [kitchen_watcher(webhook.SLUG, _cookie(jar))] * webhook.SCREENS
    watchers += [status_watcher(order.ref) for order in orders]
    keys = {order.ref: order_keys(webhook.SLUG, order.ref) for order in orders}
    echo(f"webhook: {count} signed events at {options.rate:g}/s, {webhook.SCREENS} screens "
         f"and {count} status pages open …")
    run = await run_live(system, orders, watchers, keys, options.rate, pause_workers=True,
                         echo=echo)
    results["webhook"] = {**webhook.webhook_figures(run.webhook, len(orders), run.elapsed_s,
                                                    options.rate),
                          "cpu_pct": run.usage.pct(), "pg_waits": run.pg_waits,
                          "machine_busy_pct": run.usage.machine_busy_pct,
                          "bounded_by": run.usage.bound()}
    results["paid"] = {
        "cpu_ms_per_order": run.usage.per_event_ms("web", len(orders)),
        "kernel_ms_per_order": run.usage.per_event_ms("web", len(orders), kernel=True),
        "orders": len(orders), "screens": webhook.SCREENS, "status_pages": len(orders),
        "screen_p50_ms": run.arrivals.screens.p(50), "screen_p99_ms": run.arrivals.screens.p(99),
        "status_p50_ms": run.arrivals.status.p(50), "status_p99_ms": run.arrivals.status.p(99),
        "frames_missing": run.frames_missing, "frames_misdelivered": run.misdelivered,
        "web_cpu_s": run.usage.seconds.get("web", 0.0), "window_s": run.usage.elapsed_s,
        "machine_busy_pct": run.usage.machine_busy_pct, "bounded_by": run.usage.bound(),
    }
    echo(f"webhook: the same events alone (nothing open), at {options.rate:g}/s and "
         f"{options.rate * webhook.WAKE_FACTOR:g}/s …")
    alone: list[tuple[float, str]] = []
    for rate in (options.rate, options.rate * webhook.WAKE_FACTOR):
        batch = await bench_client.paid_orders(web, sandbox, webhook.SLUG, count)
        await _quiet(system, results, "webhook", echo)
        alone.append(await webhook.webhook_alone(system, batch, rate))
    results["paid"].update(webhook.wake_figures(alone[0], alone[1], options.rate))


async def _quiet(system: BenchSystem, results: dict[str, Any], section: str,
                 echo: Callable[[str], None]) -> float:
    """Let the worker drain the email backlog earlier sections queued (bounded wait)."""
    waited = await email.wait_email_quiet(system.database_url, QUIET_TIMEOUT_S)
    if waited >= 1:
        echo(f"  (waited {waited:g}s for the email backlog to drain)")
    results.setdefault("waits_s", {})[section] = waited
    return waited


async def _probed(system: BenchSystem, section: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """Run a section while recording CPU per process and Postgres wait events."""
    cpu = CpuProbe(system.process_pids()).start()
    waits = PgWaits(system.database_url).start()
    try:
        figures = await section
    finally:
        usage = cpu.stop()
        pg = await waits.stop()
    return {**figures, "cpu_pct": usage.pct(), "pg_waits": pg,
            "machine_busy_pct": usage.machine_busy_pct, "bounded_by": usage.bound()}
