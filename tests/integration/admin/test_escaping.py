"""Hostile text (restaurant, menu item, customer, discrepancy details, email recipient) comes
out inert on every admin page: no live <script>, no event handlers, no htmx attributes."""

from __future__ import annotations

import httpx

from app.notifications.tables import EmailMessage
from app.payments.tables import StripeEvent
from app.platform.tables import WebhookDelivery
from app.restaurants.tables import MenuItem, Restaurant
from tests.helpers.admin import HTML, HTMX, make_discrepancy
from tests.helpers.orders import make_paid_order

HOSTILE = ('"><script>alert(1)</script><img src=x onerror=alert(2)>'
           '<a hx-get="/admin/evil" hx-trigger="load">x</a>')
LIVE = ["<script>alert(1)", "<img src=x", 'hx-get="/admin/evil"', "onerror=alert(2)>",
        '"><script']


def assert_inert(html: str, where: str) -> None:
    for marker in LIVE:
        assert marker not in html, (where, marker)


async def test_hostile_text_is_inert_on_admin_pages(admin: tuple[httpx.AsyncClient, str]
                                                    ) -> None:
    client, token = admin
    demo = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert demo is not None
    await Restaurant.update({Restaurant.name: HOSTILE[:120], Restaurant.address: HOSTILE}
                            ).where(Restaurant.id == demo.id)
    await MenuItem.insert(MenuItem(restaurant=demo.id, category=HOSTILE[:80],
                                   name=HOSTILE[:120], description=HOSTILE, price_amount=100))
    order = await make_paid_order(items=[(HOSTILE[:120], 500, 2, HOSTILE[:200])],
                                  customer_email="evil@example.test", customer_name=HOSTILE[:120])
    await make_paid_order(customer_email="evil@example.test")
    await make_discrepancy("amount_mismatch", session_id=HOSTILE[:255], order_ref=order.public_id,
                           details={"reason": HOSTILE, HOSTILE[:40]: HOSTILE})
    await EmailMessage.insert(EmailMessage(
        idempotency_key=f"payment_received/{order.public_id}", kind="payment_received",
        recipient="evil@example.test", order_ref=order.public_id, status="bounced",
        last_error=HOSTILE))
    await WebhookDelivery.insert(WebhookDelivery(
        provider="resend", event_id=HOSTILE[:255], type=HOSTILE[:120], signature_valid=True,
        processed=False, error=HOSTILE, body="{}"))
    await StripeEvent.insert(StripeEvent(event_id="evt_" + HOSTILE[:200], type=HOSTILE[:120],
                                         checkout_session_id=HOSTILE[:255], result="ignored"))
    resolved = await make_discrepancy("refund_mismatch", details={"x": HOSTILE})
    await client.post(f"/admin/discrepancies/{resolved}/resolve",
                      data={"_csrf_token": token, "note": HOSTILE})

    for path in ["/admin/discrepancies?status=all", "/admin/webhooks", "/admin/emails",
                 f"/admin/emails?q={order.public_id}", "/admin/restaurants",
                 "/admin/restaurants/demo", "/admin/analytics?restaurant=demo",
                 "/admin/analytics", "/admin/system"]:
        response = await client.get(path, headers=HTML)
        assert response.status_code == 200, path
        assert_inert(response.text, path)
        if path != "/admin/system":  # the hostile text is there, shown as text
            assert "&lt;script&gt;alert(1)" in response.text or \
                "&lt;img src=x" in response.text or "evil@example.test" in response.text, path
    page = (await client.get("/admin/discrepancies?status=all", headers=HTML)).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown, as text

    # Fragments returned to htmx, and field errors echoing what was typed.
    fragment = await client.post(f"/admin/discrepancies/{resolved}/resolve", headers=HTMX,
                                 data={"_csrf_token": token, "note": HOSTILE})
    assert_inert(fragment.text, "resolve fragment")
    invalid = await client.post("/admin/restaurants", data={
        "_csrf_token": token, "slug": HOSTILE, "name": HOSTILE, "currency": HOSTILE,
        "timezone": HOSTILE, "capture_mode": HOSTILE})
    assert invalid.status_code == 422
    assert_inert(invalid.text, "restaurant form errors")
    search = await client.get("/admin/emails", params={"q": HOSTILE}, headers=HTML)
    assert_inert(search.text, "email search")
    csv_export = await client.get("/admin/analytics.csv?restaurant=demo")
    assert csv_export.status_code == 200 and "<script" not in csv_export.text
