"""Admin test fixtures: an admin-logged-in client (CSRF token at hand) and row builders."""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx
import pytest

from app.payments.tables import Discrepancy
from tests.helpers.browser import browser, page  # noqa: F401  (fixtures)
from tests.integration.kitchen.conftest import login

ADMIN = "admin@orderpass.test"
HTML = {"accept": "text/html"}
HTMX = {"hx-request": "true"}


@pytest.fixture
async def admin(client: httpx.AsyncClient) -> tuple[httpx.AsyncClient, str]:
    """The test client logged in as the seeded admin, and the CSRF token for its forms."""
    token = await login(client, ADMIN)
    return client, token


async def make_discrepancy(kind: str = "amount_mismatch", *, session_id: str = "",
                           order_ref: str = "", restaurant: int | None = 1,
                           details: dict[str, Any] | None = None) -> int:
    row = Discrepancy(kind=kind, dedupe_key=f"{kind}:{secrets.token_hex(6)}",
                      stripe_checkout_session_id=session_id, order_ref=order_ref,
                      restaurant=restaurant,
                      details=json.dumps(details or {"reason": "test"}))
    await row.save()
    return int(row.id)
