"""Back from ordering, the menu said nothing of the order waiting for payment. It points to
it now (`app/orders/open_orders.py`): the order's status page, the diner's capability, leaves
its id in this browser's `open_orders` cookie; the restaurant's menu links to the newest
one still waiting for payment, and forgets each once it is paid, expired or gone. Another
browser, and another restaurant's menu, are told nothing."""

from __future__ import annotations

import re

import httpx
from arq.connections import ArqRedis
from litestar import Litestar

from tests.helpers.orders import menu, pay_and_post_webhook
from tests.helpers.sandbox import RunningSandbox

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
POINTER = re.compile(r'<p class="notice waiting-order" id="waiting-order">(.*?)</p>', re.S)


async def _place(client: httpx.AsyncClient) -> str:
    """An order through the menu's checkout, as a diner's browser places it: the answer
    leads to its status page, which the browser opens."""
    await client.get("/r/demo")
    soup = next(item for item in (await menu(client))["items"] if not item["groups"])
    placed = await client.post("/r/demo/checkout", follow_redirects=False, data={
        "_csrf_token": client.cookies["csrftoken"], f"qty-{soup['id']}": "2",
        "name": "Ada Lovelace", "email": "ada@example.com", "fulfillment": "pickup"})
    assert placed.status_code == 303, placed.text[:500]
    status_page = await client.get(placed.headers["location"])
    assert status_page.status_code == 200
    return str(placed.headers["location"]).rsplit("/", 1)[1]


async def _pointer(client: httpx.AsyncClient, slug: str = "demo",
                   headers: dict[str, str] | None = None) -> str:
    page = await client.get(f"/r/{slug}", headers=headers or {})
    assert page.status_code == 200
    found = POINTER.search(page.text)
    return " ".join(found.group(1).split()) if found else ""


async def test_the_menu_points_to_the_order_until_it_is_paid(
        client: httpx.AsyncClient, app: Litestar, sandbox: RunningSandbox) -> None:
    order_id = await _place(client)
    said = await _pointer(client)
    assert said == ('You have an order waiting for payment (€13.00). '
                    f'<a href="/orders/{order_id}">View your order</a>')
    assert "Sie haben eine Bestellung" in await _pointer(client, headers=GERMAN)
    assert await _pointer(client, "demo-2") == ""  # another restaurant's menu
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as stranger:
        assert await _pointer(stranger) == ""  # another diner's browser
    created = (await client.get(f"/api/orders/{order_id}")).json()
    assert await pay_and_post_webhook(client, sandbox, created) == "created"
    page = await client.get("/r/demo")
    assert POINTER.search(page.text) is None
    # the cookie forgets it: nothing left to read on the next visit
    assert 'open_orders=""' in page.headers.get("set-cookie", "") \
        or "open_orders=;" in page.headers.get("set-cookie", ""), page.headers
    assert "open_orders" not in client.cookies
    for value in ("junk", "TEMP-nosuchorder0000", "../../etc", "TEMP-" + "a" * 4000):
        client.cookies.set("open_orders", value)  # written by hand: nothing shown or broken
        assert await _pointer(client) == ""


async def test_an_expired_order_is_no_longer_pointed_to(client: httpx.AsyncClient,
                                                        redis: ArqRedis) -> None:
    from workers.order_jobs import expire_payment_link

    order_id = await _place(client)
    assert order_id in await _pointer(client)
    session_id = (await client.get(f"/api/orders/{order_id}")).json()[
        "payment_url"].rsplit("/", 1)[1]
    assert await expire_payment_link({"redis": redis}, order_id, session_id) == "expired"
    assert await _pointer(client) == ""


async def test_the_newest_of_two_is_pointed_to_and_the_other_stays_reachable(
        client: httpx.AsyncClient) -> None:
    first = await _place(client)
    second = await _place(client)
    assert f'href="/orders/{second}"' in await _pointer(client)
    await client.get(f"/orders/{first}")  # opened again: it is the newest seen
    assert f'href="/orders/{first}"' in await _pointer(client)
