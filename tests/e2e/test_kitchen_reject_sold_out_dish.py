"""On a kitchen tablet, a cook rejecting a ticket for "An item is sold out" ticks which of its
dishes ran out, and the reject names it ("Sold out: Margherita pizza"), which the diner reads.
Real Chromium on a 1024x768 touch screen, a real `orderpass web`, an order paid on the
sandbox's Stripe."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.orders.tables import OrderItem, PaidOrder
from app.restaurants.tables import MenuItem
from tests.helpers.browser import tablet_kitchen
from tests.helpers.orders import paid_order_via_sandbox
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
TABLET_LANDSCAPE = {"width": 1024, "height": 768}


async def test_a_cook_names_the_dish_sold_out_on_a_tablet(
        browser: Any, web: RunningProcess, client: httpx.AsyncClient,
        sandbox: RunningSandbox) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    dishes = [row["name"] for row in await OrderItem.select(OrderItem.name).where(
        OrderItem.paid_order == order.id).order_by(OrderItem.id)]
    errors: list[str] = []
    kitchen = await tablet_kitchen(browser, web.url, errors, viewport=TABLET_LANDSCAPE,
                                   tickets=1)
    await kitchen.locator(f"#card-{order.public_id} .reject-open").tap()
    dialog = kitchen.locator("#reject-dialog[open]")
    await dialog.wait_for()
    picks = dialog.locator("input[name='sold-out-dish']")
    assert await picks.count() == 0 or not await picks.first.is_visible()  # not asked yet

    await dialog.get_by_label("An item is sold out").tap()
    assert [await picks.nth(i).get_attribute("value")
            for i in range(await picks.count())] == dishes  # the ticket's own dishes
    pick = dialog.get_by_label(dishes[1], exact=True)
    box, frame = await pick.bounding_box(), await dialog.bounding_box()
    assert box and frame and box["y"] + box["height"] <= TABLET_LANDSCAPE["height"]
    await pick.tap()
    assert await pick.is_checked()
    # …and, as offered by default, it is sold out on the menu for the next diner too
    mark = dialog.get_by_label("Also mark the ticked dishes sold out on the menu")
    assert await mark.is_checked()
    box = await mark.bounding_box()
    assert box and box["y"] + box["height"] <= TABLET_LANDSCAPE["height"]
    item = await OrderItem.select(OrderItem.menu_item).where(
        (OrderItem.paid_order == order.id) & (OrderItem.name == dishes[1])).first()
    assert item is not None
    try:
        await kitchen.locator("#reject-confirm").tap()

        result = kitchen.locator("#result")
        await result.wait_for(state="visible", timeout=15_000)
        said = await result.inner_text()
        assert f"#{order.ticket_number} rejected" in said
        assert f"{dishes[1]} is now sold out on the menu." in said, said
        final = await PaidOrder.objects().get(PaidOrder.id == order.id)
        assert final is not None and final.reject_reason == f"Sold out: {dishes[1]}"
        page = " ".join((await client.get(f"/orders/{order.public_id}")).text.split())
        assert f"Sorry, {dishes[1]} is sold out." in page
        # the screen that rejected shows the 86 it just made, without a reload
        chip = kitchen.locator(".chip-86")
        await chip.wait_for(timeout=5_000)
        assert dishes[1] in await chip.inner_text()
        menu = (await client.get("/api/restaurants/demo/menu")).json()["items"]
        assert [entry["available"] for entry in menu if entry["id"] == item["menu_item"]] == [
            False]
        assert errors == []
    finally:
        await MenuItem.update({MenuItem.available: True}).where(
            MenuItem.id == item["menu_item"])
