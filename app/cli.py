"""The `orderpass` command line: dev, web, worker, migrate, seed-demo, sandbox, reconcile."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from app.settings import get_settings


@click.group()
def main() -> None:
    """Orderpass: payment-first ordering for restaurants."""


@main.command()
@click.option("--port", type=int, default=None, help="Web port (default $ORDERPASS_PORT or 8000).")
@click.option("--sandbox-port", type=int, default=None,
              help="Stripe/Resend sandbox port (default $ORDERPASS_SANDBOX_PORT or 12111).")
def dev(port: int | None, sandbox_port: int | None) -> None:
    """Run everything locally: embedded Postgres/Redis, sandbox, web and worker."""
    from app.dev.supervisor import DevSupervisor

    settings = get_settings()
    supervisor = DevSupervisor(settings, port=port or settings.port,
                               sandbox_port=sandbox_port or settings.sandbox_port)
    sys.exit(supervisor.run())


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="Default $ORDERPASS_PORT or 8000.")
@click.option("--workers", type=int, default=1, show_default=True,
              help="uvicorn worker processes.")
def web(host: str, port: int | None, workers: int) -> None:
    """Serve the web app with uvicorn (production server)."""
    import uvicorn

    settings = get_settings()
    _check_infrastructure()
    from app.infra.http_protocol import HeaderDeadlineProtocol
    from app.live.web_server import serve

    serve(uvicorn.Config(
        "app.asgi:create_app", factory=True, host=host, port=port or settings.port,
        workers=workers, proxy_headers=True, log_config=None, access_log=False,
        timeout_graceful_shutdown=settings.web_graceful_shutdown_seconds,
        # Slow and idle clients: a header deadline, bounded connections.
        http=HeaderDeadlineProtocol, limit_concurrency=settings.web_limit_concurrency,
        timeout_keep_alive=settings.web_keep_alive_seconds,
        h11_max_incomplete_event_size=16 * 1024))


@main.command()
def worker() -> None:
    """Run an arq worker: email, expiry, outbox relay, reconciliation, archiving."""
    from workers.runner import run

    _check_infrastructure()
    run()


@main.command()
def migrate() -> None:
    """Apply pending database migrations."""
    from app.infra import db

    _check_infrastructure(redis=False)
    click.echo(asyncio.run(db.migrate()))


@main.command("seed-demo")
def seed_demo() -> None:
    """Create the demo restaurants, menus and logins (idempotent)."""
    from app.infra import db
    from app.restaurants.seed import seed_demo as seed

    settings = get_settings()
    _check_infrastructure(redis=False)

    async def run() -> None:
        await db.open_pool(max_size=2)
        try:
            logins = await seed(settings.demo_password)
        finally:
            await db.close_pool()
        click.echo("demo data ready: " + ", ".join(login.email for login in logins))

    asyncio.run(run())


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="Default $ORDERPASS_SANDBOX_PORT or 12111.")
@click.option("--stripe-webhook-url", default="", help="Where to deliver Stripe events.")
@click.option("--resend-webhook-url", default="", help="Where to deliver Resend events.")
def sandbox(host: str, port: int | None, stripe_webhook_url: str,
            resend_webhook_url: str) -> None:
    """Serve the local Stripe + Resend stand-in (dev and tests only)."""
    from app.sandbox.server import SandboxConfig, run_sandbox

    settings = get_settings()
    port = port or settings.sandbox_port
    config = SandboxConfig(
        data_dir=Path(settings.data_dir) / "sandbox",
        public_url=f"http://{host}:{port}",
        stripe_webhook_url=stripe_webhook_url,
        stripe_webhook_secret=settings.stripe_webhook_secret,
        resend_webhook_url=resend_webhook_url,
        resend_webhook_secret=settings.resend_webhook_secret,
        resend_api_key=settings.resend_api_key,  # the only key its Resend accepts
    )
    run_sandbox(config, host=host, port=port)


@main.command()
@click.option("--since", "window", default="72h", show_default=True,
              help="How far back to look: 30m, 72h, 3d.")
@click.option("--apply", is_flag=True, default=False,
              help="Create missing orders and record discrepancies (default: dry run).")
@click.option("--grace", "grace_s", type=click.IntRange(min=0), default=None,
              help="Leave paid sessions younger than this many seconds to their webhook "
                   "[default: RECONCILE_GRACE_SECONDS, 300]; 0 creates them now.")
def reconcile(window: str, apply: bool, grace_s: int | None) -> None:
    """Compare Stripe's Checkout Sessions, events and refunds with our orders."""
    from app.payments.reconciliation import parse_window

    try:
        since = parse_window(window)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--since") from None
    _check_infrastructure()

    async def run() -> str:
        from app import outbox_consumers
        from app.infra import db
        from app.infra.logging import configure_logging
        from app.infra.redis import connect_redis
        from app.payments.reconciliation import reconcile as run_reconciliation
        from app.payments.stripe_gateway import close_gateway

        settings = get_settings()
        configure_logging(settings.log_level, settings.log_json)  # logs to stderr
        outbox_consumers.load()  # --apply delivers the new orders' outbox rows
        await db.open_pool(max_size=4)
        redis = await connect_redis()
        try:
            report = await run_reconciliation(redis, since=since, apply=apply, grace_s=grace_s)
        finally:
            await close_gateway()  # the Stripe SDK's HTTP session ("Unclosed client session")
            await redis.aclose()
            await db.close_pool()
        if report.errors:
            click.echo(report.as_table())
            raise click.ClickException(f"{len(report.errors)} error(s) during reconciliation")
        return report.as_table()

    click.echo(asyncio.run(run()))


BENCH_SECTIONS = ["empty", "intake", "webhook", "kitchen", "sse", "email", "platform"]


@main.command()
@click.argument("sections", nargs=-1, type=click.Choice(BENCH_SECTIONS))
@click.option("--only", "only", multiple=True, type=click.Choice(BENCH_SECTIONS),
              help="Run only this section (repeatable); same as naming sections.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("bench-results.json"), show_default=True,
              help="Where to write the results as JSON.")
@click.option("--duration", type=float, default=6.0, show_default=True,
              help="Seconds of intake load.")
@click.option("--webhook-seconds", type=float, default=6.0, show_default=True,
              help="Seconds of webhooks at --rate (webhook and kitchen sections each).")
@click.option("--rate", type=float, default=50.0, show_default=True,
              help="Paid-order webhooks per second (webhook, kitchen and platform sections).")
@click.option("--kitchen-clients", type=int, default=200, show_default=True,
              help="Logged-in kitchen screens holding the SSE stream.")
@click.option("--sse-connections", type=int, default=1000, show_default=True,
              help="Idle SSE connections opened to one web process.")
@click.option("--intake-concurrency", type=int, default=16, show_default=True,
              help="Concurrent closed-loop clients posting orders (capacity phase).")
@click.option("--intake-rate", type=float, default=200.0, show_default=True,
              help="Orders per second offered in the open-loop (latency) phase.")
@click.option("--emails", type=int, default=3000, show_default=True,
              help="Confirmation emails in the email section's backlog.")
@click.option("--platform-restaurants", type=int, default=1000, show_default=True,
              help="Restaurants in the platform section.")
@click.option("--platform-screens", type=int, default=3, show_default=True,
              help="Kitchen screens per restaurant in the platform section.")
@click.option("--platform-customers", type=int, default=2000, show_default=True,
              help="Customers watching their order's status page in the platform section.")
@click.option("--platform-seconds", type=float, default=20.0, show_default=True,
              help="Seconds of paid orders at --rate in the platform section.")
@click.option("--web-workers", type=int, default=1, show_default=True,
              help="uvicorn worker processes for `orderpass web`.")
@click.option("--worker-processes", type=int, default=1, show_default=True,
              help="arq worker processes.")
@click.option("--keep-data", is_flag=True, help="Keep the temp data dir (logs) afterwards.")
def bench(sections: tuple[str, ...], only: tuple[str, ...], json_path: Path, duration: float,
          webhook_seconds: float, rate: float, kitchen_clients: int, sse_connections: int,
          intake_concurrency: int, intake_rate: float, emails: int, platform_restaurants: int,
          platform_screens: int, platform_customers: int, platform_seconds: float,
          web_workers: int, worker_processes: int, keep_data: bool) -> None:
    """Start the whole system locally and measure it: `orderpass bench [SECTION ...]`
    (every section but `platform` by default; `orderpass bench platform` for that one)."""
    from app.bench.main import OPTIONAL_SECTIONS, SECTIONS, BenchOptions, run_bench
    from app.bench.report import bounds, flat, table, write_json

    named = set(sections) | set(only)
    chosen = tuple(name for name in (*SECTIONS, *OPTIONAL_SECTIONS) if name in named) \
        or SECTIONS
    options = BenchOptions(
        sections=chosen, duration=duration, webhook_seconds=webhook_seconds, rate=rate,
        kitchen_clients=kitchen_clients,
        sse_connections=sse_connections, intake_concurrency=intake_concurrency,
        intake_rate=intake_rate, emails=emails, platform_restaurants=platform_restaurants,
        platform_screens=platform_screens, platform_customers=platform_customers,
        platform_seconds=platform_seconds,
        web_workers=web_workers, worker_processes=worker_processes, keep_data=keep_data)
    try:
        results = run_bench(options, echo=click.echo)
    except KeyboardInterrupt:
        raise click.Abort() from None
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None
    results["summary"] = flat(results)
    results["bounded_by"] = bounds(results)
    write_json(results, json_path)
    click.echo("")
    click.echo(table(results))
    click.echo(f"\nresults written to {json_path}")


def _check_infrastructure(redis: bool = True) -> None:
    """Fail with one clear line when Postgres or Redis cannot be reached."""
    from app.infra.checks import check_postgres, check_redis
    from app.infra.urls import database_url, redis_url

    problems = [asyncio.run(check_postgres(database_url()))]
    if redis:
        problems.append(asyncio.run(check_redis(redis_url())))
    messages = [problem for problem in problems if problem]
    if messages:
        raise click.ClickException("; ".join(messages))


if __name__ == "__main__":
    main()
