"""The status page says where a paid order meets its diner (outside try: a pickup order's
page said "Ready for pickup" and nowhere where; the address was only in the emails, the phone
only on the rejection page). Pickup: the restaurant's address and its phone as a tel: link,
on the page as opened and on the part its live update fetches; dine-in: the table; delivery:
as it was. Before payment nothing is said yet."""

from __future__ import annotations

import html
import re

import httpx
from arq.connections import ArqRedis

from app.orders import lifecycle
from tests.helpers.orders import make_paid_order, paid_order_via_sandbox, valid_order
from tests.helpers.sandbox import RunningSandbox

LIVE = {"HX-Request": "true"}  # what the open page's htmx sends for a live update
WHERE = re.compile(r'<p class="order-where" id="order-where">(.*?)</p>', re.S)


def where(page: str) -> str:
    found = WHERE.search(page)
    return " ".join(html.unescape(found.group(1)).split()) if found else ""


async def test_a_pickup_order_says_where_to_collect_it_once_paid(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    unpaid = (await client.post("/api/orders", json=await valid_order(client))).json()
    assert where((await client.get(f"/orders/{unpaid['id']}")).text) == ""

    ref = (await paid_order_via_sandbox(client, sandbox)).public_id
    said = ('Collect it at Demo Bistro, Torstraße 1, 10119 Berlin. '
            'Phone: <a href="tel:+49301234567">+49 30 1234567</a>')
    assert where((await client.get(f"/orders/{ref}")).text) == said
    for action in ("accept", "ready"):
        await lifecycle.apply_action(ref, action, actor="kitchen@demo.test", redis=redis)
        live = (await client.get(f"/orders/{ref}/progress", headers=LIVE)).text
        assert where(live) == said, live
    page = (await client.get(f"/orders/{ref}")).text
    assert "Ready for pickup" in page and where(page) == said
    german = where((await client.get(f"/orders/{ref}?lang=de")).text)
    assert german.startswith(
        "Abholung bei Demo Bistro, Torstraße 1, 10119 Berlin. Telefon:"), german
    assert 'href="tel:+49301234567"' in german


async def test_dine_in_names_the_table_and_delivery_is_unchanged(
        client: httpx.AsyncClient) -> None:
    table = await make_paid_order(status="ready", fulfillment="dine_in", table_label="7")
    assert where((await client.get(f"/orders/{table.public_id}")).text) \
        == "We bring it to table 7."
    assert where((await client.get(f"/orders/{table.public_id}?lang=de")).text) \
        == "Wir bringen sie an Tisch 7."
    away = await make_paid_order(status="ready", fulfillment="delivery",
                                 delivery_address="Hauptstraße 5")
    page = (await client.get(f"/orders/{away.public_id}?lang=en")).text
    assert where(page) == "" and "On its way" in page
