"""Admin test helpers: the seeded admin, request headers for pages and htmx, discrepancy rows."""

from __future__ import annotations

import json
import secrets
from typing import Any

from app.payments.tables import Discrepancy

ADMIN = "admin@orderpass.test"


HTML = {"accept": "text/html"}


HTMX = {"hx-request": "true"}


async def make_discrepancy(kind: str = "amount_mismatch", *, session_id: str = "",
                           order_ref: str = "", restaurant: int | None = 1,
                           details: dict[str, Any] | None = None) -> int:
    row = Discrepancy(kind=kind, dedupe_key=f"{kind}:{secrets.token_hex(6)}",
                      stripe_checkout_session_id=session_id, order_ref=order_ref,
                      restaurant=restaurant,
                      details=json.dumps(details or {"reason": "test"}))
    await row.save()
    return int(row.id)
