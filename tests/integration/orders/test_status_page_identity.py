"""The diner's status page names the order as the rest of the product does. Before payment
only the reference the diner was given. Once paid, the kitchen's number: on the page, in its
title, and in the reference line, which the live update that brings the number replaces too
(the line sat outside it, so an open page showed "#4" beside "Reference TEMP-… (quote it if you
contact …)", a reference no kitchen screen shows); the receipt email reads the same."""

from __future__ import annotations

import html
import re

import httpx
from arq.connections import ArqRedis

from app.notifications import delivery, service
from app.orders.tables import PaidOrder
from app.orders.temp_store import TempOrderStore
from app.settings import get_settings
from tests.helpers.accounts import login
from tests.helpers.orders import pay_and_post_webhook, valid_order
from tests.helpers.sandbox import RunningSandbox

LIVE = {"HX-Request": "true"}  # what the open page's htmx sends for a live update


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def title_of(page: str) -> str:
    match = re.search(r"<title>(.*?)</title>", page, re.S)
    assert match, page[:300]
    return text_of(match.group(1))


def reference_line(page: str) -> str:
    match = re.search(r'<p class="fine-print order-ref">(.*?)</p>', page, re.S)
    assert match, page[-2000:]
    return text_of(match.group(1))


def order_number(page: str) -> str:
    match = re.search(r'<p class="order-number"[^>]*>(.*?)</p>', page, re.S)
    return text_of(match.group(1)) if match else ""


async def test_unpaid_the_reference_paid_the_kitchens_number_everywhere(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    created = (await client.post("/api/orders", json=await valid_order(client))).json()
    ref = created["id"]
    page = (await client.get(f"/orders/{ref}")).text
    assert title_of(page) == f"Order {ref} · Demo Bistro"
    assert order_number(page) == ""
    assert reference_line(page) == f"Reference {ref} (quote it if you contact Demo Bistro)"

    # Back from Stripe before the webhook: the page is open, waiting for the payment.
    stored = await TempOrderStore(redis, 3600).get(ref)
    assert stored is not None
    returned = f"checkout=success&session_id={stored.checkout_session_id}"
    waiting = (await client.get(f"/orders/{ref}/progress?{returned}", headers=LIVE)).text
    assert "Confirming your payment" in waiting and order_number(waiting) == ""
    assert title_of(waiting) == f"Order {ref} · Demo Bistro"

    assert await pay_and_post_webhook(client, sandbox, created) == "created"
    order = await PaidOrder.objects().get(PaidOrder.public_id == ref)
    assert order is not None
    number = f"#{order.ticket_number}"
    said = f"Order {number} · reference {ref} (quote {number} if you contact Demo Bistro)"

    # The live update the open page swaps in brings the number, the line and the title at once.
    live = (await client.get(f"/orders/{ref}/progress?{returned}", headers=LIVE)).text
    assert order_number(live) == number
    assert reference_line(live) == said
    assert title_of(live) == f"Order {number} · Demo Bistro"
    # The page loaded afresh says the same, once.
    page = (await client.get(f"/orders/{ref}")).text
    assert (order_number(page), reference_line(page)) == (number, said)
    assert title_of(page) == f"Order {number} · Demo Bistro"
    assert page.count('class="fine-print order-ref"') == 1

    # The receipt email and the cook's screen name the order by that number too.
    row = await service.ensure_row(redis, "payment_received", ref)
    assert row is not None
    receipt = await delivery.prepare(redis, get_settings(), row)
    assert isinstance(receipt, delivery.Outgoing), receipt
    assert f"Order {number} · reference {ref}" in receipt.rendered.text
    await login(client, "kitchen@demo.test")
    board = (await client.get("/kitchen/demo")).text
    card = re.search(rf'id="card-{re.escape(ref)}".*?<span class="ticket-no">([^<]+)</span>',
                     board, re.S)
    assert card and card.group(1) == number


async def test_the_diners_note_is_read_back_before_and_after_payment(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    """The note the diner typed for the whole order ("no cutlery, ring the bell") is on the
    status page, as in the emails: the diner checks what the kitchen was told."""
    body = await valid_order(client)
    body["notes"] = "No cutlery <please>, ring the bell"
    created = (await client.post("/api/orders", json=body)).json()
    unpaid = (await client.get(f"/orders/{created['id']}")).text
    assert await pay_and_post_webhook(client, sandbox, created) == "created"
    paid = (await client.get(f"/orders/{created['id']}")).text
    for page in (unpaid, paid):
        assert "Your note: No cutlery &lt;please&gt;, ring the bell" in page


async def test_confirming_is_said_only_for_the_orders_current_checkout(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    """An outside try: a payment failed, the diner got a new link, and the address still held
    the old return (`?checkout=success&session_id=<the failed one>`). A reload said
    "Confirming your payment… Stripe has your payment… nothing else to do", with no Pay
    button, for an order nobody had paid. "Confirming" is for a return from the order's own
    current Checkout Session only; any other shows the order as it is, with its Pay button."""
    created = (await client.post("/api/orders", json=await valid_order(client))).json()
    ref = created["id"]
    stored = await TempOrderStore(redis, 3600).get(ref)
    assert stored is not None and stored.checkout_session_id
    current = stored.checkout_session_id
    for query in (f"checkout=success&session_id={current}",):
        page = (await client.get(f"/orders/{ref}?{query}")).text
        assert "Confirming your payment" in page, query
        assert f"session_id={current}" in page  # the live refresh keeps saying the same
        live = (await client.get(f"/orders/{ref}/progress?{query}", headers=LIVE)).text
        assert "Confirming your payment" in live
    for query in ("checkout=success&session_id=cs_test_an_earlier_failed_one",
                  "checkout=success"):
        page = (await client.get(f"/orders/{ref}?{query}")).text
        assert "Confirming your payment" not in page, query
        assert "Waiting for your payment" in page and "Pay now" in page, query
        live = (await client.get(f"/orders/{ref}/progress?{query}", headers=LIVE)).text
        assert "Confirming your payment" not in live and "Pay now" in live, query
