"""The payment email is a receipt: items, VAT per rate, tip, total, payment date, order number
and the seller's legal details as they were when paid; rendered the same bytes every time (a
retried send must match the first under Resend's idempotency key)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import httpx
from arq.connections import ArqRedis

from app.notifications import delivery, service
from app.orders.tables import PaidOrder
from app.restaurants.tables import Restaurant
from app.settings import get_settings
from tests.helpers.orders import menu, pay_and_post_webhook
from tests.helpers.sandbox import RunningSandbox


async def paid_with_tip(client: httpx.AsyncClient, sandbox: RunningSandbox) -> PaidOrder:
    items = {item["name"]: item["id"] for item in (await menu(client))["items"]}
    created = (await client.post("/api/orders", json={
        "restaurant": "demo",
        "items": [{"menu_item_id": items["Margherita pizza"], "quantity": 2},
                  {"menu_item_id": items["Lemonade"], "quantity": 1}],
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "fulfillment": "pickup", "tip": {"percent": 10}})).json()
    assert await pay_and_post_webhook(client, sandbox, created) == "created"
    order = await PaidOrder.objects().get(PaidOrder.public_id == created["id"])
    assert order is not None
    return order


async def receipt(redis: ArqRedis, ref: str) -> delivery.Outgoing:
    row = await service.ensure_row(redis, "payment_received", ref)
    assert row is not None
    prepared = await delivery.prepare(redis, get_settings(), row)
    assert isinstance(prepared, delivery.Outgoing), prepared
    return prepared


async def test_the_payment_email_is_a_receipt(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    order = await paid_with_tip(client, sandbox)
    first = (await receipt(redis, order.public_id)).rendered
    text, html = first.text, first.html
    local = order.paid_at.astimezone(ZoneInfo("Europe/Berlin"))
    paid = f"{local:%H:%M} on {local.day} {local:%b %Y}"  # "18:05 on 2 Dec 2026"
    for needed in ("RECEIPT", f"Order #{order.ticket_number}", order.public_id,
                   "2 x Margherita pizza  €22.00", "1 x Lemonade  €4.50",
                   "Net: €24.34", "VAT 7%: €1.44", "VAT 19%: €0.72", "Items incl. VAT: €26.50",
                   "Tip (no VAT): €2.65", "Total: €29.15", "Sold by: Demo Bistro GmbH",
                   "Torstraße 1, 10119 Berlin, Germany", "VAT ID / tax number: DE123456789"):
        assert needed in text, needed
    assert f"Paid: {paid} (CET)" in text  # on the restaurant's clock
    # The VAT table: each rate with its net, VAT and gross, and the sums.
    table = [line.split() for line in text.splitlines()]
    assert ["VAT", "rate", "Net", "VAT", "Gross"] in table
    assert ["7%", "€20.56", "€1.44", "€22.00"] in table
    assert ["19%", "€3.78", "€0.72", "€4.50"] in table
    assert ["Sum", "€24.34", "€2.16", "€26.50"] in table
    for needed in ("VAT 7%", "€1.44", "€0.72", "Tip (no VAT)", "€2.65", "€29.15",
                   "Demo Bistro GmbH", "DE123456789", 'data-testid="vat-table"'):
        assert needed in html, needed

    # The owner edits the legal details later: the receipt of this order does not change,
    # byte for byte (a retry sends what the first try sent).
    await Restaurant.update({Restaurant.legal_name: "Someone Else AG",
                             Restaurant.tax_id: "DE000000000",
                             Restaurant.legal_address: "Elsewhere 9"}).where(
        Restaurant.slug == "demo")
    again = (await receipt(redis, order.public_id)).rendered
    assert (again.subject, again.html, again.text) == (first.subject, first.html, first.text)
