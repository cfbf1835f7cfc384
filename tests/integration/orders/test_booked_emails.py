"""A paid order for a later slot is booked, not with the kitchen (it reaches the kitchen at
its slot minus prep): its payment email's subject says it is booked for that slot, on the
restaurant's clock and in the site's "Sat 5 Dec 12:00" style, in English and in German.

Every email that names the slot names it once, in one clear sentence ("Pickup at 12:00 on Sat
5 Dec (CET)"): the payment and card-hold emails said "is booked for Sat 5 Dec 12:00 (CET)."
and then "Pickup at 12:00 on Sat 5 Dec (CET)." (outside try). Read from the bodies the
sandbox's Resend received, text and HTML."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis

from app.infra import i18n
from app.orders.tables import PaidOrder
from app.restaurants.tables import Restaurant
from app.templating import scheduled_text, weekday_date
from tests.helpers.hours import BERLIN
from tests.helpers.orders import earliest_slot, make_paid_order, order_for, pay_and_post_webhook
from tests.helpers.payments import email_received
from tests.helpers.sandbox import RunningSandbox

LANGUAGES = [("en", "is booked for", "with the kitchen"),
             ("de", "ist vorgemerkt für", "in der Küche")]


def visible(email_html: str) -> str:
    """What a mail client shows of an HTML email: its body's text (the head's title, the
    subject, left out)."""
    body = re.sub(r"(?s)<head\b.*?</head>", " ", email_html)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())



def assert_said_once(message: dict[str, Any], slot: datetime, language: str) -> None:
    """The slot's day and the sentence that tells it, each once, in the text and the HTML."""
    local = slot.astimezone(BERLIN)
    with i18n.use(language):
        day = weekday_date(local.date())  # "Sat 5 Dec", "Sa. 5. Dez."
        sentence = scheduled_text(slot, "pickup", "Europe/Berlin")  # "Pickup at 12:00 on …"
    for body in (message["text"], visible(message["html"])):
        assert body.count(sentence) == 1, (message["subject"], body)
        assert body.count(day) == 1, (message["subject"], body)


async def _booked(client: httpx.AsyncClient, slot: datetime, language: str,
                  email: str) -> dict[str, Any]:
    body = await order_for(client, slot)
    body["language"] = language
    body["customer"]["email"] = email
    created = await client.post("/api/orders", json=body)
    assert created.status_code == 201, created.text
    return dict(created.json())


@pytest.mark.parametrize(("language", "booked", "with_kitchen"), LANGUAGES)
async def test_the_emails_of_a_booked_order_say_its_slot_once(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis, language: str,
    booked: str, with_kitchen: str,
) -> None:
    slot = earliest_slot() + timedelta(days=2)
    email = f"booker-{language}@example.com"
    created = await _booked(client, slot, language, email)
    ref = created["id"]
    unpaid = await email_received(redis, sandbox, "order_confirmation", ref, to=email)
    assert_said_once(unpaid, slot, language)

    assert await pay_and_post_webhook(client, sandbox, created) == "created"
    order = await PaidOrder.objects().get(PaidOrder.public_id == ref)
    assert order is not None and order.scheduled_for is not None
    message = await email_received(redis, sandbox, "payment_received", ref, to=email)
    local = slot.astimezone(BERLIN)
    with i18n.use(language):
        when = f"{weekday_date(local.date())} {local:%H:%M} ({local.tzname()})"
    assert f"{booked} {when}" in message["subject"], message["subject"]
    assert f"#{order.ticket_number}" in message["subject"]
    assert_said_once(message, slot, language)
    for part in (message["subject"], message["text"], message["html"]):
        assert with_kitchen not in part


@pytest.mark.parametrize(("language", "booked", "waiting"),
                         [("en", "is booked for", "waiting for the kitchen"),
                          ("de", "ist vorgemerkt für", "wartet auf die Küche")])
async def test_the_card_hold_email_of_a_booked_order_says_its_slot_once(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis, language: str,
    booked: str, waiting: str,
) -> None:
    """Manual capture: the first email after payment says the card is held, and when; its
    subject says booked (it said "is waiting for the kitchen", which the booked order is
    not until its slot comes near)."""
    await Restaurant.update({Restaurant.capture_mode: "manual"}).where(
        Restaurant.slug == "demo")
    slot = earliest_slot() + timedelta(days=2)
    email = f"holder-{language}@example.com"
    created = await _booked(client, slot, language, email)
    assert await pay_and_post_webhook(client, sandbox, created) == "created"
    message = await email_received(redis, sandbox, "payment_authorised", created["id"], to=email)
    assert_said_once(message, slot, language)
    assert booked in message["subject"] and waiting not in message["subject"], \
        message["subject"]


ACCEPTED = [("en", "will be ready around", "in about 25 minutes"),
            ("de", "ist fertig gegen", "in etwa 25 Minuten")]


@pytest.mark.parametrize(("language", "ready", "minutes"), ACCEPTED)
async def test_the_accepted_email_says_its_time_in_one_clause(
    client: httpx.AsyncClient, redis: ArqRedis, sandbox: RunningSandbox, language: str,
    ready: str, minutes: str,
) -> None:
    """"will be ready around 18:05 (CET) (about 25 minutes)": two parentheses in a row
    (outside try). One clause now, "18:05 (CET), in about 25 minutes"; and a booked order
    accepted in time for its slot is promised the slot, without minutes after it (they read
    as if the slot were 25 minutes away)."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    asap = await make_paid_order(status="accepted", prep_minutes=25, language=language,
                                 promised_at=now + timedelta(minutes=25),
                                 customer_email=f"asap-{language}@example.com")
    slot = now + timedelta(days=1)
    slotted = await make_paid_order(status="accepted", prep_minutes=25, language=language,
                                    scheduled_for=slot, promised_at=slot,
                                    customer_email=f"slot-{language}@example.com")
    for order, after in ((asap, f", {minutes}."), (slotted, ".")):
        assert order.promised_at is not None
        local = order.promised_at.astimezone(BERLIN)
        when = f"{local:%H:%M} ({local.tzname()})"
        message = await email_received(redis, sandbox, "order_accepted", order.public_id,
                                       to=str(order.customer_email))
        for body in (message["text"], visible(message["html"])):
            # a tag's edge left as a space by `visible` ("</strong>,") is no space on screen
            said = re.sub(r" ([,.])", r"\1", " ".join(body.split()))
            assert f"{ready} {when}{after}" in said, said
            assert "(about" not in said and "(etwa" not in said, said
    # the status page likewise: the minutes for the order for now, none after the slot
    for order, shown in ((asap, True), (slotted, False)):
        page = " ".join((await client.get(f"/orders/{order.public_id}?lang=en")).text.split())
        assert "Ready around" in page and ("(about 25 minutes)" in page) is shown
