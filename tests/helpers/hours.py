"""Opening hours for tests: close a demo restaurant now (it opens again a few hours ahead),
and the slots a diner could choose."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.restaurants import hours
from app.restaurants.tables import Restaurant

BERLIN = ZoneInfo("Europe/Berlin")  # both demo restaurants' time zone


def next_slot(after: datetime) -> datetime:
    """The first 15-minute slot at or after `after` (UTC)."""
    step = hours.SLOT_MINUTES * 60
    return datetime.fromtimestamp(-(-int(after.timestamp()) // step) * step, UTC)


async def set_hours(slug: str, every_day: str) -> None:
    """The same hours every day, written as an owner would ("11:30-14:30, 17:30-22:00")."""
    rows = hours.to_rows(item for day in range(7) for item in hours.parse_day(day, every_day))
    await Restaurant.update({Restaurant.weekly_hours: json.dumps(rows)}).where(
        Restaurant.slug == slug)


async def close_now(slug: str = "demo", opens_in: timedelta = timedelta(hours=3)
                    ) -> datetime:
    """Open one hour a day, starting `opens_in` (rounded up to a slot) from now: closed now.
    Returns the next opening (UTC)."""
    opening = next_slot(datetime.now(UTC) + opens_in)
    local = opening.astimezone(BERLIN)
    closing = local + timedelta(hours=1)
    await set_hours(slug, f"{local:%H:%M}-{closing:%H:%M}")
    return opening


def pay_after_first_reading(monkeypatch: Any, client: Any, sandbox: Any,
                            order: dict[str, Any]) -> None:
    """The closure service's orders, read as before, but `order` (as `POST /api/orders`
    answered it) is paid just after the first reading: a payment landing between the
    check and the save."""
    from app.manage import hours as hours_service
    from tests.helpers.orders import pay_and_post_webhook

    reading = hours_service.orders_inside
    readings = 0

    async def paid_just_after(*args: Any, **kwargs: Any) -> list[Any]:
        nonlocal readings
        found = await reading(*args, **kwargs)
        readings += 1
        if readings == 1:  # the diner's payment lands right after the check
            assert await pay_and_post_webhook(client, sandbox, order) == "created"
        return found

    monkeypatch.setattr(hours_service, "orders_inside", paid_just_after)
