"""Integration suite: the shared fixtures (tests/helpers/fixtures.py) on the session's
Postgres and Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.helpers.infra import start_servers
from tests.helpers.migrations import scratch_database

start_servers()


@pytest.fixture(autouse=True)
async def _fresh_state(clean_state: None) -> None:
    """Every test starts from the seeded demo state and an empty sandbox."""


@pytest.fixture
async def scratch() -> AsyncIterator[str]:
    """The URL of an empty database of its own, for a migration's forwards and backwards."""
    async with scratch_database() as url:
        yield url
