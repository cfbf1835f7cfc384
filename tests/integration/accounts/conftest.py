"""Staff account fixtures: run the email job the worker would (real Resend calls to the
sandbox), and read the link an email carries."""

from __future__ import annotations

from typing import Any, cast

import httpx
import pytest
from arq.connections import ArqRedis
from asgi_lifespan import LifespanManager
from litestar import Litestar

from app.settings import get_settings
from tests.helpers.accounts import Send
from workers.email_jobs import send_email


@pytest.fixture
def send(redis: ArqRedis) -> Send:
    """Run the worker's `send_email` job for (kind, ref), as arq would."""
    async def run(kind: str, ref: str) -> str:
        return await send_email({"redis": redis, "settings": get_settings(), "job_try": 1},
                                kind, ref)
    return run


@pytest.fixture
async def other_client(app: Litestar) -> Any:
    """Another browser (own cookies) on the same app (the raw app, as `client` uses it:
    LifespanManager's wrapper shares one `state` between requests)."""
    asgi = cast(Any, app)
    async with LifespanManager(asgi), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=asgi), base_url="http://testserver") as client:
        yield client
