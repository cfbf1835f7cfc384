"""Each restaurant offers only the fulfilment modes it chose (pickup, delivery, dine-in): the
menu API lists them, the checkout offers only them (one mode: no choice, just said), and
intake refuses any other, through the API (4xx naming `fulfillment` and the modes offered)
and the HTML form (422, the message by the field, in the diner's language), nothing kept.
An order already paid keeps its mode when the restaurant turns that mode off."""

from __future__ import annotations

import httpx
from arq.connections import ArqRedis

from app.orders.tables import PaidOrder
from app.restaurants.tables import Restaurant
from tests.helpers.orders import menu, pay_and_post_webhook, temp_keys, valid_order
from tests.helpers.payments import post_event, sessions_of
from tests.helpers.sandbox import RunningSandbox, stripe_client
from tests.helpers.stripe_events import sandbox_events

ALL = ["pickup", "delivery", "dine_in"]
ADDRESS = "Torstr. 5, 10119 Berlin"
GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}


async def _offer(*modes: str, slug: str = "demo") -> None:
    await Restaurant.update({Restaurant.fulfillment_modes: list(modes)}).where(
        Restaurant.slug == slug)


async def test_the_menu_api_lists_the_modes_offered(client: httpx.AsyncClient) -> None:
    assert (await menu(client))["restaurant"]["fulfillment_modes"] == ALL
    assert (await menu(client, "demo-2"))["restaurant"]["fulfillment_modes"] == ALL
    await _offer("pickup")
    assert (await menu(client))["restaurant"]["fulfillment_modes"] == ["pickup"]


async def test_the_api_refuses_a_mode_the_restaurant_does_not_offer(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    await _offer("pickup")
    body = {**await valid_order(client), "fulfillment": "delivery",
            "delivery_address": ADDRESS}
    refused = await client.post("/api/orders", json=body)
    assert 400 <= refused.status_code < 500, refused.text
    problem = refused.json()
    [entry] = [entry for entry in problem["extra"] if entry["key"] == "fulfillment"]
    assert "delivery" in entry["message"] and "pickup" in entry["message"]
    assert "fulfillment" in problem["detail"]
    assert await temp_keys(redis) == []  # nothing kept
    # dine-in is refused the same way; pickup, the mode offered, is taken
    dine_in = await client.post("/api/orders", json={**body, "fulfillment": "dine_in",
                                                     "table": "4"})
    assert 400 <= dine_in.status_code < 500
    assert [entry["key"] for entry in dine_in.json()["extra"]] == ["fulfillment"]
    taken = await client.post("/api/orders", json={**body, "fulfillment": "pickup"})
    assert taken.status_code == 201, taken.text


async def test_a_restaurant_with_every_mode_still_takes_each(client: httpx.AsyncClient) -> None:
    body = await valid_order(client)
    for extra in ({"fulfillment": "pickup"},
                  {"fulfillment": "delivery", "delivery_address": ADDRESS},
                  {"fulfillment": "dine_in", "table": "7"}):
        response = await client.post("/api/orders", json={**body, **extra})
        assert response.status_code == 201, response.text


async def test_a_pickup_only_checkout_offers_no_choice(client: httpx.AsyncClient) -> None:
    page = (await client.get("/r/demo")).text
    for mode in ALL:
        assert f'id="fulfillment-{mode}"' in page  # every mode: the choice as before
    await _offer("pickup")
    page = (await client.get("/r/demo")).text
    assert page.count('name="fulfillment"') == 1  # the hidden field: no choice
    assert 'id="fulfillment-delivery"' not in page and 'id="fulfillment-dine_in"' not in page
    assert 'id="delivery_address"' not in page and 'id="table"' not in page
    assert "Pickup only" in page
    assert '<input type="hidden" name="fulfillment" value="pickup">' in page
    german = (await client.get("/r/demo", headers=GERMAN)).text
    assert "Nur Abholung" in german
    # two modes: a choice of those two only
    await _offer("pickup", "dine_in")
    page = (await client.get("/r/demo")).text
    assert 'id="fulfillment-pickup"' in page and 'id="fulfillment-dine_in"' in page
    assert 'id="fulfillment-delivery"' not in page and 'id="delivery_address"' not in page


async def test_a_delivery_only_checkout_asks_for_the_address(client: httpx.AsyncClient) -> None:
    await _offer("delivery")
    page = (await client.get("/r/demo")).text
    assert "Delivery only" in page
    assert '<input type="hidden" name="fulfillment" value="delivery">' in page
    assert 'id="delivery_address"' in page and 'id="table"' not in page


async def _form(client: httpx.AsyncClient, headers: dict[str, str] | None = None,
                **fields: str) -> dict[str, str]:
    await client.get("/r/demo", headers=headers)
    soup = next(item for item in (await menu(client))["items"] if not item["groups"])
    return {"_csrf_token": client.cookies["csrftoken"], f"qty-{soup['id']}": "1",
            "name": "Ada Lovelace", "email": "ada@example.com", **fields}


def error_of(page: httpx.Response) -> str:
    """The message by the checkout's fulfilment field."""
    assert page.status_code == 422, page.text[:500]
    return page.text.split('id="fulfillment-error">')[1].split("</span>")[0].strip()


async def test_the_form_refuses_a_mode_not_offered_by_the_field(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    await _offer("pickup")
    form = await _form(client, fulfillment="delivery", delivery_address=ADDRESS)
    refused = await client.post("/r/demo/checkout", data=form, follow_redirects=False)
    assert refused.status_code == 422, refused.text[:500]
    assert 'id="fulfillment-error"' in refused.text
    assert error_of(refused) == "Demo Bistro does not offer delivery. Choose pickup instead."
    assert 'value="Ada Lovelace"' in refused.text  # what was typed is kept
    assert await temp_keys(redis) == []
    german = await client.post("/r/demo/checkout", headers=GERMAN, data=await _form(
        client, GERMAN, fulfillment="delivery", delivery_address=ADDRESS),
        follow_redirects=False)
    assert german.status_code == 422
    assert error_of(german) == (
        "Demo Bistro bietet keine Lieferung an. Wählen Sie stattdessen Abholung.")
    assert await temp_keys(redis) == []
    # two modes left: both named, joined as people write them
    await _offer("pickup", "dine_in")
    refused = await client.post("/r/demo/checkout", data=await _form(
        client, fulfillment="delivery", delivery_address=ADDRESS), follow_redirects=False)
    assert error_of(refused) == (
        "Demo Bistro does not offer delivery. Choose pickup or dine-in instead.")
    german = await client.post("/r/demo/checkout", headers=GERMAN, data=await _form(
        client, GERMAN, fulfillment="delivery", delivery_address=ADDRESS),
        follow_redirects=False)
    assert error_of(german) == ("Demo Bistro bietet keine Lieferung an. Wählen Sie "
                                "stattdessen Abholung oder Essen vor Ort.")
    await _offer("pickup")
    # the page's own form (the hidden field) is taken
    placed = await client.post("/r/demo/checkout", data=await _form(client, fulfillment="pickup"),
                               follow_redirects=False)
    assert placed.status_code == 303, placed.text[:500]


async def test_a_paid_order_keeps_its_mode(client: httpx.AsyncClient,
                                           sandbox: RunningSandbox) -> None:
    body = {**await valid_order(client), "fulfillment": "delivery", "delivery_address": ADDRESS}
    paid = (await client.post("/api/orders", json=body)).json()
    assert await pay_and_post_webhook(client, sandbox, paid) == "created"
    # paid after delivery was turned off (the link was out already): kept too, money is never lost
    late = (await client.post("/api/orders", json=body)).json()
    await _offer("pickup")
    assert await pay_and_post_webhook(client, sandbox, late) == "created"
    for ref in (paid["id"], late["id"]):
        order = await PaidOrder.objects().get(PaidOrder.public_id == ref)
        assert order is not None
        assert (order.fulfillment, order.delivery_address) == ("delivery", ADDRESS)
        status = (await client.get(f"/api/orders/{ref}")).json()
        assert status["fulfillment"] == "delivery"
        assert ADDRESS in (await client.get(f"/orders/{ref}")).text


async def test_a_new_link_is_refused_for_a_mode_turned_off_meanwhile(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    """An unpaid delivery order whose link expired, delivery turned off since: a new link
    would take a delivery order the restaurant refuses; the page says so, no new session."""
    body = {**await valid_order(client), "fulfillment": "delivery", "delivery_address": ADDRESS}
    created = (await client.post("/api/orders", json=body)).json()
    session_id = created["payment_url"].rsplit("/", 1)[1]
    sdk = stripe_client(sandbox.url)
    sdk.v1.checkout.sessions.expire(session_id)
    [expired] = sandbox_events(sandbox.url, session_id=session_id,
                               types={"checkout.session.expired"})
    assert await post_event(client, expired) == "expired"
    await _offer("pickup")
    await client.get(f"/orders/{created['id']}")
    refused = await client.post(f"/orders/{created['id']}/payment-link",
                                headers={"x-csrftoken": client.cookies["csrftoken"]})
    assert refused.status_code == 409, refused.text[:500]
    # nothing to choose on this page: what changed, then the way out (order again)
    assert ("Demo Bistro no longer offers delivery. This order cannot be paid as it is; "
            "nothing was charged. Please order again from the menu.") in refused.text
    problem = refused.text.split('class="form-errors" role="alert">')[1].split("</p>")[0]
    assert "choose" not in problem.lower(), problem
    german = await client.post(f"/orders/{created['id']}/payment-link", headers={
        **GERMAN, "x-csrftoken": client.cookies["csrftoken"]})
    assert german.status_code == 409
    assert "Demo Bistro bietet keine Lieferung mehr an. Diese Bestellung" in german.text
    assert [session.status for session in sessions_of(sdk, created["id"])] == ["expired"]
