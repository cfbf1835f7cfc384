"""The "Scheduled" panel says what each booked order is, not only when: its dishes, as
"2 x Margherita pizza (Large + Extra cheese)" (with the multiplication sign), a long line
note cut short, the units an owner refunded left out. On the page and in the live frames
(the whole board and a `tickets` frame's side panels); another restaurant's booked orders
never; and the board is still one statement however many orders are booked."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.kitchen import services
from app.orders.tables import OrderItem, OrderRefund, PaidOrder
from app.restaurants.tables import Restaurant
from tests.helpers.accounts import login
from tests.helpers.board import count_board_reads, every_board_render
from tests.helpers.orders import make_paid_order

X = "\N{MULTIPLICATION SIGN}"  # between quantity and dish
LONG_NOTE = "please cut it into eight slices and keep the basil on the side, thanks"


def entry(html: str, ref: str) -> str:
    """An entry's text, its tags dropped."""
    found = re.search(rf'<li data-scheduled="{ref}">(.*?)</li>\s*(?=<li data-scheduled|</ul>)',
                      html, re.S)
    assert found, ref
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


async def booked_pizza(slot: datetime) -> PaidOrder:
    order = await make_paid_order(scheduled_for=slot, prep_minutes=15, items=[
        ("Margherita pizza", 1300, 2, ""), ("Tiramisu", 650, 3, LONG_NOTE),
        ("Lemonade", 450, 1, "no ice")])
    pizza = await OrderItem.select(OrderItem.id).where(
        (OrderItem.paid_order == order.id) & (OrderItem.name == "Margherita pizza")).first()
    assert pizza is not None
    await OrderItem.update({OrderItem.modifiers: json.dumps([
        {"group": "Size", "name": "Large", "delta": 200, "option": None},
        {"group": "Extras", "name": "Extra cheese", "delta": 100, "option": None}])}).where(
        OrderItem.id == pizza["id"])
    return order


async def test_scheduled_orders_list_their_dishes(client: httpx.AsyncClient) -> None:
    await login(client, "kitchen@demo.test")
    slot = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=3)
    order = await booked_pizza(slot)
    # one Tiramisu of three refunded by the owner before the slot: two left to make
    tiramisu = await OrderItem.select(OrderItem.id).where(
        (OrderItem.paid_order == order.id) & (OrderItem.name == "Tiramisu")).first()
    assert tiramisu is not None
    await OrderRefund(paid_order=order.id, stripe_refund_id="re_test_sched", amount=650,
                      source="admin", created_at=datetime.now(UTC), lines=json.dumps(
                          [{"item": tiramisu["id"], "name": "Tiramisu", "quantity": 1,
                            "amount": 650}])).save()
    await PaidOrder.update({PaidOrder.amount_refunded: 650}).where(PaidOrder.id == order.id)
    other = await make_paid_order("demo-2", scheduled_for=slot, prep_minutes=15,
                                  items=[("Secret soup of demo two", 900, 4, "")])
    plain = await make_paid_order(scheduled_for=slot + timedelta(minutes=15), prep_minutes=15)

    for html in await every_board_render(client, "demo", plain.public_id):
        text = entry(html, order.public_id)
        assert f"2{X} Margherita pizza (Large + Extra cheese)" in text, text
        assert f"2{X} Tiramisu" in text and f"3{X} Tiramisu" not in text, text
        assert f"1{X} Lemonade — no ice" in text, text
        # the long note is cut short, at a word, so the panel stays compact
        assert "— please cut it into eight slices" in text, text
        assert LONG_NOTE not in text and "…" in text, text
        assert text.index("Margherita") < text.index("Tiramisu") < text.index("Lemonade")
        assert "Secret soup" not in html and other.public_id not in html
    assert "Secret soup" not in (await client.get("/kitchen/demo/board")).text


async def test_the_board_with_booked_orders_is_one_statement(client: httpx.AsyncClient,
                                                            monkeypatch: Any) -> None:
    """Their dishes come with the board's one read, not a query per booked order."""
    slot = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=3)
    for index in range(8):
        await booked_pizza(slot + timedelta(minutes=15 * index))
    restaurant = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert restaurant is not None
    calls = count_board_reads(monkeypatch)
    monkeypatch.setattr(OrderItem, "select", None)  # nothing reads the lines on the side
    board = await services.board(restaurant)
    assert len(calls) == 1
    assert len(board.scheduled) == 8
    assert all([(dish.quantity, dish.label) for dish in upcoming.dishes] == [
        (2, "Margherita pizza (Large + Extra cheese)"), (3, "Tiramisu"), (1, "Lemonade")]
        for upcoming in board.scheduled)


async def test_a_booked_orders_own_note_is_in_the_scheduled_panel(
        client: httpx.AsyncClient) -> None:
    """The order's own note ("birthday: candles on the cake at 20:30") is what a cook plans
    a booked table around; the panel listed its dishes' notes but not the order's."""
    await login(client, "kitchen@demo.test")
    slot = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=3)
    order = await booked_pizza(slot)
    note = "Birthday table: bring the tiramisu out with candles, and the bill to the host"
    await PaidOrder.update({PaidOrder.notes: note}).where(PaidOrder.id == order.id)
    for html in await every_board_render(client, "demo", order.public_id):
        text = entry(html, order.public_id)
        assert "Note: Birthday table: bring the tiramisu out with" in text, text
        assert note not in text and "…" in text  # cut short, as a dish's note
        assert f'title="{note}"' in html  # the whole of it on a long press / hover
