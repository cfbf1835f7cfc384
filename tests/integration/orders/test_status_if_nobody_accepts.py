"""The status page of an order waiting for the kitchen says what happens if nobody accepts it:
cancelled after the restaurant's auto-reject time, refunded in full, or for a card hold not
charged (outside try: the diner was told nothing); and a rejected order's refund says when it
shows on the statement, as the refund emails do."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx

from app.restaurants.tables import Restaurant
from tests.helpers.orders import make_paid_order


def note(html: str) -> str:
    found = re.search(r'<p class="wait-note" id="auto-reject-note">(.*?)</p>', html, re.S)
    return " ".join(found.group(1).split()) if found else ""


async def test_a_paid_order_says_it_is_cancelled_and_refunded_after_the_restaurants_time(
        client: httpx.AsyncClient) -> None:
    await Restaurant.update({Restaurant.auto_reject_minutes: 12}).where(
        Restaurant.slug == "demo")
    order = await make_paid_order()
    page = (await client.get(f"/orders/{order.public_id}?lang=en")).text
    assert "Payment received: waiting for the kitchen to accept" in " ".join(page.split())
    assert note(page) == ("If the kitchen does not confirm within 12 minutes, your order is "
                          "cancelled and refunded in full.")
    german = (await client.get(f"/orders/{order.public_id}?lang=de")).text
    assert note(german) == ("Bestätigt die Küche nicht innerhalb von 12 Minuten, wird Ihre "
                            "Bestellung storniert und vollständig erstattet.")


async def test_a_card_hold_says_the_card_is_not_charged(client: httpx.AsyncClient) -> None:
    order = await make_paid_order(capture_mode="manual")
    page = (await client.get(f"/orders/{order.public_id}?lang=en")).text
    assert note(page) == ("If the kitchen does not confirm within 10 minutes, your order is "
                          "cancelled and your card is not charged.")


async def test_no_timer_or_an_accepted_order_says_nothing_of_it(
        client: httpx.AsyncClient) -> None:
    accepted = await make_paid_order(status="accepted")
    assert 'id="auto-reject-note"' not in (await client.get(f"/orders/{accepted.public_id}")).text
    await Restaurant.update({Restaurant.auto_reject_minutes: 0}).where(
        Restaurant.slug == "demo")
    waiting = await make_paid_order()
    assert 'id="auto-reject-note"' not in (await client.get(f"/orders/{waiting.public_id}")).text


async def test_a_rejected_and_refunded_order_says_when_the_refund_shows(
        client: httpx.AsyncClient) -> None:
    order = await make_paid_order(status="refunded", rejected_at=datetime.now(UTC),
                                  reject_reason="Too busy right now")
    page = " ".join((await client.get(f"/orders/{order.public_id}?lang=en")).text.split())
    assert ("Your payment has been refunded in full. It may take a few days to show on your "
            "statement.") in page
    german = " ".join((await client.get(f"/orders/{order.public_id}?lang=de")).text.split())
    assert ("Ihre Zahlung wurde vollständig erstattet. Es kann einige Tage dauern, bis dies "
            "auf Ihrem Kontoauszug erscheint.") in german
