"""What a ticket's text looks like on the board, as an outside tester saw it on a 1024x768
tablet: a dine-in table shown as the diner's restaurant wrote it ("Terrasse hinten, Tisch 14",
"T12" for a bare number) and never cut away; dense mode hides the due time together with its
word; long unbroken text (a note, a name, an allergy) breaks inside its card instead of
running over the next column. HTTP for the rendering, real Chromium for what shows."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from app.orders.tables import PaidOrder
from tests.helpers.accounts import login
from tests.helpers.browser import box_inside, submit_login
from tests.helpers.orders import make_paid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
TERRACE = "Terrasse hinten, Tisch 14"


async def dine_in(table: str) -> PaidOrder:
    return await make_paid_order(fulfillment="dine_in", table_label=table)


def badge_of(html: str, ref: str) -> str:
    card = html[html.index(f'id="card-{ref}"'):]
    match = re.search(r'<span class="fulfilment[^"]*">(.*?)</span>\s*<span class="age"', card,
                      re.S)
    assert match, card[:1500]
    return re.sub(r"<[^>]+>", "", match.group(1))


async def test_a_table_label_is_rendered_as_written_and_a_bare_number_as_t12(
        client: httpx.AsyncClient) -> None:
    terrace, twelve = await dine_in(TERRACE), await dine_in("12")
    await login(client, "kitchen@demo.test")
    html = (await client.get("/kitchen/demo")).text
    assert badge_of(html, terrace.public_id) == f"Dine-in · {TERRACE}"
    assert badge_of(html, twelve.public_id) == "Dine-in · T12"
    ticket = (await client.get(f"/kitchen/demo/orders/{terrace.public_id}/ticket")).text
    assert TERRACE in ticket and f"T{TERRACE}" not in ticket


async def open_board(page: Any, web: RunningProcess) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.set_viewport_size({"width": 1024, "height": 768})
    await page.goto(f"{web.url}/kitchen/demo")
    await submit_login(page, "kitchen@demo.test")
    await page.wait_for_url(f"{web.url}/kitchen/demo")
    await page.wait_for_selector("#connection.is-live", timeout=10_000)
    if await page.locator("#start-service").is_visible():
        await page.click("#start-service-button")
    return errors


async def fully_shown(locator: Any) -> bool:
    return bool(await locator.evaluate(
        "e => e.scrollWidth <= e.clientWidth + 1 && e.scrollHeight <= e.clientHeight + 1"))


async def test_a_long_table_label_shows_in_full_on_its_card(page: Any,
                                                            web: RunningProcess) -> None:
    order = await dine_in(TERRACE)
    errors = await open_board(page, web)
    card = page.locator(f"#card-{order.public_id}")
    await card.wait_for(timeout=10_000)
    for dense in (False, True):
        badge = card.locator(".fulfilment")
        assert TERRACE in await badge.inner_text()  # as written, not upper-cased
        assert await fully_shown(badge)  # not cut off with an ellipsis
        box, card_box = await badge.bounding_box(), await card.bounding_box()
        assert box is not None and card_box is not None and box_inside(box, card_box)
        if not dense:
            await page.keyboard.press("d")
            await page.wait_for_selector("body.is-dense")
    assert errors == []


async def test_dense_mode_hides_the_due_word_with_its_time(page: Any,
                                                           web: RunningProcess) -> None:
    order = await make_paid_order()
    errors = await open_board(page, web)
    meta = page.locator(f"#card-{order.public_id} .card-meta")
    await meta.wait_for(timeout=10_000)
    assert re.search(r"\bdue \d", await meta.inner_text()), await meta.inner_text()
    await page.keyboard.press("d")
    await page.wait_for_selector("body.is-dense")
    text = await meta.inner_text()
    time_shown = await meta.locator("time").is_visible()
    assert time_shown or not re.search(r"\b(due|promised)\b", text), text
    assert errors == []


async def test_long_unbroken_text_breaks_inside_its_card(page: Any,
                                                         web: RunningProcess) -> None:
    word = "Bitte-ohne-Zwiebeln-und-ohne-Knoblauch-" * 6
    order = await make_paid_order(
        notes="N" * 200, customer_name="Maximilian" * 8, allergy="Erdnuss" * 20,
        items=[("Margherita pizza", 1100, 1, word.replace("-", ""))])
    errors = await open_board(page, web)
    card = page.locator(f"#card-{order.public_id}")
    await card.wait_for(timeout=10_000)
    for dense in (False, True):
        card_box = await card.bounding_box()
        assert card_box is not None
        shown = (".order-notes", ".line-notes", ".allergy") + (() if dense else (".customer",))
        for selector in shown:  # (dense mode leaves the customer's name out)
            box = await card.locator(selector).first.bounding_box()
            assert box is not None and box_inside(box, card_box), (selector, dense, box,
                                                                   card_box)
            assert await card.locator(selector).first.evaluate(
                "e => e.scrollWidth <= e.clientWidth + 1"), (selector, dense)
        if not dense:
            await page.keyboard.press("d")
            await page.wait_for_selector("body.is-dense")
    assert errors == []
