"""Fixtures shared by the suites that run against Postgres and Redis (integration, e2e,
security, reliability's regressions): migrated database, open pool, clean seeded state, app
test client. Registered once for the whole run by the root conftest (`pytest_plugins`), so a
session fixture is one object however many suites use it (a copy star-imported into each
suite's conftest started a second sandbox and pointed the app at whichever came last). Nothing
here is autouse: a suite that needs the servers starts them and asks for `clean_state`."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from arq.connections import ArqRedis
from asgi_lifespan import LifespanManager
from litestar import Litestar

from app import outbox_consumers
from app.infra import db
from app.infra.redis import connect_redis
from app.payments.stripe_gateway import reset_gateway
from app.settings import reset_settings_cache
from tests.helpers.database import reset_state
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import FAST_HEARTBEAT_S, RunningProcess, start_web


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """One Stripe/Resend sandbox for the session; the app's SDKs point at it."""
    running = RunningSandbox(tmp_path_factory.mktemp("sandbox")).start()
    os.environ["STRIPE_API_BASE"] = running.url
    os.environ["RESEND_API_URL"] = running.url
    reset_settings_cache()
    reset_gateway()
    yield running
    running.stop()


@pytest.fixture(scope="session")
async def migrated() -> AsyncIterator[None]:
    outbox_consumers.load()  # as every process that delivers outbox rows does at start-up
    await db.migrate()
    await db.open_pool(max_size=10)
    yield
    await db.close_pool()


@pytest.fixture(scope="session")
async def redis(migrated: None) -> AsyncIterator[ArqRedis]:
    client = await connect_redis()
    yield client
    await client.aclose()


@pytest.fixture
async def clean_state(redis: ArqRedis, sandbox: RunningSandbox) -> None:
    sandbox.reset()
    await reset_state(redis)


@pytest.fixture
def app() -> Litestar:
    from app.asgi import create_app

    return create_app()


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """The app in the test's own event loop (Litestar's AsyncTestClient runs it in a portal
    thread, where the shared Postgres pool cannot follow)."""
    # The raw app, not LifespanManager's wrapper: that one shares one `state` dict between
    # requests, where Litestar keeps per-request flags.
    async with LifespanManager(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as test_client:
        yield test_client


@pytest.fixture
def own_web() -> Iterator[RunningProcess]:
    """A web process of the test's own (one it may freeze with SIGSTOP or put behind a
    proxy), its live streams beating every FAST_HEARTBEAT_S."""
    with start_web(env={"SSE_HEARTBEAT_SECONDS": str(FAST_HEARTBEAT_S)}) as server:
        yield server

