"""An owner (or manager) runs their own restaurant's orders at /manage/{slug}/orders: search,
one order with its options, money and receipt, and the admin's refunds, for their restaurant
only: another restaurant's order is 404 on every route (never 403: its existence stays
private), kitchen staff get 403, and every POST needs the CSRF token."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import httpx

from app.orders.tables import OrderItem, OrderRefund, PaidOrder
from app.templating import format_money
from tests.helpers.accounts import add_member, login
from tests.helpers.hours import BERLIN
from tests.helpers.orders import make_paid_order, paid_order_via_sandbox
from tests.helpers.payments import reload
from tests.helpers.sandbox import RunningSandbox, stripe_client

OPTIONS = [{"group": "Doneness", "name": "Medium", "delta": 0},
           {"group": "Extras", "name": "Bacon", "delta": 150},
           {"group": "Extras", "name": "Cheese", "delta": 100}]
PLAIN = [{"group": "Doneness", "name": "Well done", "delta": 0}]


def nonce_of(html: str) -> str:
    match = re.search(r'name="nonce" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def refund_max(html: str, item_id: int) -> str:
    match = re.search(rf'name="qty_{item_id}"[^>]*max="(\d+)"', html)
    assert match, html
    return match.group(1)


async def test_the_overview_links_to_orders(client: httpx.AsyncClient) -> None:
    await login(client, "owner@demo.test")
    page = await client.get("/manage/demo")
    assert page.status_code == 200
    assert 'href="/manage/demo/orders"' in page.text


async def test_search_finds_the_restaurants_orders_and_never_anothers(
        client: httpx.AsyncClient) -> None:
    mine = await make_paid_order("demo", customer_name="Grace Hopper",
                                 customer_email="grace@navy.test")
    other = await make_paid_order("demo-2", customer_name="Grace Hopper",
                                  customer_email="grace@navy.test")
    old = await make_paid_order("demo", status="completed", customer_name="Old Timer",
                                paid_at=datetime.now(UTC) - timedelta(days=10))
    await login(client, "owner@demo.test")

    def refs(page: httpx.Response) -> set[str]:
        assert page.status_code == 200, page.text
        return set(re.findall(r'id="order-(TEMP-[0-9a-f]{24})"', page.text))

    by_name = refs(await client.get("/manage/demo/orders", params={"q": "grace"}))
    assert mine.public_id in by_name and other.public_id not in by_name
    by_email = refs(await client.get("/manage/demo/orders", params={"q": "navy.test"}))
    assert by_email == {mine.public_id}
    by_number = refs(await client.get("/manage/demo/orders",
                                      params={"q": f"#{mine.ticket_number}"}))
    assert mine.public_id in by_number and other.public_id not in by_number
    assert refs(await client.get("/manage/demo/orders",
                                 params={"q": mine.public_id})) == {mine.public_id}
    # Another restaurant's reference finds nothing, whatever the query asks for.
    assert refs(await client.get("/manage/demo/orders", params={"q": other.public_id})) == set()
    assert other.public_id not in refs(await client.get(
        "/manage/demo/orders", params={"restaurant": "demo-2"}))
    everything = refs(await client.get("/manage/demo/orders"))
    assert {mine.public_id, old.public_id} <= everything and other.public_id not in everything
    # A date range and a status.
    today = datetime.now(BERLIN).date()  # the page's days are the restaurant's
    recent = refs(await client.get("/manage/demo/orders", params={
        "date_from": (today - timedelta(days=2)).isoformat(), "date_to": today.isoformat()}))
    assert mine.public_id in recent and old.public_id not in recent
    ten_days = (today - timedelta(days=10)).isoformat()
    assert old.public_id in refs(await client.get("/manage/demo/orders", params={
        "date_from": ten_days, "date_to": ten_days}))
    completed = refs(await client.get("/manage/demo/orders", params={"status": "completed"}))
    assert old.public_id in completed and mine.public_id not in completed
    bad = await client.get("/manage/demo/orders", params={"date_from": "soon"})
    assert bad.status_code == 400 and "is not a date" in bad.text
    backwards = await client.get("/manage/demo/orders", params={
        "date_from": today.isoformat(), "date_to": (today - timedelta(days=4)).isoformat()})
    assert backwards.status_code == 400
    assert "the end date" in backwards.text and "is before the start date" in backwards.text


async def test_partial_then_full_refund_from_the_owners_page(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    sdk = stripe_client(sandbox.url)  # Stripe as the dashboard sees it
    order = await paid_order_via_sandbox(client, sandbox)
    first, _second = await OrderItem.objects().where(
        OrderItem.paid_order == order.id).order_by(OrderItem.id)
    assert first.quantity == 2
    token = await login(client, "owner@demo.test")
    url = f"/manage/demo/orders/{order.public_id}"
    page = await client.get(url)
    assert page.status_code == 200, page.text
    assert f'action="{url}/refund"' in page.text and f'href="{url}/receipt"' in page.text
    assert refund_max(page.text, first.id) == "2"

    # The items form without its quantities (a script, an odd client) refunds nothing: it
    # is not read as "refund everything".
    empty = await client.post(f"{url}/refund", data={
        "_csrf_token": token, "nonce": nonce_of(page.text)}, follow_redirects=False)
    assert empty.status_code == 400 and "Choose at least one item to refund." in empty.text
    assert (await reload(order.public_id)).amount_refunded == 0
    # "²" is a digit to str.isdigit() and not to int(): it was a 500
    odd = await client.post(f"{url}/refund", data={
        "_csrf_token": token, "nonce": nonce_of(page.text), f"qty_{first.id}": "\u00b2"},
        follow_redirects=False)
    assert odd.status_code == 400 and "enter a whole number" in odd.text, odd.text
    assert (await reload(order.public_id)).amount_refunded == 0

    one = await client.post(f"{url}/refund", data={
        "_csrf_token": token, "nonce": nonce_of(page.text), f"qty_{first.id}": "1"},
        follow_redirects=False)
    assert one.status_code == 303, one.text
    assert one.headers["location"].startswith(url)
    after = await reload(order.public_id)
    assert after.amount_refunded == first.gross_amount // 2 and after.status == "paid"
    page = await client.get(one.headers["location"])
    assert "Refund made" in page.text
    assert refund_max(page.text, first.id) == "1"  # one of the two is back already
    assert re.search(r'data-refunded-units="1"', page.text)
    # The list says it too, and "refunded" finds an order refunded in part.
    for listing in ("/manage/demo/orders", "/manage/demo/orders?status=refunded"):
        rows = (await client.get(listing)).text
        row = rows.split(f'id="order-{order.public_id}"')[1].split("</tr>")[0]
        refunded = format_money(after.amount_refunded, after.currency)
        assert f'data-refunded="{after.amount_refunded}">{refunded} refunded' in row, row

    whole = await client.post(f"{url}/refund", data={"_csrf_token": token, "reason": "sorry",
                                                     "confirm": "yes"},
                              follow_redirects=False)
    assert whole.status_code == 303, whole.text
    final = await reload(order.public_id)
    assert final.status == "refunded" and final.amount_refunded == final.amount_charged
    refunds = sdk.v1.refunds.list(params={"payment_intent": str(order.stripe_payment_intent_id)})
    assert sum(refund.amount for refund in refunds.data) == final.amount_charged
    page = await client.get(whole.headers["location"])
    assert "Refunded in full." in page.text and 'data-remaining="0"' in page.text

    receipt = await client.get(f"{url}/receipt")
    assert receipt.status_code == 200 and f"#{order.ticket_number}" in receipt.text
    # Rendered today: it does not claim to be the email as sent (an outside try renamed the
    # restaurant and read "As emailed" over the new name)
    assert "As emailed" not in receipt.text and "as it reads today" in receipt.text


async def test_another_restaurants_order_is_404_on_every_route(
        client: httpx.AsyncClient) -> None:
    other = await make_paid_order("demo-2")
    [item] = await OrderItem.objects().where(OrderItem.paid_order == other.id).limit(1)
    token = await login(client, "owner@demo.test")
    base = f"/manage/demo/orders/{other.public_id}"
    assert (await client.get(base)).status_code == 404
    assert (await client.get(f"{base}/receipt")).status_code == 404
    for data in ({"reason": "x"}, {"nonce": "abcdefgh1234", f"qty_{item.id}": "1"}):
        response = await client.post(f"{base}/refund", data={"_csrf_token": token, **data})
        assert response.status_code == 404, response.text
    unknown = await client.post("/manage/demo/orders/TEMP-nope/refund",
                                data={"_csrf_token": token})
    assert unknown.status_code == 404
    assert (await reload(other.public_id)).amount_refunded == 0
    assert not await OrderRefund.select().where(OrderRefund.paid_order == other.id)
    # The other restaurant's own pages stay closed to this owner: 404 there too.
    assert (await client.get("/manage/demo-2/orders")).status_code == 404
    assert (await client.get(f"/manage/demo-2/orders/{other.public_id}")).status_code == 404


async def test_kitchen_staff_get_403_and_managers_may(client: httpx.AsyncClient) -> None:
    order = await make_paid_order("demo")
    token = await login(client, "kitchen@demo.test")
    base = f"/manage/demo/orders/{order.public_id}"
    assert (await client.get("/manage/demo/orders")).status_code == 403
    assert (await client.get(base)).status_code == 403
    assert (await client.post(f"{base}/refund", data={"_csrf_token": token})).status_code == 403
    await client.post("/logout", data={"_csrf_token": token})
    await add_member("manager@demo.test", "manager")
    await login(client, "manager@demo.test")
    assert (await client.get(base)).status_code == 200


async def test_refunds_need_the_csrf_token(client: httpx.AsyncClient) -> None:
    order = await make_paid_order("demo")
    await login(client, "owner@demo.test")
    response = await client.post(f"/manage/demo/orders/{order.public_id}/refund",
                                 data={"reason": "x"})
    assert response.status_code == 403
    assert (await reload(order.public_id)).status == "paid"


async def _burgers() -> tuple[PaidOrder, OrderItem, OrderItem]:
    order = await make_paid_order("demo", items=[("Burger", 1200, 2, "no onions"),
                                                 ("Burger", 1200, 1, "")])
    first, second = await OrderItem.objects().where(
        OrderItem.paid_order == order.id).order_by(OrderItem.id)
    await OrderItem.update({OrderItem.modifiers: json.dumps(OPTIONS)}).where(
        OrderItem.id == first.id)
    await OrderItem.update({OrderItem.modifiers: json.dumps(PLAIN)}).where(
        OrderItem.id == second.id)
    return order, first, second


async def test_the_order_pages_show_each_lines_options_and_what_is_left(
        client: httpx.AsyncClient) -> None:
    order, first, second = await _burgers()
    await OrderRefund(paid_order=order.id, stripe_refund_id="re_test_one", amount=1200,
                      source="admin", lines=json.dumps([{"item": first.id, "name": "Burger",
                                                         "quantity": 1, "amount": 1200}]),
                      created_at=datetime.now(UTC)).save()
    await PaidOrder.update({PaidOrder.amount_refunded: 1200}).where(PaidOrder.id == order.id)
    for email, url in (("admin@orderpass.test", f"/admin/orders/{order.public_id}"),
                       ("owner@demo.test", f"/manage/demo/orders/{order.public_id}")):
        token = await login(client, email)
        page = await client.get(url)
        assert page.status_code == 200, page.text
        # In the items table and in the refund table, each burger with its options.
        assert page.text.count("Doneness: Medium; Extras: Bacon, Cheese") >= 2, url
        assert page.text.count("Doneness: Well done") >= 2, url
        refund_table = page.text.split('class="admin-form refund-items"')[1]
        assert "Doneness: Medium; Extras: Bacon, Cheese" in refund_table, url
        assert refund_max(page.text, first.id) == "1"
        assert refund_max(page.text, second.id) == "1"
        assert 'data-refunded-units="1"' in page.text
        await client.post("/logout", data={"_csrf_token": token})


async def test_the_rejected_filter_finds_rejections_whose_money_went_back(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    """A rejection ends `refunded` (or `voided`): "rejected" still finds it, and the list
    tells it from a refund the owner made."""
    by_kitchen = await paid_order_via_sandbox(client, sandbox)
    token = await login(client, "kitchen@demo.test")
    rejected = await client.post(f"/kitchen/demo/orders/{by_kitchen.public_id}/reject",
                                 data={"_csrf_token": token, "reason": "Out of dough"})
    assert rejected.status_code in (200, 303), rejected.text
    assert (await reload(by_kitchen.public_id)).status == "refunded"
    await client.post("/logout", data={"_csrf_token": token})
    now = datetime.now(UTC)
    by_timer = await make_paid_order("demo", status="voided", rejected_at=now,
                                     voided_at=now, auto_rejected=True,
                                     reject_reason="Not accepted within 10 minutes")
    pending = await make_paid_order("demo", status="rejected", rejected_at=now)
    owner_refund = await make_paid_order("demo", status="refunded", refunded_at=now)
    elsewhere = await make_paid_order("demo-2", status="refunded", rejected_at=now)
    await login(client, "owner@demo.test")

    page = await client.get("/manage/demo/orders", params={"status": "rejected"})
    assert page.status_code == 200, page.text
    found = set(re.findall(r'id="order-(TEMP-[A-Za-z0-9_-]+)"', page.text))
    assert found == {by_kitchen.public_id, by_timer.public_id, pending.public_id}
    assert owner_refund.public_id not in found and elsewhere.public_id not in found

    def badge(html: str, ref: str) -> str:
        row = html.split(f'id="order-{ref}"')[1].split("</tr>")[0]
        match = re.search(r'<span class="badge order-[^"]*">([^<]*)</span>', row)
        assert match, row
        return match.group(1)

    assert badge(page.text, by_kitchen.public_id) == "rejected (refunded)"
    assert badge(page.text, by_timer.public_id) == "rejected (voided)"
    assert badge(page.text, pending.public_id) == "rejected"
    refunds = await client.get("/manage/demo/orders", params={"status": "refunded"})
    assert badge(refunds.text, owner_refund.public_id) == "refunded"
    assert badge(refunds.text, by_kitchen.public_id) == "rejected (refunded)"
