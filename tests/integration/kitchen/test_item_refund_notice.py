"""A refund of some items of a ticket the kitchen has in hand (accepted or cooking) is told to
every screen of the restaurant, live, as a whole refund is: a red notice naming the ticket and
the dishes not to make ("#12: 1x Tiramisu refunded — do not make it"), acknowledged with its
own button on any screen, and the ticket itself marked until then. It used to redraw the
ticket's refund line only, which a cook mid-service did not see, and made the dish anyway.
A ticket made already (ready) or handed over raises none; a whole refund keeps its own notice.
The owner refunds through their real order page (`/manage/demo/orders/{ref}/refund`)."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from arq.connections import ArqRedis
from litestar import Litestar

from app.orders import lifecycle
from app.orders.tables import OrderItem, OrderRefund
from app.templating import format_money
from tests.helpers.accounts import login, staff_session
from tests.helpers.orders import paid_dishes
from tests.helpers.payments import reload
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess
from tests.helpers.sse import Event, events, logged_in, next_event

KITCHEN, OWNER = "kitchen@demo.test", "owner@demo.test"
HX = {"hx-request": "true"}
SSE = {"accept": "text/event-stream"}
TIMES = "\N{MULTIPLICATION SIGN}"


@pytest.fixture
async def kitchen(app: Litestar, client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """A kitchen screen's own session, next to the owner's (`client` runs the app)."""
    async with staff_session(app, KITCHEN) as screen:
        yield screen


async def _order(client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis,
                 actions: tuple[str, ...]) -> tuple[str, int]:
    """2 Tiramisu and a Margherita pizza, paid and moved on by the kitchen's `actions`; its
    ref and ticket number."""
    ref = await paid_dishes(client, sandbox, [("Tiramisu", 2), ("Margherita pizza", 1)])
    for action in actions:
        await lifecycle.apply_action(ref, action, actor=KITCHEN, redis=redis)
    return ref, (await reload(ref)).ticket_number


async def _owner_refunds(client: httpx.AsyncClient, token: str, ref: str,
                         units: dict[str, int]) -> None:
    """The owner's refund of items (dish name → units) on their order page."""
    order = await reload(ref)
    items = {item.name: item.id for item in await OrderItem.objects().where(
        OrderItem.paid_order == order.id)}
    page = await client.get(f"/manage/demo/orders/{ref}")
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text)
    assert nonce, page.text
    done = await client.post(f"/manage/demo/orders/{ref}/refund", data={
        "_csrf_token": token, "nonce": nonce.group(1), "reason": "Dropped on the floor",
        **{f"qty_{items[name]}": str(count) for name, count in units.items()}},
        follow_redirects=False)
    assert done.status_code == 303, done.text


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def notices_of(page: str, ref: str) -> list[str]:
    """The text of each notice about `ref` on a board (page, frame)."""
    return [_text(found) for found in re.findall(
        rf'data-notice="{re.escape(ref)}">(.*?)</div>', page, re.S)]


def card_of(page: str, ref: str) -> str:
    """`ref`'s ticket, its opening tag included."""
    assert page.count(f'id="card-{ref}"') == 1, f"no card {ref}"
    at = page.index(f'id="card-{ref}"')
    return page[page.rindex("<article", 0, at):page.index("</article>", at)]


async def _frame_about(frames: AsyncIterator[Event], ref: str) -> Event:
    """The next `tickets` frame that redraws `ref`'s ticket."""
    for _ in range(10):
        frame = await next_event(frames, "tickets")
        if f'data-ticket="{ref}"' in frame.data:
            return frame
    raise AssertionError(f"no frame redrew {ref}")


async def test_an_item_refund_while_cooking_raises_a_notice_on_every_screen_until_acknowledged(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis, web: RunningProcess
) -> None:
    ref, number = await _order(client, sandbox, redis, ("accept", "start"))
    token = await login(client, OWNER)
    line, pass_ = await logged_in(web, KITCHEN), await logged_in(web, KITCHEN)
    try:
        async with line.stream("GET", "/kitchen/demo/events", headers=SSE) as first, \
                pass_.stream("GET", "/kitchen/demo/events", headers=SSE) as second:
            screens = [events(first).__aiter__(), events(second).__aiter__()]
            for frames in screens:
                board = await next_event(frames, "board")
                assert notices_of(board.data, ref) == []

            await _owner_refunds(client, token, ref, {"Tiramisu": 1})
            for frames in screens:  # every screen, live
                frame = await _frame_about(frames, ref)
                told = notices_of(frame.data, ref)
                assert len(told) == 1, frame.data
                assert f"#{number}: 1{TIMES} Tiramisu refunded — do not make it." in told[0]
                assert f"{format_money(700, 'EUR')} back to the customer" in told[0]
                assert f"Acknowledge #{number}" in told[0]
                card = card_of(frame.data, ref)  # the ticket stands out until acknowledged
                assert "has-refund-notice" in card and "data-refund-unseen" in card, card
                assert "New refund" in _text(card)
                assert 'data-refund-new="1"' in card

            # A screen opened now shows it too.
            opened = (await pass_.get("/kitchen/demo")).text
            assert len(notices_of(opened, ref)) == 1
            assert "data-refund-unseen" in card_of(opened, ref)

            done = await line.post(f"/kitchen/demo/notices/{ref}/acknowledge",
                                   data={"_csrf_token": line.cookies["csrftoken"]}, headers=HX)
            assert done.status_code == 200, done.text
            for frames in screens:  # gone from every screen, the ticket back to normal
                board = await next_event(frames, "board")
                assert notices_of(board.data, ref) == [], board.data
                card = card_of(board.data, ref)
                assert "data-refund-unseen" not in card and "New refund" not in card
                assert "data-refund-new" not in card
                # the refund itself stays on the ticket: one Tiramisu left to make
                assert f"1{TIMES} Tiramisu" in _text(card) and "1 refunded" in _text(card)
        later = (await line.get("/kitchen/demo")).text
        assert notices_of(later, ref) == []
    finally:
        await line.aclose()
        await pass_.aclose()


async def test_only_a_ticket_in_hand_raises_one_not_one_made_or_handed_over(
    client: httpx.AsyncClient, kitchen: httpx.AsyncClient, sandbox: RunningSandbox,
    redis: ArqRedis
) -> None:
    accepted, accepted_no = await _order(client, sandbox, redis, ("accept",))
    ready, _ready_no = await _order(client, sandbox, redis, ("accept", "start", "ready"))
    handed, _handed_no = await _order(client, sandbox, redis,
                                      ("accept", "start", "ready", "complete"))
    token = await login(client, OWNER)
    for ref in (accepted, ready, handed):
        await _owner_refunds(client, token, ref, {"Tiramisu": 1, "Margherita pizza": 1})

    board = (await kitchen.get("/kitchen/demo/board")).text
    told = notices_of(board, accepted)
    assert len(told) == 1, board
    assert (f"#{accepted_no}: 1{TIMES} Tiramisu, 1{TIMES} Margherita pizza refunded — "
            "do not make them.") in told[0]
    assert notices_of(board, ready) == [] and notices_of(board, handed) == []
    ready_card = card_of(board, ready)
    assert "Refunded" in ready_card and "data-refund-unseen" not in ready_card
    assert not await OrderRefund.exists().where(
        (OrderRefund.kitchen_notice == True)  # noqa: E712 - SQL
        & OrderRefund.paid_order.is_in([(await reload(ready)).id, (await reload(handed)).id]))

    # "Acknowledge all" takes it too.
    done = await kitchen.post("/kitchen/demo/notices/acknowledge",
                              data={"_csrf_token": kitchen.cookies["csrftoken"]}, headers=HX)
    assert done.status_code == 200, done.text
    board = (await kitchen.get("/kitchen/demo/board")).text
    assert notices_of(board, accepted) == []
    assert "data-refund-unseen" not in card_of(board, accepted)


async def test_a_whole_refund_after_an_item_refund_keeps_its_own_notice(
    client: httpx.AsyncClient, kitchen: httpx.AsyncClient, sandbox: RunningSandbox,
    redis: ArqRedis
) -> None:
    ref, number = await _order(client, sandbox, redis, ("accept", "start"))
    rest, rest_no = await _order(client, sandbox, redis, ("accept", "start"))
    token = await login(client, OWNER)
    await _owner_refunds(client, token, ref, {"Tiramisu": 1})
    await _owner_refunds(client, token, rest, {"Tiramisu": 1})
    board = (await kitchen.get("/kitchen/demo/board")).text
    assert len(notices_of(board, ref)) == 1 and len(notices_of(board, rest)) == 1

    # "Refund everything" on the owner's page: the whole refund's notice, as before, alone.
    whole = await client.post(f"/manage/demo/orders/{ref}/refund", data={
        "_csrf_token": token, "confirm": "yes"}, follow_redirects=False)
    assert whole.status_code == 303, whole.text
    # Every item left refunded: the whole refund too (the order closes).
    await _owner_refunds(client, token, rest, {"Tiramisu": 1, "Margherita pizza": 1})
    assert (await reload(ref)).status == (await reload(rest)).status == "refunded"
    board = (await kitchen.get("/kitchen/demo/board")).text
    for order_ref, ticket in ((ref, number), (rest, rest_no)):
        assert f'id="card-{order_ref}"' not in board
        told = notices_of(board, order_ref)
        assert len(told) == 1, board
        assert f"#{ticket} refunded by the restaurant" in told[0]
        assert told[0].endswith("stop preparing it. Acknowledge #" + str(ticket)), told[0]
        assert "do not make" not in told[0]

    for order_ref in (ref, rest):
        done = await kitchen.post(f"/kitchen/demo/notices/{order_ref}/acknowledge",
                                  data={"_csrf_token": kitchen.cookies["csrftoken"]},
                                  headers=HX)
        assert done.status_code == 200, done.text
    board = (await kitchen.get("/kitchen/demo/board")).text
    assert notices_of(board, ref) == [] and notices_of(board, rest) == []
    assert not await OrderRefund.exists().where(
        (OrderRefund.kitchen_notice == True)  # noqa: E712 - SQL
        & OrderRefund.notice_acknowledged_at.is_null())
