"""Admin test fixtures: an admin-logged-in client (CSRF token at hand) and row builders."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers.accounts import login
from tests.helpers.admin import ADMIN
from tests.helpers.browser import browser, page  # noqa: F401  (fixtures)


@pytest.fixture
async def admin(client: httpx.AsyncClient) -> tuple[httpx.AsyncClient, str]:
    """The test client logged in as the seeded admin, and the CSRF token for its forms."""
    token = await login(client, ADMIN)
    return client, token


