"""A manual-capture order's card hold is no payment: until the kitchen accepts (and so
captures), the owner's and the admin's receipt page says the card is authorised and nothing is
charged yet (200, a page that explains, not an error for a link someone followed), and the
order page offers no receipt; a released hold says nothing was charged. Once captured, the
receipt is there."""

from __future__ import annotations

import re

import httpx
from arq.connections import ArqRedis

from app.orders import lifecycle
from app.templating import format_money
from tests.helpers.accounts import login
from tests.helpers.orders import paid_order_via_sandbox
from tests.helpers.payments import reload
from tests.helpers.sandbox import RunningSandbox

PAGES = (("owner@demo.test", "/manage/demo/orders"), ("admin@orderpass.test", "/admin/orders"))


def _receipt_text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_an_uncaptured_hold_has_no_receipt_until_accepted(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    ref, total = order.public_id, format_money(order.amount_charged, "EUR")
    for email, base in PAGES:
        token = await login(client, email)
        page = await client.get(f"{base}/{ref}")
        assert page.status_code == 200, page.text
        assert f'href="{base}/{ref}/receipt"' not in page.text, email
        assert "nothing is charged yet" in _receipt_text(page.text), email
        receipt = await client.get(f"{base}/{ref}/receipt")
        assert receipt.status_code == 200, receipt.text
        text = _receipt_text(receipt.text)
        assert f"The card is authorised for {total}; nothing is charged yet" in text, text
        assert "no receipt until the restaurant accepts the order" in text, text
        assert 'data-testid="receipt"' not in receipt.text
        for claim in ("RECEIPT", "Paid:", "Payment received"):
            assert claim not in receipt.text, (email, claim)
        await client.post("/logout", data={"_csrf_token": token})

    await lifecycle.apply_action(ref, "accept", actor="kitchen@demo.test", redis=redis)
    assert (await reload(ref)).accepted_at is not None  # captured
    for email, base in PAGES:
        token = await login(client, email)
        page = await client.get(f"{base}/{ref}")
        assert f'href="{base}/{ref}/receipt"' in page.text, email
        receipt = await client.get(f"{base}/{ref}/receipt")
        assert receipt.status_code == 200, receipt.text
        assert 'data-testid="receipt"' in receipt.text and "RECEIPT" in receipt.text
        assert "authorised" not in _receipt_text(receipt.text)
        await client.post("/logout", data={"_csrf_token": token})


async def test_a_released_hold_has_no_receipt(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    ref = order.public_id
    await lifecycle.apply_action(ref, "reject", actor="kitchen@demo.test", redis=redis,
                                 reason="Oven broke")
    assert (await reload(ref)).status == "voided"
    for email, base in PAGES:
        token = await login(client, email)
        page = await client.get(f"{base}/{ref}")
        assert page.status_code == 200, page.text
        assert f'href="{base}/{ref}/receipt"' not in page.text, email
        receipt = await client.get(f"{base}/{ref}/receipt")
        assert receipt.status_code == 200, receipt.text
        text = _receipt_text(receipt.text)
        assert "The card hold was released: nothing was charged, so there is no receipt" \
            in text, text
        assert "RECEIPT" not in receipt.text and "Paid:" not in receipt.text
        await client.post("/logout", data={"_csrf_token": token})


async def test_the_owner_releasing_a_hold_cancels_the_order_and_tells_the_diner(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    """An outside try: "Refund everything" on a hold the kitchen never accepted spoke of a
    refund, released the hold, showed €29.00 still "Left" afterwards, and emailed nobody:
    the diner kept waiting for an order the restaurant had cancelled."""
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    ref, hold = order.public_id, format_money(order.amount_charged, "EUR")
    token = await login(client, "owner@demo.test")
    page = _receipt_text((await client.get(f"/manage/demo/orders/{ref}")).text)
    assert "Cancel and release the card hold" in page, page
    assert (f"Releases the hold of {hold} on the customer's card (nothing is charged) and "
            "cancels the order; the customer is emailed.") in page
    assert f"Release the {hold} hold" in page
    assert "Refund everything" not in page and f"Refund {hold}" not in page
    released = await client.post(f"/manage/demo/orders/{ref}/refund",
                                 data={"_csrf_token": token, "confirm": "yes"})
    assert released.status_code == 303, released.text
    assert (await reload(ref)).status == "voided"
    after = _receipt_text((await client.get(released.headers["location"])).text)
    assert "nothing was charged; the order is cancelled and the customer emailed" in after
    assert "Left €0.00" in after, after
    queued = [job.job_id for job in await redis.queued_jobs()]
    assert f"email:order_rejected:{ref}" in queued, queued
