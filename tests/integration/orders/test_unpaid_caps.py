"""Open unpaid orders are capped per client address (issue #14 item 11), and their
payment-link emails per email address: each order holds Redis memory until its link expires
and emails the address typed in. Past the per-client cap an order is refused with a 429 that
says what to do (JSON API and HTML checkout alike). Past the per-email cap it is taken all
the same, its link answered to the submitter, but not emailed: a stranger typing an address
in floods nobody's inbox and locks nobody out of ordering. A paid or closed order stops
counting.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.notifications.tables import EmailMessage
from app.settings import get_settings, reset_settings_cache
from tests.helpers.orders import pay_and_post_webhook, temp_keys, valid_order
from tests.helpers.sandbox import RunningSandbox
from workers.email_jobs import send_email


@pytest.fixture
def caps(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    monkeypatch.setenv("UNPAID_ORDERS_PER_EMAIL", "3")
    monkeypatch.setenv("UNPAID_ORDERS_PER_IP", "5")
    reset_settings_cache()
    yield {"email": get_settings().unpaid_orders_per_email,
           "ip": get_settings().unpaid_orders_per_ip}
    monkeypatch.undo()
    reset_settings_cache()


async def order_for(client: httpx.AsyncClient, email: str) -> httpx.Response:
    body = await valid_order(client)
    body["customer"]["email"] = email
    return await client.post("/api/orders", json=body)


async def send_queued(redis: Any, sandbox: RunningSandbox) -> None:
    """What the worker does: every queued email sent through the sandbox's Resend."""
    settings = get_settings().model_copy(update={"resend_api_url": sandbox.url})
    ctx = {"redis": redis, "settings": settings, "job_try": 1}
    for row in await EmailMessage.select().where(EmailMessage.status == "queued"):
        await send_email(ctx, row["kind"], row["order_ref"])


async def test_payment_link_emails_are_capped_per_email_but_orders_are_not(
        client: httpx.AsyncClient, caps: dict[str, int], sandbox: RunningSandbox,
        redis: Any) -> None:
    created = [await order_for(client, "victim@example.com") for _ in range(caps["email"])]
    assert [response.status_code for response in created] == [201] * caps["email"]
    # One more (the address in other letters): taken, its link answered as usual …
    extra = await order_for(client, "Victim@Example.com")
    assert extra.status_code == 201, extra.text
    assert extra.json()["payment_url"] and extra.json()["status"] == "awaiting_payment"
    assert len(await temp_keys(redis)) == caps["email"] + 1
    # … but not emailed: the address got one payment-link email per capped order only.
    await send_queued(redis, sandbox)
    victim = sandbox.messages(to="victim@example.com")
    assert len(victim) == caps["email"], [message["subject"] for message in victim]
    assert not any(extra.json()["payment_url"] in message["text"] for message in victim)
    assert not await EmailMessage.exists().where(
        EmailMessage.order_ref == extra.json()["id"])
    # Its page shows the link and does not claim it was emailed.
    page = await client.get(f"/orders/{extra.json()['id']}")
    assert extra.json()["payment_url"] in page.text and "We also emailed" not in page.text
    assert "We also emailed" in (await client.get(f"/orders/{created[1].json()['id']}")).text
    # Its link works: the owner of the address can pay it.
    assert await pay_and_post_webhook(client, sandbox, extra.json()) == "created"
    # Another address is not affected; paying an emailed order frees its place.
    assert (await order_for(client, "someone@example.com")).status_code == 201
    assert await pay_and_post_webhook(client, sandbox, created[0].json()) == "created"
    again = await order_for(client, "victim@example.com")
    assert again.status_code == 201
    await send_queued(redis, sandbox)
    assert any(again.json()["payment_url"] in message["text"]
               for message in sandbox.messages(to="victim@example.com"))


async def test_open_unpaid_orders_are_capped_per_client_address(
        client: httpx.AsyncClient, caps: dict[str, int]) -> None:
    for n in range(caps["ip"]):
        assert (await order_for(client, f"guest{n}@example.com")).status_code == 201
    refused = await order_for(client, "guest-last@example.com")
    assert refused.status_code == 429, refused.text
    assert "from your network" in refused.text
    # The HTML checkout shares the cap and says so on the page.
    await client.get("/r/demo")
    item = (await client.get("/api/restaurants/demo/menu")).json()["items"][0]["id"]
    page = await client.post("/r/demo/checkout", data={
        "_csrf_token": client.cookies["csrftoken"], f"qty-{item}": "1", "name": "Ada",
        "email": "ada@example.com", "fulfillment": "pickup"})
    assert page.status_code == 422 and "from your network" in page.text



async def test_a_sixth_order_for_one_address_is_taken_but_not_emailed(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: Any) -> None:
    """The outside tester's case, with the defaults (UNPAID_ORDERS_PER_EMAIL=5): five
    anonymous orders naming the victim's address, then the victim's own."""
    assert get_settings().unpaid_orders_per_email == 5
    for _ in range(5):
        assert (await order_for(client, "victim@example.com")).status_code == 201
    own = await order_for(client, "victim@example.com")
    assert own.status_code == 201, own.text
    assert own.json()["payment_url"]
    await send_queued(redis, sandbox)
    assert len(sandbox.messages(to="victim@example.com")) == 5
