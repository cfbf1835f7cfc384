"""Integration fixtures: migrated database, open pool, clean seeded state, app test client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from arq.connections import ArqRedis
from litestar import Litestar

from app.infra import db
from app.infra.redis import connect_redis
from tests.helpers.database import reset_state


@pytest.fixture(scope="session")
async def migrated() -> AsyncIterator[None]:
    await db.migrate()
    await db.open_pool(max_size=10)
    yield
    await db.close_pool()


@pytest.fixture(scope="session")
async def redis(migrated: None) -> AsyncIterator[ArqRedis]:
    client = await connect_redis()
    yield client
    await client.aclose()


@pytest.fixture(autouse=True)
async def clean_state(redis: ArqRedis) -> None:
    await reset_state(redis)


@pytest.fixture
def app() -> Litestar:
    from app.asgi import create_app

    return create_app()


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """The app in the test's own event loop (Litestar's AsyncTestClient runs it in a portal
    thread, where the shared Postgres pool cannot follow)."""
    async with LifespanManager(app) as manager, httpx.AsyncClient(
        transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
    ) as test_client:
        yield test_client
