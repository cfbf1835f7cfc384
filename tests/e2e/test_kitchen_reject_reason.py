"""A reject reason the server would refuse (a text-direction override, longer than the limit)
is refused by the reject dialog itself, next to the field, before the undo countdown starts:
the dialog stays open with the cook's text, nothing is sent, the order stays as it was. If the
server still refuses one (the backstop: a screen loaded before a rule changed), the ticket
comes back as not rejected with a readable message on its card. Real Chromium, a real
`orderpass web`, an order paid on the sandbox's Stripe."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.orders import lifecycle
from app.orders.tables import PaidOrder
from tests.helpers.browser import open_kitchen
from tests.helpers.orders import paid_order_via_sandbox
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
UNDO_S = 5  # static/js/kitchen.js UNDO_MS
OVERRIDE = "Out of \u202ehguod"  # reads "Out of dough" backwards on the diner's page


async def status_of(order: PaidOrder) -> tuple[str, str]:
    row = await PaidOrder.select(PaidOrder.status, PaidOrder.reject_reason).where(
        PaidOrder.id == order.id).first()
    assert row is not None
    return row["status"], row["reject_reason"]


async def kitchen_with_order(browser: Any, web: RunningProcess, client: httpx.AsyncClient,
                             sandbox: RunningSandbox) -> tuple[Any, PaidOrder, list[str],
                                                                list[str]]:
    order = await paid_order_via_sandbox(client, sandbox)
    errors: list[str] = []
    kitchen = await open_kitchen(browser, web.url, errors)
    if await kitchen.locator("#start-service").is_visible():
        await kitchen.click("#start-service-button")
    posts: list[str] = []  # every reject the screen sends
    kitchen.on("request", lambda request: posts.append(request.url)
               if request.method == "POST" and request.url.endswith("/reject") else None)
    await kitchen.locator(f"#card-{order.public_id} .reject-open").wait_for()
    return kitchen, order, errors, posts


async def test_the_dialog_refuses_a_reason_the_server_would_refuse_before_the_countdown(
        browser: Any, web: RunningProcess, client: httpx.AsyncClient,
        sandbox: RunningSandbox) -> None:
    kitchen, order, errors, posts = await kitchen_with_order(browser, web, client, sandbox)
    card = kitchen.locator(f"#card-{order.public_id}")
    field, message = kitchen.locator("#reject-other"), kitchen.locator("#reject-error")
    await card.locator(".reject-open").click()
    await kitchen.wait_for_selector("#reject-dialog[open]")

    too_long = "x" * (lifecycle.REJECT_REASON_MAX + 1)
    for typed, says in ((OVERRIDE, "text-direction"),
                        (too_long, f"{lifecycle.REJECT_REASON_MAX} characters")):
        await field.fill(typed)
        await kitchen.click("#reject-confirm")
        # Refused in the dialog: open, the message next to the field, the cook's text kept.
        await message.wait_for(state="visible", timeout=3_000)
        assert says in await message.inner_text()
        assert await kitchen.locator("#reject-dialog[open]").count() == 1
        assert await field.input_value() == typed
        assert await field.get_attribute("aria-invalid") == "true"
        assert "reject-error" in (await field.get_attribute("aria-describedby") or "")
        # ... and no countdown started
        assert await card.locator(".undo-bar").count() == 0
        assert "is-rejecting" not in (await card.get_attribute("class") or "")

    await asyncio.sleep(UNDO_S + 1)  # past any undo window: nothing was sent
    assert posts == []
    assert await status_of(order) == ("paid", "")
    async with httpx.AsyncClient(base_url=web.url) as api:
        answer = (await api.get(f"/api/orders/{order.public_id}")).json()
    assert answer["status"] == "paid"

    # Corrected, the message goes and the reject goes ahead after its undo window.
    await field.fill("Out of dough")
    await message.wait_for(state="hidden", timeout=3_000)
    assert await field.get_attribute("aria-invalid") != "true"
    await kitchen.click("#reject-confirm")
    await kitchen.wait_for_selector("#reject-dialog", state="hidden")
    await card.locator(".undo-bar").wait_for()
    assert posts == []  # waiting out the undo window
    result = kitchen.locator("#result")
    await result.wait_for(state="visible", timeout=15_000)
    assert f"#{order.ticket_number} rejected" in await result.inner_text()
    assert len(posts) == 1
    assert await status_of(order) == ("refunded", "Out of dough")
    assert errors == []


async def test_a_reason_the_server_still_refuses_brings_the_ticket_back_with_a_message(
        browser: Any, web: RunningProcess, client: httpx.AsyncClient,
        sandbox: RunningSandbox) -> None:
    """The backstop: the dialog's rules are gone (a page from before a rule was added), the
    server's own check refuses the reason after the countdown."""
    kitchen, order, errors, posts = await kitchen_with_order(browser, web, client, sandbox)
    card = kitchen.locator(f"#card-{order.public_id}")
    await kitchen.evaluate("""() => {
        const field = document.getElementById('reject-other');
        for (const name of Array.from(field.attributes).map(a => a.name))
            if (name.startsWith('data-') || name === 'maxlength') field.removeAttribute(name);
    }""")
    await card.locator(".reject-open").click()
    await kitchen.wait_for_selector("#reject-dialog[open]")
    await kitchen.fill("#reject-other", OVERRIDE)
    async with kitchen.expect_response(lambda r: r.url.endswith("/reject"),
                                       timeout=(UNDO_S + 10) * 1000) as answer:
        await kitchen.click("#reject-confirm")
        await card.locator(".undo-bar").wait_for()
    assert (await answer.value).status == 400

    # Back as not rejected: no undo bar, not dimmed, its buttons there, a readable message.
    problem = card.locator(".card-problem")
    await problem.wait_for(state="visible", timeout=5_000)
    text = await problem.inner_text()
    assert f"#{order.ticket_number} was not rejected" in text, text
    assert "text-direction overrides are not allowed" in text, text
    assert "{" not in text and "status_code" not in text and "detail" not in text, text
    assert await card.locator(".undo-bar").count() == 0
    assert "is-rejecting" not in (await card.get_attribute("class") or "")
    assert await card.get_attribute("aria-busy") is None
    assert await card.get_attribute("data-status") == "paid"
    assert await card.locator(".reject-open").is_visible()
    assert not await kitchen.locator("#result").is_visible()  # no "rejected" result
    assert len(posts) == 1
    assert await status_of(order) == ("paid", "")
    assert errors == []


async def test_the_dialog_closes_saying_why_when_the_ticket_is_rejected_elsewhere(
        browser: Any, web: RunningProcess, client: httpx.AsyncClient,
        sandbox: RunningSandbox, redis: Any) -> None:
    """The dialog outlived its order: refunded in full by the manager meanwhile, it still
    said "The customer gets €11.50 back", and its countdown ended in a refusal (an outside
    try). A ticket that can no longer be rejected closes the dialog, and the screen says so."""
    kitchen, order, errors, posts = await kitchen_with_order(browser, web, client, sandbox)
    await kitchen.locator(f"#card-{order.public_id} .reject-open").click()
    await kitchen.wait_for_selector("#reject-dialog[open]")
    await lifecycle.apply_action(order.public_id, "reject", actor="another screen",
                                 reason="Out of dough", redis=redis)
    await kitchen.wait_for_selector("#reject-dialog:not([open])", state="attached",
                                    timeout=10_000)
    toast = kitchen.locator("#toast")
    await toast.wait_for(state="visible", timeout=5_000)
    assert (await toast.inner_text()) == (
        f"#{order.ticket_number} changed meanwhile and can no longer be rejected: "
        "nothing was done.")
    await asyncio.sleep(UNDO_S + 1)
    assert posts == []  # no countdown ran, nothing was sent
    status, reason = await status_of(order)  # the other screen's reject, refunded once
    assert status in ("rejected", "refunded") and reason == "Out of dough"
    assert errors == []
