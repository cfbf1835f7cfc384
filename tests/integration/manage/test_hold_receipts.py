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
