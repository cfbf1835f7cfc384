"""A dish (or an option) the kitchen 86s after an order holding it was paid is marked on that
ticket's line, "Sold out" in words with an accessible name naming it, while the ticket is
still to be made (outside try: the cook learnt at the pass that a paid order held a dish they
could not make). On the page as opened, in the board every screen is sent when the 86 is
pressed (the one re-render per restaurant the change already causes), in a ticket's own
update, and gone when the dish is back. The order itself is not changed: the cook decides."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from arq.connections import ArqRedis

from app.orders import lifecycle
from tests.helpers.html_items import Item, items_of
from tests.helpers.orders import menu, paid_dishes, pay_and_post_webhook
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess
from tests.helpers.sse import Event, events, logged_in, next_event

KITCHEN = "kitchen@demo.test"


def lines_of(html: str, ref: str) -> list[Item]:
    """The lines of ticket `ref` as a frame or page shows them."""
    lines = [item for item in items_of(html, "lines") if item.ref == ref]
    assert lines, f"no ticket {ref} here"
    return lines


def marked(lines: list[Item]) -> list[str]:
    """Each line's sold-out mark: its accessible name ("" where none), checked said in words."""
    names = []
    for line in lines:
        label = next((label for label in line.labels if "sold out" in label), "")
        assert bool(label) == ("SOLD OUT" in line.text.upper()), line  # never the colour alone
        names.append(label)
    return names


async def _pizza_with_olives(client: httpx.AsyncClient, sandbox: RunningSandbox) -> str:
    item = {i["name"]: i for i in (await menu(client))["items"]}["Pizza your way"]
    groups = {group["name"]: group for group in item["groups"]}
    olives = {o["name"]: o for o in groups["Extras"]["options"]}["Olives"]
    created = await client.post("/api/orders", json={
        "restaurant": "demo", "fulfillment": "pickup",
        "customer": {"name": "Ada", "email": "ada@example.com"},
        "items": [{"menu_item_id": item["id"], "quantity": 1,
                   "modifiers": [groups["Size"]["options"][0]["id"], olives["id"]]}]})
    assert created.status_code == 201, created.text
    assert await pay_and_post_webhook(client, sandbox, created.json()) == "created"
    return str(created.json()["id"])


@asynccontextmanager
async def kitchen_frames(screen: httpx.AsyncClient) -> AsyncIterator[AsyncIterator[Event]]:
    """The screen's live stream, open."""
    async with screen.stream("GET", "/kitchen/demo/events",
                             headers={"accept": "text/event-stream"}) as response:
        assert response.status_code == 200
        yield events(response).__aiter__()


async def _switch(screen: httpx.AsyncClient, path: str, available: bool) -> None:
    response = await screen.post(f"/kitchen/demo/menu/{path}/availability", data={
        "_csrf_token": screen.cookies["csrftoken"], "available": "1" if available else "0"},
        headers={"hx-request": "true"})
    assert response.status_code == 200, response.text


async def test_a_dish_86d_after_payment_is_marked_on_its_open_tickets(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis, web: RunningProcess
) -> None:
    open_ref = await paid_dishes(client, sandbox, [("Tiramisu", 1), ("Margherita pizza", 1)])
    made_ref = await paid_dishes(client, sandbox, [("Tiramisu", 2)])
    for action in ("accept", "start", "ready"):  # made already: nothing left to tell
        await lifecycle.apply_action(made_ref, action, actor=KITCHEN, redis=redis)
    tiramisu = {i["name"]: i for i in (await menu(client))["items"]}["Tiramisu"]
    before = await client.get(f"/api/orders/{open_ref}")

    screen = await logged_in(web, KITCHEN)
    try:
        async with kitchen_frames(screen) as frames:
            board = await next_event(frames, "board")
            assert marked(lines_of(board.data, open_ref)) == ["", ""]

            await _switch(screen, str(tiramisu["id"]), available=False)
            board = await next_event(frames, "board")  # every screen re-reads the board
            assert marked(lines_of(board.data, open_ref)) == ["Tiramisu is sold out", ""]
            assert marked(lines_of(board.data, made_ref)) == [""]
            assert "sold out: Tiramisu" in board.data  # the ticket's own name says it too

            # a ticket's own update (here: accepted) keeps the mark
            await lifecycle.apply_action(open_ref, "accept", actor=KITCHEN, prep_minutes=10,
                                         redis=redis)
            update = await next_event(frames, "tickets")
            assert marked(lines_of(update.data, open_ref)) == ["Tiramisu is sold out", ""]

            page = await screen.get("/kitchen/demo")  # the screen opened now
            assert marked(lines_of(page.text, open_ref)) == ["Tiramisu is sold out", ""]
            printed = await screen.get(f"/kitchen/demo/orders/{open_ref}/ticket")
            assert "SOLD OUT" in printed.text

            await _switch(screen, str(tiramisu["id"]), available=True)
            board = await next_event(frames, "board")
            assert marked(lines_of(board.data, open_ref)) == ["", ""]
    finally:
        await screen.aclose()
    after = await client.get(f"/api/orders/{open_ref}")  # the order is not changed by it
    assert after.json()["items"] == before.json()["items"]
    assert after.json()["total"] == before.json()["total"]


async def test_an_option_86d_after_payment_is_marked_on_the_line_holding_it(
    client: httpx.AsyncClient, sandbox: RunningSandbox, web: RunningProcess
) -> None:
    ref = await _pizza_with_olives(client, sandbox)
    plain = await paid_dishes(client, sandbox, [("Tiramisu", 1)])
    item = {i["name"]: i for i in (await menu(client))["items"]}["Pizza your way"]
    olives: dict[str, Any] = {o["name"]: o for group in item["groups"]
                              for o in group["options"]}["Olives"]
    screen = await logged_in(web, KITCHEN)
    try:
        async with kitchen_frames(screen) as frames:
            await next_event(frames, "board")
            await _switch(screen, f"options/{olives['id']}", available=False)
            board = await next_event(frames, "board")
            [line] = lines_of(board.data, ref)
            assert marked([line]) == ["Olives (Pizza your way) sold out"]
            assert "Sold out: Olives" in line.text
            assert marked(lines_of(board.data, plain)) == [""]
            # the board's "86:" strip names it with its dish (it listed 86'd dishes only)
            strip = re.search(r'class="chip chip-86">([^<]*)<', board.data)
            assert strip and strip.group(1) == "86: Olives (Pizza your way)", board.data[:300]
    finally:
        await screen.aclose()
