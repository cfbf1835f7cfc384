""""All day" counts what cooks make: a dish, and beneath it each combination of options
("3 Pizza your way": "2 M", "1 L + Olives"), on the page and in the live frames. Still one
statement for the whole board, however many tickets."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from app.kitchen import board_feed, services
from app.orders.tables import OrderItem, PaidOrder
from app.restaurants.tables import Restaurant
from tests.helpers.accounts import login
from tests.helpers.board import count_board_reads
from tests.helpers.orders import make_paid_order


def option(group: str, name: str) -> dict[str, Any]:
    return {"group": group, "name": name, "delta": 0, "option": None}


async def order_of(*lines: tuple[int, list[dict[str, Any]]], status: str = "paid"
                   ) -> PaidOrder:
    """An order of "Pizza your way" lines (quantity, options) and one plain Tiramisu."""
    order = await make_paid_order(status=status, items=[
        *[("Pizza your way", 900, quantity, "") for quantity, _ in lines],
        ("Tiramisu", 700, 1, "")])
    ids = [row["id"] for row in await OrderItem.select(OrderItem.id).where(
        (OrderItem.paid_order == order.id) & (OrderItem.name == "Pizza your way")
    ).order_by(OrderItem.id)]
    for item_id, (_quantity, options) in zip(ids, lines, strict=True):
        await OrderItem.update({OrderItem.modifiers: json.dumps(options)}).where(
            OrderItem.id == item_id)
    return order


def all_day(html: str) -> str:
    """The panel's text, a dish's options in brackets: "3 Pizza your way [ 2 M 1 L ]"."""
    section = html.split('class="all-day"', 1)[1].split("</section>", 1)[0].split(">", 1)[1]
    section = re.sub(r"<ul class=\"all-day-options\"[^>]*>", "[", section)
    section = re.sub(r"</ul>\s*</li>", "]", section)
    return " ".join(re.sub(r"<[^>]+>", " ", section).split())


async def test_all_day_counts_each_dish_by_its_options(client: httpx.AsyncClient) -> None:
    await login(client, "kitchen@demo.test")
    medium, large = option("Size", "M"), option("Size", "L")
    olives, chili = option("Extras", "Olives"), option("Extras", "Chili")
    await order_of((1, [medium]), (1, [large, olives]))
    await order_of((1, [medium]), status="preparing")
    accepted = await order_of((2, [large, olives, chili]), (1, []), status="accepted")
    await order_of((5, [medium]), status="ready")  # made: not counted

    page = (await client.get("/kitchen/demo")).text
    assert all_day(page) == (
        "All day 6 Pizza your way [ 2 L + Olives + Chili 2 M 1 L + Olives 1 plain ] "
        "3 Tiramisu")
    restaurant = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert restaurant is not None
    board = (await board_feed.board_frame(restaurant)).data
    assert all_day(board) == all_day(page)
    # a ticket moving on redraws the counts on every screen
    await PaidOrder.update({PaidOrder.status: "ready"}).where(PaidOrder.id == accepted.id)
    changes = (await board_feed.tickets_frame(restaurant, [accepted.public_id])).data
    assert all_day(changes) == "All day 3 Pizza your way [ 2 M 1 L + Olives ] 2 Tiramisu"
    # a dish only ever ordered plain is one line, as before
    assert '<li><span class="count">2</span> Tiramisu</li>' in changes


async def test_the_board_is_still_read_in_one_statement(client: httpx.AsyncClient,
                                                        monkeypatch: Any) -> None:
    """Measured, not assumed: the board with 12 tickets of mixed options is one round trip."""
    for size in ("S", "M", "L"):
        for _ in range(4):
            await order_of((1, [option("Size", size)]), (1, [option("Extras", "Olives")]))
    restaurant = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert restaurant is not None
    calls = count_board_reads(monkeypatch)
    board = await services.board(restaurant)
    assert len(calls) == 1
    assert [(dish.name, dish.count) for dish in board.all_day] == [
        ("Pizza your way", 24), ("Tiramisu", 12)]
