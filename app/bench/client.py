"""HTTP helpers shared by the bench sections: order payloads, staff login, paid orders
(created through the API, paid through the sandbox control API) and signed Stripe events."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import re
import time
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import httpx

SANDBOX_STRIPE_KEY = "sk_test_orderpass_sandbox"
REF_PATTERN = re.compile(rb"TEMP-[A-Za-z0-9]{22}")
_counter = itertools.count(1)


@dataclass(frozen=True)
class PaidOrder:
    """An order paid on the sandbox whose `checkout.session.completed` event is not sent yet."""

    ref: str
    session_id: str
    event: dict[str, Any]


async def menu_item_ids(client: httpx.AsyncClient, slug: str) -> list[int]:
    response = await client.get(f"/api/restaurants/{slug}/menu")
    response.raise_for_status()
    # Dishes an order can name without choosing options (a required size needs a choice).
    return [item["id"] for item in response.json()["items"] if item.get("available", True)
            and not any(group.get("required") for group in item.get("groups", []))]


def order_payload(slug: str, item_ids: list[int]) -> dict[str, Any]:
    """A small, valid pickup order with a unique customer address."""
    number = next(_counter)
    items = [{"menu_item_id": item_ids[(number + k) % len(item_ids)], "quantity": 1 + k}
             for k in range(min(2, len(item_ids)))]
    return {"restaurant": slug, "items": items, "fulfillment": "pickup",
            "customer": {"name": f"Bench {number}", "email": f"bench{number}@example.com"}}


def session_id_of(order: dict[str, Any]) -> str:
    url = str(order.get("payment_url") or "")
    return url.rstrip("/").rsplit("/", 1)[-1]


async def login(base_url: str, slug: str, password: str) -> dict[str, str]:
    """Log in as the demo kitchen staff (CSRF cookie first); returns the session cookies."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        page = await client.get("/login")
        page.raise_for_status()
        token = client.cookies.get("csrftoken") or ""
        response = await client.post(
            "/login", data={"email": f"kitchen@{slug}.test", "password": password,
                            "_csrf_token": token},
            headers={"x-csrftoken": token})
        if response.status_code not in (200, 302, 303):
            raise RuntimeError(f"login failed: {response.status_code} {response.text[:200]}")
        return dict(client.cookies.items())


async def login_many(base_url: str, slugs: list[str], password: str,
                     concurrency: int = 16) -> dict[str, str]:
    """The demo-style kitchen login of each restaurant (`kitchen@<slug>.test`); returns
    slug → Cookie header. One HTTP client for all (a client per login spent more of the
    bench's CPU on TLS contexts than the logins took), cookies carried by hand."""
    cookies: dict[str, str] = {}
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        # It keeps no cookies: one login's session must not ride along with another.
        client.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))

        async def one(slug: str) -> None:
            async with gate:
                page = await client.get("/login")
                page.raise_for_status()
                jar = dict(page.cookies.items())
                token = jar.get("csrftoken", "")
                response = await client.post(
                    "/login", data={"email": f"kitchen@{slug}.test", "password": password,
                                    "_csrf_token": token},
                    headers={"x-csrftoken": token, "cookie": _cookie_header(jar)})
                if response.status_code not in (200, 302, 303):
                    raise RuntimeError(f"login to {slug} failed: {response.status_code}")
                jar.update(response.cookies.items())
                cookies[slug] = _cookie_header(jar)

        await asyncio.gather(*(one(slug) for slug in slugs))
    return cookies


def _cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in jar.items())


async def create_orders(client: httpx.AsyncClient, slug: str, count: int,
                        concurrency: int = 16) -> list[dict[str, Any]]:
    """`count` orders through `POST /api/orders` (the full intake path)."""
    item_ids = await menu_item_ids(client, slug)
    orders: list[dict[str, Any]] = []
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            response = await client.post("/api/orders", json=order_payload(slug, item_ids))
            response.raise_for_status()
            orders.append(response.json())

    await asyncio.gather(*(one() for _ in range(count)))
    return orders


async def paid_orders(web: httpx.AsyncClient, sandbox: httpx.AsyncClient, slug: str,
                      count: int, concurrency: int = 16) -> list[PaidOrder]:
    """Create `count` orders, pay each on the sandbox, and fetch the real
    `checkout.session.completed` events the sandbox emitted for them."""
    orders = await create_orders(web, slug, count, concurrency)
    return await pay(sandbox, orders, concurrency)


async def create_orders_for(client: httpx.AsyncClient, wanted: list[tuple[str, list[int]]],
                            concurrency: int = 16) -> list[dict[str, Any]]:
    """One order per (restaurant slug, its menu item ids), in that order."""
    orders: list[dict[str, Any]] = [{} for _ in wanted]
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int, slug: str, item_ids: list[int]) -> None:
        async with gate:
            response = await client.post("/api/orders", json=order_payload(slug, item_ids))
            response.raise_for_status()
            orders[index] = response.json()

    await asyncio.gather(*(one(index, slug, items) for index, (slug, items) in enumerate(wanted)))
    return orders


async def pay(sandbox: httpx.AsyncClient, orders: list[dict[str, Any]],
              concurrency: int = 16) -> list[PaidOrder]:
    """Pay each order on the sandbox and fetch the `checkout.session.completed` events it
    emitted for them (in the orders' order)."""
    gate = asyncio.Semaphore(concurrency)

    async def pay_one(order: dict[str, Any]) -> None:
        async with gate:
            response = await sandbox.post(
                f"/_control/checkout/sessions/{session_id_of(order)}/pay",
                json={"outcome": "succeeded"})
            response.raise_for_status()

    await asyncio.gather(*(pay_one(order) for order in orders))
    wanted = {session_id_of(order): order["id"] for order in orders}
    events: dict[str, dict[str, Any]] = {}
    params: dict[str, Any] = {"limit": 100, "type": "checkout.session.completed"}
    headers = {"Authorization": f"Bearer {SANDBOX_STRIPE_KEY}"}
    while len(events) < len(wanted):
        response = await sandbox.get("/v1/events", params=params, headers=headers)
        response.raise_for_status()
        page = response.json()
        for event in page["data"]:
            session_id = event["data"]["object"].get("id")
            if session_id in wanted:
                events[session_id] = event
        if not page.get("has_more") or not page["data"]:
            break
        params["starting_after"] = page["data"][-1]["id"]
    missing = len(wanted) - len(events)
    if missing:
        raise RuntimeError(f"{missing} checkout.session.completed events not found")
    return [PaidOrder(ref=wanted[sid], session_id=sid, event=events[sid]) for sid in wanted]


def signed(event: dict[str, Any], secret: str) -> tuple[bytes, dict[str, str]]:
    """The event as Stripe posts it: JSON body and a `Stripe-Signature` (v1, HMAC-SHA256)."""
    payload = json.dumps(event).encode()
    moment = int(time.time())
    digest = hmac.new(secret.encode(), f"{moment}.".encode() + payload, hashlib.sha256)
    return payload, {"stripe-signature": f"t={moment},v1={digest.hexdigest()}",
                     "content-type": "application/json"}
