"""The owner's two refund forms say truthfully who reads their reason (outside try): the
items' reason is shown to the customer (their refund email and their order's page); the
whole refund's note goes to the server's log only, the customer never sees it."""

from __future__ import annotations

import re

import httpx
from arq.connections import ArqRedis

from tests.helpers.accounts import login
from tests.helpers.payments import accepted_order
from tests.helpers.sandbox import RunningSandbox


def label_of(html: str, field_id: str) -> str:
    match = re.search(rf'<label for="{field_id}">([^<]*)</label>', html)
    assert match, field_id
    return match.group(1)


async def test_each_refund_form_says_who_reads_its_reason(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    order, [first, _] = await accepted_order(client, sandbox, redis)
    token = await login(client, "owner@demo.test")
    page = (await client.get(f"/manage/demo/orders/{order.public_id}")).text
    assert "shown to the customer" in label_of(page, "items-reason")
    whole = label_of(page, "reason")
    assert "not shown to the customer" in whole and "log" in whole, whole
    # as said: the items' reason is on the diner's page, the whole refund's note is not
    nonce = re.search(r'name="nonce" value="([^"]+)"', page)
    assert nonce
    made = await client.post(f"/manage/demo/orders/{order.public_id}/refund", data={
        "_csrf_token": token, "nonce": nonce.group(1), f"qty_{first.id}": "1",
        "reason": "Pizza burnt"}, follow_redirects=False)
    assert made.status_code == 303, made.text
    assert "Pizza burnt" in (await client.get(f"/orders/{order.public_id}")).text
    made = await client.post(f"/manage/demo/orders/{order.public_id}/refund", data={
        "_csrf_token": token, "confirm": "yes", "reason": "Regular, owner knows her"},
        follow_redirects=False)
    assert made.status_code == 303, made.text
    assert "Regular, owner knows her" not in (await client.get(f"/orders/{order.public_id}")).text
