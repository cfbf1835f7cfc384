"""Test orders: through the public API (`valid_order` bodies, `submit`, `submit_and_pay`,
`pay_without_webhook`), inserted directly (`make_paid_order`: PaidOrder + OrderItems, no
Stripe, for read-side tests), or the real way (`paid_order_via_sandbox`: intake, sandbox
payment, signed webhook), for anything that moves money."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from arq.connections import ArqRedis
from redis.asyncio import Redis

from app.live.feed import publish_order_event
from app.orders.tables import OrderItem, PaidOrder
from app.restaurants.opening import PAY_WINDOW_MINUTES
from app.restaurants.tables import MenuItem, Restaurant
from tests.helpers.hours import BERLIN, next_slot
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.stripe_events import paid_events, sandbox_events, signed_request

# The longest phone a diner may give (40 characters, the column's length), with no more
# digits than a phone number has (app/restaurants/editing.py `phone_problem`).
LONGEST_PHONE = "+49 (30) - 1234 - 5678 - 90 / (1) / (  )"
DEFAULT_ITEMS = [("Margherita pizza", 1100, 2, "no basil"), ("Lemonade", 450, 1, "")]


async def make_paid_order(restaurant_slug: str = "demo", status: str = "paid",
                          items: list[tuple[str, int, int, str]] | None = None,
                          line_allergies: Mapping[str, str] | None = None,
                          link_menu: bool = False, **fields: Any) -> PaidOrder:
    """A paid order of `restaurant_slug` in `status`; `fields` override any PaidOrder column.
    `items` are (name, unit amount, quantity, note); `line_allergies` the diner's allergy flag
    of a line, by its name; `link_menu` ties each line to the restaurant's dish of its name (its
    allergens, its sold-out state), as an order placed from the menu is."""
    restaurant = await Restaurant.objects().get(Restaurant.slug == restaurant_slug)
    assert restaurant is not None, restaurant_slug
    ticket = restaurant.last_ticket_number + 1
    await Restaurant.update({Restaurant.last_ticket_number: ticket}).where(
        Restaurant.slug == restaurant_slug)
    now = datetime.now(UTC)
    lines = items if items is not None else DEFAULT_ITEMS
    ref = "TEMP-" + secrets.token_hex(12)
    values: dict[str, Any] = {
        "public_id": ref, "restaurant": restaurant.id, "ticket_number": ticket,
        "stripe_checkout_session_id": "cs_test_" + secrets.token_hex(8),
        "stripe_payment_intent_id": "pi_test_" + secrets.token_hex(8),
        "status": status, "customer_name": "Ada Lovelace", "customer_email": "ada@example.test",
        "fulfillment": "pickup", "currency": restaurant.currency,
        "total_amount": sum(amount * qty for _, amount, qty, _ in lines),
        "capture_mode": restaurant.capture_mode,
        "submitted_at": now - timedelta(minutes=1), "paid_at": now, "updated_at": now,
    }
    values["amount_charged"] = values["total_amount"]
    values["currency_charged"] = values["currency"]
    if status in ("accepted", "preparing", "ready", "completed"):
        values.setdefault("accepted_at", now)
        values.setdefault("prep_minutes", 15)
        values.setdefault("promised_at", now + timedelta(minutes=15))
    if status == "completed":
        values["completed_at"] = now
    values.update(fields)
    order = PaidOrder(**values)
    await order.save()
    dishes: dict[str, int] = {}
    if link_menu:
        dishes = {row["name"]: row["id"] for row in await MenuItem.select(
            MenuItem.id, MenuItem.name).where(MenuItem.restaurant == restaurant.id)}
    for name, amount, quantity, notes in lines:
        await OrderItem(paid_order=order.id, name=name, unit_amount=amount, quantity=quantity,
                        notes=notes, allergy=(line_allergies or {}).get(name, ""),
                        menu_item=dishes.get(name)).save()
    fresh = await PaidOrder.objects().get(PaidOrder.public_id == ref)
    assert fresh is not None
    return fresh


async def paid_order_via_sandbox(client: httpx.AsyncClient, sandbox: RunningSandbox, *,
                                 slug: str = "demo",
                                 capture_mode: str | None = None) -> PaidOrder:
    """A real paid order: submitted with `POST /api/orders`, paid on the sandbox's Stripe and
    recorded by the app's own webhook handler from the signed `checkout.session.completed`.
    `capture_mode` ("manual" | "automatic"), when given, is set on the restaurant first (the
    Checkout Session then authorises only, and accepting the order captures)."""
    if capture_mode is not None:
        await Restaurant.update({Restaurant.capture_mode: capture_mode}).where(
            Restaurant.slug == slug)
    menu = (await client.get(f"/api/restaurants/{slug}/menu")).json()["items"]
    response = await client.post("/api/orders", json={
        "restaurant": slug,
        "items": [{"menu_item_id": menu[0]["id"], "quantity": 2, "notes": "extra hot"},
                  {"menu_item_id": menu[2]["id"], "quantity": 1}],
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "fulfillment": "pickup",
    })
    assert response.status_code == 201, response.text
    created = response.json()
    # `duplicate_event`: a web process the sandbox delivers to (an e2e test's) recorded the
    # same event first; either way it is recorded once, which the read below checks
    assert await pay_and_post_webhook(client, sandbox, created) in ("created", "duplicate_event")
    order = await PaidOrder.objects().get(PaidOrder.public_id == created["id"])
    assert order is not None and order.stripe_payment_intent_id
    return order


async def pay_and_post_webhook(client: httpx.AsyncClient, sandbox: RunningSandbox,
                               created: dict[str, Any]) -> str:
    """Pay a submitted order on the sandbox and post its signed `checkout.session.completed`
    to the app; returns the webhook's result (`created`, `duplicate_order`, …)."""
    session_id = created["payment_url"].rsplit("/", 1)[1]
    sandbox.pay(session_id)
    [event] = sandbox_events(sandbox.url, session_id=session_id,
                             types={"checkout.session.completed"})
    payload, headers = signed_request(event)
    response = await client.post("/webhooks/stripe", content=payload, headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["result"])


async def menu(client: httpx.AsyncClient, slug: str = "demo") -> dict[str, Any]:
    response = await client.get(f"/api/restaurants/{slug}/menu")
    assert response.status_code == 200
    return response.json()


async def valid_order(client: httpx.AsyncClient, slug: str = "demo") -> dict[str, Any]:
    items = (await menu(client, slug))["items"]
    return {
        "restaurant": slug,
        "items": [{"menu_item_id": items[0]["id"], "quantity": 2, "notes": "extra hot"},
                  {"menu_item_id": items[2]["id"], "quantity": 1}],
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com",
                     "phone": "+44 20 7946 0000"},
        "fulfillment": "pickup",
        "notes": "ring the bell",
    }


async def temp_keys(redis: ArqRedis) -> list[bytes]:
    return [key for key in await redis.keys("orderpass:temp:*")
            if not key.endswith(b"link-expiry")]


async def submit(client: httpx.AsyncClient) -> tuple[str, str]:
    created = (await client.post("/api/orders", json=await valid_order(client))).json()
    return created["id"], created["payment_url"].rsplit("/", 1)[1]


async def submit_and_pay(client: httpx.AsyncClient, sandbox: RunningSandbox
                         ) -> tuple[str, str, dict[str, Any]]:
    """An order paid in the sandbox: (order id, session id, its completed event)."""
    order_id, session_id = await submit(client)
    sandbox.pay(session_id)
    [event] = paid_events(sandbox, session_id)
    return order_id, session_id, event


async def pay_without_webhook(client: httpx.AsyncClient, sandbox: RunningSandbox
                              ) -> tuple[str, str]:
    """An order through the public API, paid on the sandbox (no webhook reaches the app)."""
    created = await client.post("/api/orders", json=await valid_order(client))
    assert created.status_code == 201, created.text
    body = created.json()
    session_id = body["payment_url"].rsplit("/", 1)[1]
    sandbox.pay(session_id)
    return body["id"], session_id


PREP = 15  # the demo bistro's default prep minutes


async def order_for(client: httpx.AsyncClient, slot: datetime | str | None) -> dict[str, Any]:
    """A valid order body for `slot` (None: as soon as possible), on Berlin's clock."""
    body = await valid_order(client)
    if slot is not None:
        body["scheduled_for"] = slot if isinstance(slot, str) else slot.astimezone(
            BERLIN).isoformat()
    return body


def earliest_slot() -> datetime:
    """The first slot a diner may book now: after prep and the payment window."""
    return next_slot(datetime.now(UTC) + timedelta(minutes=PREP + PAY_WINDOW_MINUTES + 1))


async def announce_paid(order: PaidOrder) -> None:
    """Publish `order.paid` for an order made with `make_paid_order`, as the webhook does,
    from a connection of its own (the test's servers hear it over Redis)."""
    redis = Redis.from_url(os.environ["REDIS_URL"])
    try:
        await publish_order_event(redis, order.restaurant, order.public_id, "order.paid")
    finally:
        await redis.aclose()


async def paid_dishes(client: httpx.AsyncClient, sandbox: RunningSandbox,
                      lines: list[tuple[str, int]], tip: dict[str, int] | None = None) -> str:
    """A demo order of these dishes (name, quantity), with `tip`, paid on the sandbox and
    its webhook posted; its reference."""
    items = {item["name"]: item["id"] for item in (await menu(client))["items"]}
    body: dict[str, Any] = {
        "restaurant": "demo", "customer": {"name": "Ada", "email": "ada@example.com"},
        "fulfillment": "pickup",
        "items": [{"menu_item_id": items[name], "quantity": quantity}
                  for name, quantity in lines]}
    if tip:
        body["tip"] = tip
    created = (await client.post("/api/orders", json=body)).json()
    assert await pay_and_post_webhook(client, sandbox, created) == "created"
    return str(created["id"])


def session_of(created: dict[str, Any]) -> str:
    """The Checkout Session of an order `POST /api/orders` answered (its payment URL's end)."""
    assert created["payment_url"], created
    return str(created["payment_url"]).rsplit("/", 1)[1]


def back_from_stripe(created: dict[str, Any]) -> str:
    """The status page as Stripe's success URL names it, for an order the API answered."""
    return f"/orders/{created['id']}?checkout=success&session_id={session_of(created)}"
