"""Integration suite: the shared fixtures (tests/helpers/fixtures.py) on the session's
Postgres and Redis."""

from __future__ import annotations

import pytest

from tests.helpers.infra import start_servers

start_servers()


@pytest.fixture(autouse=True)
async def _fresh_state(clean_state: None) -> None:
    """Every test starts from the seeded demo state and an empty sandbox."""
