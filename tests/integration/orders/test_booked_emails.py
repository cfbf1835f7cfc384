"""A paid order for a later slot is booked, not with the kitchen (it reaches the kitchen at
its slot minus prep): its payment email says it is booked for that slot, on the restaurant's
clock and in the site's "Sat 5 Dec 12:00" style, in English and in German."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from arq.connections import ArqRedis

from app.infra import i18n
from app.orders.tables import PaidOrder
from app.settings import get_settings
from app.templating import weekday_date
from tests.helpers.hours import BERLIN
from tests.helpers.orders import earliest_slot, order_for, pay_and_post_webhook
from tests.helpers.sandbox import RunningSandbox
from workers.email_jobs import send_email


@pytest.mark.parametrize(("language", "booked", "with_kitchen"), [
    ("en", "is booked for", "with the kitchen"),
    ("de", "ist vorgemerkt für", "in der Küche"),
])
async def test_the_payment_email_of_a_booked_order_says_when_it_is_booked_for(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis, language: str,
    booked: str, with_kitchen: str,
) -> None:
    slot = earliest_slot() + timedelta(days=2)
    body = await order_for(client, slot)
    body["language"] = language
    body["customer"]["email"] = f"booker-{language}@example.com"
    created = await client.post("/api/orders", json=body)
    assert created.status_code == 201, created.text
    assert await pay_and_post_webhook(client, sandbox, created.json()) == "created"
    ref = created.json()["id"]
    order = await PaidOrder.objects().get(PaidOrder.public_id == ref)
    assert order is not None and order.scheduled_for is not None

    settings = get_settings().model_copy(update={"resend_api_url": sandbox.url})
    await send_email({"redis": redis, "settings": settings, "job_try": 1},
                     "payment_received", ref)
    [message] = sandbox.messages(to=f"booker-{language}@example.com")
    local = slot.astimezone(BERLIN)
    with i18n.use(language):
        when = f"{weekday_date(local.date())} {local:%H:%M} ({local.tzname()})"
    assert f"{booked} {when}" in message["subject"], message["subject"]
    assert f"#{order.ticket_number}" in message["subject"]
    assert f"{booked} {when}." in message["text"], message["text"]
    for part in (message["subject"], message["text"], message["html"]):
        assert with_kitchen not in part
