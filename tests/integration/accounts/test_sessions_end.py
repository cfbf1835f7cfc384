"""Sessions end when an account is removed or its role changes, on the very next request
(any web process: the check goes through Redis, Postgres the record) and on an open kitchen
stream of a real `orderpass web` within a heartbeat."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from arq.connections import ArqRedis

from app.accounts import session_versions
from app.accounts.tables import StaffUser
from tests.helpers.accounts import add_member, login, user_id
from tests.helpers.server import RunningProcess, start_web

HTML = {"accept": "text/html"}


async def _sent_to_login(client: httpx.AsyncClient, url: str) -> bool:
    response = await client.get(url, headers=HTML)
    return response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_removing_a_member_ends_their_session_at_once(
        client: httpx.AsyncClient, other_client: httpx.AsyncClient) -> None:
    cook = await user_id("kitchen@demo.test")
    await login(other_client, "kitchen@demo.test")
    assert (await other_client.get("/kitchen/demo")).status_code == 200
    token = await login(client, "owner@demo.test")
    removed = await client.post(f"/manage/demo/staff/{cook}/remove",
                                data={"_csrf_token": token})
    assert removed.status_code == 303
    assert await _sent_to_login(other_client, "/kitchen/demo")
    assert (await other_client.post(
        "/kitchen/demo/orders/TEMP-x/accept", headers={"hx-request": "true"},
        data={"_csrf_token": other_client.cookies["csrftoken"]})).status_code == 401
    assert await StaffUser.count().where(StaffUser.email == "kitchen@demo.test") == 0
    # And they cannot log in again.
    await other_client.get("/login")
    again = await other_client.post("/login", data={
        "_csrf_token": other_client.cookies["csrftoken"], "email": "kitchen@demo.test",
        "password": "demo"})
    assert again.status_code == 401


async def test_a_role_change_ends_the_session_and_the_next_login_has_the_new_role(
        client: httpx.AsyncClient, other_client: httpx.AsyncClient) -> None:
    cook = await user_id("kitchen@demo.test")
    await login(other_client, "kitchen@demo.test")
    token = await login(client, "owner@demo.test")
    changed = await client.post(f"/manage/demo/staff/{cook}/role",
                                data={"_csrf_token": token, "role": "manager"})
    assert changed.status_code == 303
    assert await _sent_to_login(other_client, "/kitchen/demo")
    await login(other_client, "kitchen@demo.test")
    assert (await other_client.get("/manage/demo/staff")).status_code == 200
    # The same role again changes nothing and ends nothing; a bad role is a field error.
    same = await client.post(f"/manage/demo/staff/{cook}/role",
                             data={"_csrf_token": token, "role": "manager"})
    assert same.status_code == 303
    assert (await other_client.get("/manage/demo")).status_code == 200
    bad = await client.post(f"/manage/demo/staff/{cook}/role",
                            data={"_csrf_token": token, "role": "chef"})
    assert bad.status_code == 422 and "Choose a role." in bad.text
    assert (await other_client.get("/manage/demo")).status_code == 200
    # The owner's own session never moved.
    assert (await client.get("/manage/demo/settings")).status_code == 200


async def test_the_check_holds_when_redis_forgot_the_cached_version(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    """Postgres is the record: a flushed cache is refilled from it, never trusted blank."""
    manager = await add_member("manager@demo.test", "manager")
    await login(client, "manager@demo.test")
    assert (await client.get("/manage/demo")).status_code == 200
    assert await redis.get(f"orderpass:account:{manager}:session-version") == b"1"
    # The account changes behind the cache's back (another process, Redis lost the write).
    await StaffUser.update({StaffUser.session_version: 5}).where(StaffUser.id == manager)
    assert (await client.get("/manage/demo")).status_code == 200  # cached for its TTL
    await redis.delete(f"orderpass:account:{manager}:session-version")
    assert await _sent_to_login(client, "/manage/demo")
    assert await session_versions.current_version(redis, manager) == 5


@pytest.fixture
def web() -> Iterator[RunningProcess]:
    with start_web(env={"SSE_HEARTBEAT_SECONDS": "0.5"}) as server:
        yield server


async def test_an_open_kitchen_stream_closes_when_its_account_is_removed(
        web: RunningProcess, client: httpx.AsyncClient) -> None:
    cook = await user_id("kitchen@demo.test")
    async with httpx.AsyncClient(base_url=web.url, timeout=10) as tablet:
        await login(tablet, "kitchen@demo.test")
        async with tablet.stream("GET", "/kitchen/demo/events",
                                 headers={"accept": "text/event-stream"}) as stream:
            assert stream.status_code == 200
            lines = stream.aiter_lines()
            assert (await anext(lines)).startswith(("retry:", "event:", "id:", "data:"))
            token = await login(client, "owner@demo.test")
            removed_at = time.monotonic()
            assert (await client.post(f"/manage/demo/staff/{cook}/remove",
                                      data={"_csrf_token": token})).status_code == 303

            async def drain() -> None:
                async for _ in lines:
                    pass

            await asyncio.wait_for(drain(), timeout=5)  # the server ended the stream
            assert time.monotonic() - removed_at < 5
        reconnect = await tablet.get("/kitchen/demo/events",
                                     headers={"accept": "text/event-stream"})
        assert reconnect.status_code == 401
