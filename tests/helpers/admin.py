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


# The owner's settings form as the demo restaurant fills it (a test changes one field).
DEMO_SETTINGS = {"name": "Demo Bistro", "timezone": "Europe/Berlin", "phone": "+49 30 1234567",
                 "email": "hello@demo.test", "address": "Torstraße 1, 10119 Berlin",
                 "default_prep_minutes": "15", "auto_reject_minutes": "10",
                 "capture_mode": "automatic", "accepting_orders": "on", "tax_settings": "1",
                 "tax_mode": "included", "default_tax_rate": "7", "legal_name": "Demo Bistro GmbH",
                 "legal_address": "Torstraße 1, 10119 Berlin, Germany", "tax_id": "DE123456789"}
