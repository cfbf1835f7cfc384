"""The `orderpass` command line: dev, web, worker, migrate, seed-demo, sandbox."""

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
    uvicorn.run("app.asgi:create_app", factory=True, host=host, port=port or settings.port,
                workers=workers, proxy_headers=True, log_config=None, access_log=False,
                timeout_graceful_shutdown=10)


@main.command()
def worker() -> None:
    """Run an arq worker: email, expiry, outbox relay, reconciliation, archiving."""
    from arq.worker import run_worker

    from app.infra.redis import redis_settings
    from workers.settings import WorkerSettings

    _check_infrastructure()
    run_worker(WorkerSettings, redis_settings=redis_settings())  # type: ignore[arg-type]


@main.command()
def migrate() -> None:
    """Apply pending database migrations."""
    from app.infra import db

    _check_infrastructure(redis=False)
    output = asyncio.run(db.migrate())
    click.echo(output.strip() or "migrations applied")


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
    )
    run_sandbox(config, host=host, port=port)


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
