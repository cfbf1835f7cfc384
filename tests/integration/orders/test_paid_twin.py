"""A diner who went back and forth placed the same dishes twice and paid the later order: the
older one kept asking to be paid, on its page ("Waiting for your payment · Pay now") and from
the menu ("You have an order waiting for payment", outside try). Read from this browser's
`open_orders` cookie and the orders alone (app/orders/open_orders.py): the menu no longer
points to the older order, and its page says the same dishes were paid since, with the pay
button kept but not the page's main action. A browser without the cookie, and an order of
other dishes, are told as before."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import httpx
from litestar import Litestar

from app.orders.tables import PaidOrder
from tests.helpers.orders import menu, pay_and_post_webhook
from tests.helpers.sandbox import RunningSandbox

LIVE = {"HX-Request": "true"}  # what the open page's htmx sends for a live update
POINTER = re.compile(r'<p class="notice waiting-order" id="waiting-order">(.*?)</p>', re.S)
TWIN = re.compile(r'<p class="notice paid-twin" id="paid-twin" role="note">(.*?)</p>', re.S)
PAY = re.compile(r'<a class="([^"]*pay-button[^"]*)"')


async def _place(client: httpx.AsyncClient, quantity: int = 2) -> str:
    """An order of soup through the menu's checkout; the browser opens its status page."""
    await client.get("/r/demo")
    soup = next(item for item in (await menu(client))["items"] if not item["groups"])
    placed = await client.post("/r/demo/checkout", follow_redirects=False, data={
        "_csrf_token": client.cookies["csrftoken"], f"qty-{soup['id']}": str(quantity),
        "name": "Ada Lovelace", "email": "ada@example.com", "fulfillment": "pickup"})
    assert placed.status_code == 303, placed.text[:500]
    assert (await client.get(placed.headers["location"])).status_code == 200
    return str(placed.headers["location"]).rsplit("/", 1)[1]


def _said(pattern: re.Pattern[str], page: str) -> str:
    found = pattern.search(page)
    return " ".join(found.group(1).split()) if found else ""


async def test_the_older_unpaid_twin_is_not_pressed_for_payment(
        client: httpx.AsyncClient, app: Litestar, sandbox: RunningSandbox) -> None:
    first = await _place(client)
    second = await _place(client)  # back, the same dishes again
    created = (await client.get(f"/api/orders/{second}")).json()
    assert await pay_and_post_webhook(client, sandbox, created) == "created"
    await client.get(f"/orders/{second}?checkout=success")  # back from Stripe
    paid = await PaidOrder.objects().get(PaidOrder.public_id == second)
    assert paid is not None and paid.paid_at is not None
    at = paid.paid_at.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M")

    menu_page = (await client.get("/r/demo")).text
    assert POINTER.search(menu_page) is None, _said(POINTER, menu_page)

    said = (f"You have since paid order #{paid.ticket_number} with the same dishes (at {at}). "
            "Pay this one only if you want a second order. "
            f'<a href="/orders/{second}">See order #{paid.ticket_number}</a>')
    for page in ((await client.get(f"/orders/{first}")).text,
                 (await client.get(f"/orders/{first}/progress", headers=LIVE)).text):
        assert _said(TWIN, page) == said
        assert "Waiting for your payment" in page
        [button] = PAY.findall(page)  # still there to pay, not the main action
        assert "secondary" in button.split() and "primary-action" not in button.split()
    german = (await client.get(f"/orders/{first}?lang=de")).text
    assert f"Sie haben inzwischen Bestellung #{paid.ticket_number}" in _said(TWIN, german)
    await client.get(f"/orders/{first}?lang=en")

    # another browser, holding only the link: the page as before
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as stranger:
        page = (await stranger.get(f"/orders/{first}")).text
        assert _said(TWIN, page) == "" and "primary-action" in PAY.findall(page)[0]

    # other dishes: an order of its own, pointed to and pressed for payment as before
    other = await _place(client, quantity=3)
    assert f'href="/orders/{other}"' in _said(POINTER, (await client.get("/r/demo")).text)
    page = (await client.get(f"/orders/{other}")).text
    assert _said(TWIN, page) == "" and "primary-action" in PAY.findall(page)[0]
    assert _said(TWIN, (await client.get(f"/orders/{first}")).text) == said  # still told
