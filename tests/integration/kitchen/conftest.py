"""Kitchen test fixtures: logged-in clients (with the CSRF token at hand) and a web server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from litestar import Litestar

from tests.helpers.browser import browser, page  # noqa: F401  (fixtures)
from tests.helpers.server import RunningProcess, start_web


@pytest.fixture(scope="module")
def web() -> Iterator[RunningProcess]:
    """The web app as a real server process (SSE, cross-process pub/sub, browsers)."""
    with start_web(env={"SSE_HEARTBEAT_SECONDS": "1"}) as server:
        yield server


@pytest.fixture
async def second_client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser (own cookies) on the same app."""
    async with LifespanManager(app) as manager, httpx.AsyncClient(
        transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
    ) as test_client:
        yield test_client
