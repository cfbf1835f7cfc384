"""Hostile customer names and notes, submitted through `POST /api/orders` and paid through
the real Stripe webhook path, come out escaped everywhere they are shown: status page,
kitchen page, board fragment, action answer, ticket, the kitchen's SSE frames, emails."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis

from app.live.feed import publish_order_event
from app.notifications.compose import render_email
from app.notifications.delivery import _restaurant
from app.notifications.service import EMAIL_KINDS
from app.orders.views import load_order_view
from tests.helpers.accounts import PASSWORD, csrf_from_html, login
from tests.helpers.orders import make_paid_order, pay_and_post_webhook, valid_order
from tests.helpers.payloads import ESCAPED_MARKERS, HOSTILE, live_problems, svix_signed
from tests.helpers.routes import ROUTES
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess

NAME = " ".join(HOSTILE)  # 101 characters: fits the 120 allowed
assert len(NAME) <= 120


def assert_inert(html: str, where: str, *, escaped: bool = True) -> None:
    problems = live_problems(html)
    assert not problems, f"{where}: live markup {problems}"
    if escaped:
        assert any(marker in html for marker in ESCAPED_MARKERS), f"{where}: payload missing"


async def hostile_order(client: httpx.AsyncClient) -> dict[str, Any]:
    body = await valid_order(client)
    body["customer"]["name"] = NAME
    body["notes"] = NAME
    for item in body["items"]:
        item["notes"] = NAME
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def emails_of(redis: ArqRedis, ref: str) -> Iterator[tuple[str, str, str]]:
    view = await load_order_view(redis, ref)
    assert view is not None
    restaurant = await _restaurant(view.restaurant_id)
    assert restaurant is not None
    rendered = []
    for kind in sorted(EMAIL_KINDS):
        email = render_email(kind, view, restaurant, "https://orderpass.example")
        rendered.append((kind, email.html, email.subject))
    return iter(rendered)


async def test_hostile_text_is_escaped_from_intake_to_kitchen(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    created = await hostile_order(client)
    ref = created["id"]

    unpaid = await client.get(f"/orders/{ref}")
    assert unpaid.status_code == 200
    assert_inert(unpaid.text, "status page (unpaid)")
    for kind, html, subject in await emails_of(redis, ref):
        assert_inert(html, f"email {kind} (unpaid)", escaped=False)
        assert "<" not in subject

    await pay_and_post_webhook(client, sandbox, created)
    for path in (f"/orders/{ref}", f"/orders/{ref}/progress"):
        page = await client.get(path)
        assert page.status_code == 200
        assert_inert(page.text, path)
    for kind, html, _ in await emails_of(redis, ref):
        assert_inert(html, f"email {kind}", escaped=False)
    confirmation = next(html for kind, html, _ in await emails_of(redis, ref)
                        if kind == "payment_received")
    assert "&lt;" in confirmation  # the customer's text is there, escaped

    await login(client, "kitchen@demo.test")
    kitchen = await client.get("/kitchen/demo")
    assert ref in kitchen.text
    assert_inert(kitchen.text, "kitchen page")
    assert_inert((await client.get("/kitchen/demo/board")).text, "board fragment")
    ticket = await client.get(f"/kitchen/demo/orders/{ref}/ticket")
    assert ticket.status_code == 200
    assert_inert(ticket.text, "ticket")
    accepted = await client.post(f"/kitchen/demo/orders/{ref}/accept",
                                 data={"_csrf_token": csrf_from_html(kitchen.text),
                                       "prep_minutes": "10"},
                                 headers={"hx-request": "true"})
    assert accepted.status_code == 200, accepted.text
    assert_inert(accepted.text, "action answer (htmx card)")
    reject = await client.post(f"/kitchen/demo/orders/{ref}/reject",
                               data={"_csrf_token": csrf_from_html(kitchen.text),
                                     "reason": NAME}, headers={"hx-request": "true"})
    assert reject.status_code == 200, reject.text
    status = await client.get(f"/orders/{ref}")
    assert_inert(status.text, "status page with a hostile reject reason")
    for kind, html, _ in await emails_of(redis, ref):
        assert_inert(html, f"email {kind} (rejected)", escaped=False)


@contextlib.contextmanager
def logged_in(web: RunningProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=web.url, timeout=10) as browser:
        browser.get("/login")
        response = browser.post("/login", data={
            "email": "kitchen@demo.test", "password": PASSWORD,
            "_csrf_token": browser.cookies["csrftoken"]})
        assert response.status_code == 303, response.text
        yield browser


def sse_frames(browser: httpx.Client, path: str, names: list[str],
               on_frame: Callable[[str], None] = lambda _name: None) -> list[str]:
    """The data of the first event of each name in `names`, in that order; `on_frame` is
    called after each one (e.g. to cause the next)."""
    frames: list[str] = []
    data: list[str] = []
    with browser.stream("GET", path, headers={"accept": "text/event-stream"}) as stream:
        assert stream.status_code == 200
        event = ""
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.partition(":")[2].strip()
            elif line.startswith("data:") and event == names[len(frames)]:
                data.append(line.partition(":")[2].removeprefix(" "))
            elif not line and data:
                frames.append("\n".join(data))
                on_frame(event)
                if len(frames) == len(names):
                    return frames
                data = []
    raise AssertionError(f"no {names[len(frames)]} event")


@pytest.mark.parametrize("field", ["customer_name", "notes", "item"])
async def test_kitchen_sse_frames_carry_escaped_text(web: RunningProcess, redis: ArqRedis,
                                                     field: str) -> None:
    payload = NAME
    extra: dict[str, Any] = {}
    items = None
    if field == "item":
        items = [("Burrata", 1150, 1, payload)]
    else:
        extra[field] = payload
    order = await make_paid_order(items=items, **extra)
    loop = asyncio.get_running_loop()

    def announce(event: str) -> None:  # after the board: the order changes, a `tickets` frame
        if event == "board":
            asyncio.run_coroutine_threadsafe(publish_order_event(
                redis, order.restaurant, order.public_id, "order.updated"), loop).result(5)

    with logged_in(web) as browser:
        board, tickets = await asyncio.to_thread(
            sse_frames, browser, "/kitchen/demo/events", ["board", "tickets"], announce)
    for name, frame in (("board", board), ("tickets", tickets)):
        assert order.public_id in frame
        assert_inert(frame, f"SSE {name} frame ({field})")


async def test_hostile_webhook_deliveries_and_orders_are_inert_on_admin_pages(
        client: httpx.AsyncClient) -> None:
    """Unsigned Resend deliveries are recorded (svix-id, error, body) and shown to admins:
    whatever a stranger posts there must stay text on the admin pages."""
    for payload in HOSTILE:
        refused = await client.post("/webhooks/resend", content=payload.encode(),
                                    headers={"svix-id": payload, "svix-signature": payload,
                                             "svix-timestamp": payload})
        assert refused.status_code == 400
    body = json.dumps({"type": NAME, "data": {"email_id": NAME}}).encode()
    signed = await client.post("/webhooks/resend", content=body,
                               headers=svix_signed(body, "msg_" + HOSTILE[0]))
    assert signed.status_code == 200
    await make_paid_order(customer_name=NAME[:120], notes=NAME,
                          items=[("Burrata", 1150, 1, NAME)])
    await login(client, "admin@orderpass.test")
    pages = [path for method, path in ROUTES if method == "GET"
             and ROUTES[(method, path)] == "admin" and "{" not in path]
    assert "/admin/webhooks" in pages
    for path in pages:
        response = await client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert_inert(response.text, path, escaped=False)
    inbox = (await client.get("/admin/webhooks")).text
    assert "&lt;script&gt;" in inbox  # the stranger's svix-id is listed, escaped
    detail = await client.get("/admin/restaurants/demo")
    assert_inert(detail.text, "/admin/restaurants/demo", escaped=False)
