"""Staff account fixtures: run the email job the worker would (real Resend calls to the
sandbox), and read the link an email carries."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, cast

import httpx
import pytest
from arq.connections import ArqRedis
from asgi_lifespan import LifespanManager
from litestar import Litestar

from app.settings import get_settings
from tests.helpers.sandbox import RunningSandbox
from workers.email_jobs import send_email

Send = Callable[[str, str], Awaitable[str]]


@pytest.fixture
def send(redis: ArqRedis) -> Send:
    """Run the worker's `send_email` job for (kind, ref), as arq would."""
    async def run(kind: str, ref: str) -> str:
        return await send_email({"redis": redis, "settings": get_settings(), "job_try": 1},
                                kind, ref)
    return run


def link_path(message: dict[str, Any], prefix: str) -> str:
    """The path of the `prefix…` link in an email's text (the host is PUBLIC_BASE_URL)."""
    match = re.search(rf"https?://[^/\s]+({re.escape(prefix)}[A-Za-z0-9_.\-]+)",
                      message["text"])
    assert match, message["text"]
    return match.group(1)


def mailbox(sandbox: RunningSandbox, to: str) -> list[dict[str, Any]]:
    return sandbox.messages(to=to)


@pytest.fixture
async def other_client(app: Litestar) -> Any:
    """Another browser (own cookies) on the same app (the raw app, as `client` uses it:
    LifespanManager's wrapper shares one `state` between requests)."""
    asgi = cast(Any, app)
    async with LifespanManager(asgi), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=asgi), base_url="http://testserver") as client:
        yield client
