"""Stripe's largest charge: an amount of at most eight digits in the currency's minor unit
(99,999,999: €999,999.99, ¥99,999,999), twelve for IDR (docs.stripe.com/currencies, "Minimum
and maximum charge amounts"). An order above it could never be paid: Stripe refuses its
payment link for good. Intake refuses it (422, naming the limit and what to do) on the total
charged, the tip included, with nothing stored and no email; the menu page's form says so in
the diner's language. Exactly the maximum is taken."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis

from app.notifications.tables import EmailMessage
from app.restaurants.tables import MenuItem, Restaurant
from tests.helpers.orders import menu, temp_keys

GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}


async def _dish(client: httpx.AsyncClient, price: int, currency: str = "eur") -> int:
    """A dish at `price` (minor units) on the demo menu, the restaurant in `currency`."""
    await Restaurant.update({Restaurant.currency: currency}).where(Restaurant.slug == "demo")
    restaurant = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert restaurant is not None
    await MenuItem.insert(MenuItem(restaurant=restaurant.id, category="Catering",
                                   name="Banquet", price_amount=price, position=99))
    [dish] = [item for item in (await menu(client))["items"] if item["name"] == "Banquet"]
    return int(dish["id"])


def _order(dish: int, quantity: int = 1, **extra: Any) -> dict[str, Any]:
    return {"restaurant": "demo", "items": [{"menu_item_id": dish, "quantity": quantity}],
            "customer": {"name": "Ada", "email": "ada@example.com"}, "fulfillment": "pickup",
            **extra}


async def _nothing_stored(redis: ArqRedis) -> None:
    assert await temp_keys(redis) == []
    assert await EmailMessage.count() == 0
    assert not [job for job in await redis.queued_jobs()
                if job.job_id and job.job_id.startswith("email:")]


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_an_order_above_the_maximum_is_refused_naming_it(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    dish = await _dish(client, 10_000_000)  # €100,000.00
    response = await client.post("/api/orders", json=_order(dish, 10))
    assert response.status_code == 422, response.text
    [error] = response.json()["extra"]
    assert error == {"key": "total", "message": (
        "the order totals €1,000,000.00; card payments can be at most €999,999.99: split it "
        "into smaller orders")}, error
    await _nothing_stored(redis)


async def test_exactly_the_maximum_is_taken_and_a_tip_past_it_is_not(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    dish = await _dish(client, 99_999_999)
    refused = await client.post("/api/orders", json=_order(dish, tip={"amount": 1}))
    assert refused.status_code == 422, refused.text
    assert "card payments can be at most €999,999.99" in refused.text
    await _nothing_stored(redis)
    taken = await client.post("/api/orders", json=_order(dish))
    assert taken.status_code == 201, taken.text
    assert taken.json()["total"] == {"amount": 99_999_999, "currency": "eur"}
    assert taken.json()["payment_url"]


async def test_forints_a_million_is_refused(client: httpx.AsyncClient,
                                            redis: ArqRedis) -> None:
    """HUF is two-decimal in Stripe's API: 1,000,000 Ft is 100000000, nine digits. Forints
    are shown whole, so the limit named is 999,999 Ft (999,999.99 would read 1,000,000)."""
    dish = await _dish(client, 100_000_000, "huf")
    response = await client.post("/api/orders", json=_order(dish))
    assert response.status_code == 422, response.text
    [error] = response.json()["extra"]
    assert error["message"] == ("the order totals HUF1,000,000; card payments can be at most "
                                "HUF999,999: split it into smaller orders"), error
    await _nothing_stored(redis)
    await MenuItem.update({MenuItem.price_amount: 99_999_900}).where(
        MenuItem.name == "Banquet")
    assert (await client.post("/api/orders", json=_order(dish))).status_code == 201


async def test_yen_take_eight_digits_too(client: httpx.AsyncClient, redis: ArqRedis) -> None:
    dish = await _dish(client, 50_000_000, "jpy")  # ¥50,000,000
    refused = await client.post("/api/orders", json=_order(dish, 2))
    assert refused.status_code == 422 and "99,999,999" in refused.text, refused.text
    await _nothing_stored(redis)
    assert (await client.post("/api/orders", json=_order(dish))).status_code == 201


async def test_rupiah_go_past_eight_digits_up_to_what_an_order_row_holds(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    """Stripe takes twelve digits in IDR; a paid order's amounts are Postgres `integer`, so
    intake stops at 2,147,483,647 (a payment Stripe took but the webhook could not record
    would be lost). Rupiah are shown whole: the limit is Rp 21,474,836."""
    from app.payments.charge_limits import largest_order, maximum_charge

    assert maximum_charge("idr") == 999_999_999_999
    assert largest_order("idr") == 2_147_483_600 and largest_order("eur") == 99_999_999
    dish = await _dish(client, 1_000_000_000, "idr")  # Rp 10,000,000.00: ten digits
    taken = await client.post("/api/orders", json=_order(dish, 2))
    assert taken.status_code == 201, taken.text
    assert taken.json()["payment_url"]
    refused = await client.post("/api/orders", json=_order(dish, 3))
    assert refused.status_code == 422 and "can be at most" in refused.text, refused.text


@pytest.mark.parametrize(("headers", "said"), [
    ({}, "The order totals €1,000,000.00; card payments can be at most €999,999.99: split it "
         "into smaller orders."),
    (GERMAN, "Die Bestellung beträgt 1.000.000,00 €; Kartenzahlungen können höchstens "
             "999.999,99 € betragen: Bitte teilen Sie sie in kleinere Bestellungen auf."),
])
async def test_the_menu_form_shows_it_on_the_total(
        client: httpx.AsyncClient, redis: ArqRedis, headers: dict[str, str], said: str
) -> None:
    dish = await _dish(client, 10_000_000)
    await client.get("/r/demo", headers=headers)
    response = await client.post("/r/demo/checkout", headers=headers, data={
        "_csrf_token": client.cookies["csrftoken"], f"qty-{dish}": "10", "name": "Ada",
        "email": "ada@example.com", "fulfillment": "pickup"}, follow_redirects=False)
    assert response.status_code == 422, response.text
    shown = text_of(response.text).replace("\xa0", " ")
    assert said in shown, shown
    await _nothing_stored(redis)


async def test_an_order_taken_above_it_before_is_not_tried_again(
        client: httpx.AsyncClient, redis: ArqRedis, monkeypatch: pytest.MonkeyPatch) -> None:
    """An order intake took before it refused these (its link failed for good): the diner's
    "Try again" says why and sends them back to the menu, instead of failing forever."""
    from app.orders import intake

    dish = await _dish(client, 10_000_000)
    with monkeypatch.context() as before:
        before.setattr(intake, "largest_order", lambda currency: 2**31 - 1)
        taken = await client.post("/api/orders", json=_order(dish, 10))
    assert taken.status_code == 202 and taken.json()["status"] == "link_failed", taken.text
    ref = taken.json()["id"]
    # no link will follow: the answer does not promise one (it said "will follow by email")
    assert taken.json()["message"].startswith(
        "The payment link could not be made, so this order cannot be paid; nothing was "
        "charged."), taken.json()
    await client.get(f"/orders/{ref}")
    again = await client.post(f"/orders/{ref}/payment-link",
                              headers={"x-csrftoken": client.cookies["csrftoken"]})
    assert again.status_code == 409, again.text
    shown = text_of(again.text)
    assert ("The order totals €1,000,000.00; card payments can be at most €999,999.99: split "
            "it into smaller orders.") in shown, shown
    assert 'href="/r/demo"' in again.text
    assert (await client.get(f"/api/orders/{ref}")).json()["status"] == "link_failed"
