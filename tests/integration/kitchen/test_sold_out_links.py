"""The kitchen 86's a dish (or an option) while diners hold open payment links for it: those
links are closed at Stripe by the worker, so nobody pays for what the kitchen cannot make
(an outside try paid for a Tiramisu sold out while its link was open, and its money would
have come back days later). The diner's page and email say which dish sold out and that
nothing was charged; orders without it keep their links."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis

from app.orders.temp_store import TempOrderStore
from tests.helpers.accounts import login
from tests.helpers.menu_forms import item_form
from tests.helpers.orders import menu
from tests.helpers.payments import send_as_worker
from tests.helpers.sandbox import RunningSandbox, stripe_client
from workers.kitchen_jobs import expire_links_with_sold_out

HX = {"hx-request": "true"}
JOB = "expire_links_with_sold_out"


def order_of(items: list[tuple[int, list[int]]], language: str = "en") -> dict[str, Any]:
    return {"restaurant": "demo", "language": language, "fulfillment": "pickup",
            "customer": {"name": "Ada", "email": "ada@example.com"},
            "items": [{"menu_item_id": item, "quantity": 1, "modifiers": options}
                      for item, options in items]}


async def run_queued_job(redis: ArqRedis) -> list[str]:
    [queued] = [job for job in await redis.queued_jobs() if job.function == JOB]
    return await expire_links_with_sold_out({"redis": redis}, *queued.args)


@pytest.mark.parametrize("language", ["en", "de"])
async def test_a_dish_86d_closes_the_open_links_that_hold_it(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis,
        language: str) -> None:
    items = {item["name"]: item["id"] for item in (await menu(client))["items"]}
    with_it = await client.post("/api/orders", json=order_of(
        [(items["Tiramisu"], []), (items["Lemonade"], [])], language))
    without = await client.post("/api/orders", json=order_of([(items["Lemonade"], [])]))
    assert with_it.status_code == without.status_code == 201, with_it.text
    ref = with_it.json()["id"]

    token = await login(client, "kitchen@demo.test")
    out = await client.post(f"/kitchen/demo/menu/{items['Tiramisu']}/availability",
                            data={"_csrf_token": token, "available": "0"}, headers=HX)
    assert out.status_code == 200, out.text
    assert await run_queued_job(redis) == [ref]

    store = TempOrderStore(redis, 3600)
    stripe = stripe_client(sandbox.url)
    closed = await store.get(ref)
    assert closed is not None and closed.status == "payment_expired"
    assert closed.sold_out == "Tiramisu"
    session_id = str(closed.checkout_session_id)
    assert stripe.v1.checkout.sessions.retrieve(session_id).status == "expired"
    paid = httpx.post(f"{sandbox.url}/_control/checkout/sessions/{session_id}/pay")
    assert paid.status_code >= 400, paid.text  # nobody can pay for it any more
    kept = await store.get(without.json()["id"])
    assert kept is not None and kept.status == "awaiting_payment"
    assert stripe.v1.checkout.sessions.retrieve(str(kept.checkout_session_id)).status == "open"

    page = " ".join((await client.get(f"/orders/{ref}")).text.split())
    said = {"en": ("Tiramisu sold out before you paid, so we closed your payment link.",
                   "Nothing was charged."),
            "de": ("Tiramisu war ausverkauft, bevor Sie bezahlt haben",
                   "Es wurde nichts abgebucht.")}[language]
    assert all(words in page for words in said), page[-3000:]
    assert 'href="/r/demo"' in page and "payment-link" not in page  # no new link offered
    assert await send_as_worker(redis, sandbox, "link_expired", ref) == "sent via resend"
    [email] = sandbox.wait_for(lambda: [message for message in sandbox.messages()
                                        if ref in message["text"]], timeout=10)
    assert email["subject"] == {
        "en": "Tiramisu sold out at Demo Bistro before you paid: nothing was charged",
        "de": "Tiramisu war bei Demo Bistro ausverkauft, bevor Sie bezahlt haben: Es wurde "
              "nichts abgebucht"}[language]
    assert "closed before you paid" not in email["text"]


async def test_an_option_86d_closes_only_the_links_that_chose_it(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    item = {i["name"]: i for i in (await menu(client))["items"]}["Pizza your way"]
    groups = {g["name"]: g for g in item["groups"]}
    size = groups["Size"]["options"][0]["id"]
    olives = {o["name"]: o for o in groups["Extras"]["options"]}["Olives"]["id"]
    chose = await client.post("/api/orders", json=order_of([(item["id"], [size, olives])]))
    plain = await client.post("/api/orders", json=order_of([(item["id"], [size])]))
    assert chose.status_code == plain.status_code == 201, chose.text
    token = await login(client, "kitchen@demo.test")
    out = await client.post(f"/kitchen/demo/menu/options/{olives}/availability",
                            data={"_csrf_token": token, "available": "0"}, headers=HX)
    assert out.status_code == 200, out.text
    assert await run_queued_job(redis) == [chose.json()["id"]]
    page = " ".join((await client.get(f"/orders/{chose.json()['id']}")).text.split())
    assert "Olives (Pizza your way) sold out before you paid" in page, page[-3000:]
    kept = await TempOrderStore(redis, 3600).get(plain.json()["id"])
    assert kept is not None and kept.status == "awaiting_payment"


@pytest.mark.parametrize("change", ["unavailable", "hidden", "deleted"])
async def test_a_dish_the_owner_takes_off_the_menu_closes_the_open_links_that_hold_it(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis,
        change: str) -> None:
    """An outside try: the owner unticked "Available" in the dish editor (not the kitchen's
    86) while a diner's link for it was open; the diner paid for a dish sold out, and the
    kitchen had to reject and refund. The editor's save (unticked, hidden, or the dish
    deleted) closes those links as the kitchen's 86 does."""
    items = {item["name"]: item["id"] for item in (await menu(client))["items"]}
    dish = items["Tiramisu"]
    with_it = await client.post("/api/orders", json=order_of(
        [(dish, []), (items["Lemonade"], [])]))
    without = await client.post("/api/orders", json=order_of([(items["Lemonade"], [])]))
    assert with_it.status_code == without.status_code == 201, with_it.text
    ref = with_it.json()["id"]

    token = await login(client, "owner@demo.test")
    if change == "deleted":
        saved = await client.post(f"/manage/demo/menu/items/{dish}/delete",
                                  data={"_csrf_token": token})
    else:
        form = await item_form(client, dish)
        if change == "unavailable":
            form.pop("available", None)
        else:
            form["hidden"] = "on"
        saved = await client.post(f"/manage/demo/menu/items/{dish}",
                                  data={**form, "_csrf_token": token})
    assert saved.status_code in (200, 303), saved.text[-2000:]
    assert "error" not in saved.headers.get("location", ""), saved.headers
    assert await run_queued_job(redis) == [ref]
    store = TempOrderStore(redis, 3600)
    closed = await store.get(ref)
    assert closed is not None and closed.status == "payment_expired"
    assert closed.sold_out == "Tiramisu"
    kept = await store.get(without.json()["id"])
    assert kept is not None and kept.status == "awaiting_payment"

    # A save that leaves the dish orderable (a new description) closes nothing.
    if change != "deleted":
        form = await item_form(client, items["Lemonade"])
        form["description"] = "Fresh lemons"
        saved = await client.post(f"/manage/demo/menu/items/{items['Lemonade']}",
                                  data={**form, "_csrf_token": token})
        assert saved.status_code in (200, 303)
        assert [job for job in await redis.queued_jobs() if job.function == JOB
                and job.args[2] == items["Lemonade"]] == []
