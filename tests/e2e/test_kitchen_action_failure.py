"""A cook's press that fails (the web process gone: connection refused, any network failure;
the server answering 503 while Postgres is down) says so on that ticket itself, in words for a
cook ("#7 was not accepted: …. Try again."), never raw JSON or an infrastructure name, and
covers no other ticket; the ticket stays as it was and can be pressed again. Real Chromium, a
real `orderpass web`, the press's request failed in the browser by a Playwright route."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.orders.tables import PaidOrder
from tests.helpers.browser import box_inside, open_kitchen
from tests.helpers.orders import make_paid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
INFRA_WORDS = ("postgres", "redis", "503", "status_code", "detail", "{", "json")


async def kitchen_with_orders(browser: Any, web: RunningProcess) -> tuple[Any, PaidOrder,
                                                                           PaidOrder, list[str]]:
    order = await make_paid_order()
    other = await make_paid_order()
    errors: list[str] = []
    kitchen = await open_kitchen(browser, web.url, errors)
    await kitchen.set_viewport_size({"width": 1024, "height": 768})
    if await kitchen.locator("#start-service").is_visible():
        await kitchen.click("#start-service-button")
    await kitchen.locator(f"#card-{order.public_id} .act-accept button").wait_for()
    await kitchen.locator(f"#card-{other.public_id}").wait_for()
    return kitchen, order, other, errors


async def assert_not_accepted_on_its_card(kitchen: Any, order: PaidOrder, other: PaidOrder,
                                          says: tuple[str, ...]) -> None:
    card = kitchen.locator(f"#card-{order.public_id}")
    problem = card.locator(".card-problem")
    await problem.wait_for(state="visible", timeout=5_000)
    text = await problem.inner_text()
    assert f"#{order.ticket_number} was not accepted" in text, text
    assert any(word in text for word in says), text
    assert "Try again" in text, text
    assert not any(word in text.lower() for word in INFRA_WORDS), text
    # no floating message over the board
    assert not await kitchen.locator("#toast").is_visible()
    # the message lies on its own card, over no other ticket
    box, card_box = await problem.bounding_box(), await card.bounding_box()
    assert box is not None and card_box is not None and box_inside(box, card_box)
    # the ticket stays as it was and can be pressed again
    assert await card.get_attribute("data-status") == "paid"
    accept = card.locator(".act-accept button[type=submit]")
    assert await accept.is_enabled()
    assert await card.locator(".act-accept").get_attribute("aria-busy") is None
    assert await card.locator(".reject-open").is_enabled()
    assert await kitchen.locator(f"#card-{other.public_id} .card-problem").count() == 0


async def accept_again(kitchen: Any, order: PaidOrder) -> None:
    await kitchen.unroute(f"**/orders/{order.public_id}/accept")
    card = kitchen.locator(f"#card-{order.public_id}")
    await card.locator(".act-accept button[type=submit]").click()
    await kitchen.wait_for_selector(f"#card-{order.public_id}[data-status=accepted]",
                                    timeout=10_000)
    assert await kitchen.locator(f"#card-{order.public_id} .card-problem").count() == 0
    saved = await PaidOrder.select(PaidOrder.status).where(PaidOrder.id == order.id).first()
    assert saved is not None and saved["status"] == "accepted"


async def test_an_accept_that_never_reaches_the_server_says_so_on_its_ticket(
        browser: Any, web: RunningProcess) -> None:
    kitchen, order, other, errors = await kitchen_with_orders(browser, web)
    await kitchen.route(f"**/orders/{order.public_id}/accept",
                        lambda route: route.abort("connectionrefused"))
    await kitchen.locator(f"#card-{order.public_id} .act-accept button[type=submit]").click()
    await assert_not_accepted_on_its_card(kitchen, order, other, ("lost", "server"))
    await accept_again(kitchen, order)
    assert errors == []


async def test_an_accept_answered_503_says_so_on_its_ticket_without_jargon(
        browser: Any, web: RunningProcess) -> None:
    kitchen, order, other, errors = await kitchen_with_orders(browser, web)
    body = json.dumps({"status_code": 503,
                       "detail": "Postgres is unavailable right now; try again shortly"})
    await kitchen.route(f"**/orders/{order.public_id}/accept",
                        lambda route: route.fulfill(status=503, body=body,
                                                    content_type="application/json",
                                                    headers={"Retry-After": "5"}))
    await kitchen.locator(f"#card-{order.public_id} .act-accept button[type=submit]").click()
    await assert_not_accepted_on_its_card(kitchen, order, other, ("busy", "unavailable"))
    await accept_again(kitchen, order)
    assert errors == []


async def test_an_accept_another_screen_made_first_says_whose_promise_stands(
        browser: Any, web: RunningProcess) -> None:
    """Two screens press Accept together. The one refused (409) used to redraw silently as
    the other's accept, its cook believing their own 40 minutes were promised: it says that
    another screen's promise stands, and stays through the redraw that brings it."""
    from app.orders import lifecycle

    kitchen, order, other, errors = await kitchen_with_orders(browser, web)
    card = kitchen.locator(f"#card-{order.public_id}")

    async def other_screen_first(route: Any) -> None:
        await lifecycle.apply_action(order.public_id, "accept", actor="kitchen@demo.test",
                                     prep_minutes=10)
        await kitchen.wait_for_selector(f"#card-{order.public_id}[data-status=accepted]",
                                        timeout=10_000)  # its frame reached this screen
        await route.continue_()

    await kitchen.route(f"**/orders/{order.public_id}/accept", other_screen_first)
    await card.locator("input[name=prep_minutes]").fill("40")
    await card.locator(".act-accept button[type=submit]").click()
    problem = card.locator(".card-problem")
    await problem.wait_for(state="visible", timeout=10_000)
    await kitchen.wait_for_timeout(1500)  # later frames redraw the ticket: the note stays
    text = await problem.inner_text()
    assert f"#{order.ticket_number} was not accepted" in text, text
    assert "another screen" in text and "(10 min)" in text, text
    assert "your 40 min were not used" in text, text
    assert not any(word in text.lower() for word in INFRA_WORDS), text
    assert await card.get_attribute("data-status") == "accepted"
    saved = await PaidOrder.select(PaidOrder.prep_minutes).where(PaidOrder.id == order.id).first()
    assert saved is not None and saved["prep_minutes"] == 10
    assert await kitchen.locator(f"#card-{other.public_id} .card-problem").count() == 0
    assert errors == []


async def test_a_lost_press_whose_ticket_was_redrawn_meanwhile_still_says_so(
        browser: Any, web: RunningProcess) -> None:
    """The board is redrawn while the press is on its way (a frame, the whole board after a
    reconnect): the failure still shows on the ticket as it now is, not nowhere."""
    kitchen, order, other, errors = await kitchen_with_orders(browser, web)

    async def redrawn_then_lost(route: Any) -> None:
        await kitchen.evaluate("""ref => {  // as the server renders it: nothing pressed
            const card = document.getElementById('card-' + ref), fresh = card.cloneNode(true);
            fresh.querySelectorAll('[disabled]').forEach(e => e.removeAttribute('disabled'));
            fresh.querySelectorAll('[aria-busy]').forEach(e => e.removeAttribute('aria-busy'));
            fresh.querySelectorAll('.htmx-request')
                 .forEach(e => e.classList.remove('htmx-request'));
            card.replaceWith(fresh);
            htmx.process(fresh);
        }""", order.public_id)
        await route.abort("connectionrefused")

    await kitchen.route(f"**/orders/{order.public_id}/accept", redrawn_then_lost)
    await kitchen.locator(f"#card-{order.public_id} .act-accept button[type=submit]").click()
    await assert_not_accepted_on_its_card(kitchen, order, other, ("lost", "server"))
    assert errors == []
