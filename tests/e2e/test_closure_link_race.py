"""A closure closes open payment links while Stripe's `checkout.session.expired` webhook
about each lands on the web process at once (real `orderpass web`, the sandbox delivering
its webhooks there). The webhook used to close the order first without the closure's
reason, and the diner read "not paid in time" and was invited to get a new link the page
then refused; one of the two also counted it twice. Now the reason is on the order before
Stripe is asked, and only one of the two closes it."""

from __future__ import annotations

from datetime import datetime

import httpx
from arq.connections import ArqRedis

from app.platform.tables import FunnelDaily
from app.restaurants.tables import RestaurantClosure
from tests.helpers.accounts import login
from tests.helpers.hours import BERLIN
from tests.helpers.orders import order_for
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess
from workers.kitchen_jobs import expire_links_in_closure

DINERS = 8


async def test_the_diner_reads_why_whoever_closes_the_link_first(
        web: RunningProcess, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    async with httpx.AsyncClient(base_url=web.url, timeout=20) as client:
        refs = []
        for index in range(DINERS):
            body = await order_for(client, None)
            body["customer"]["email"] = f"diner{index}@example.com"
            created = await client.post("/api/orders", json=body)
            assert created.status_code == 201, created.text
            refs.append(created.json()["id"])
        token = await login(client, "owner@demo.test")
        added = await client.post("/manage/demo/hours/closures", data={
            "_csrf_token": token, "starts_on": datetime.now(BERLIN).date().isoformat(),
            "reason": "Burst pipe"})
        assert added.status_code == 303, added.text[-2000:]
        [closure] = await RestaurantClosure.objects().where(
            RestaurantClosure.reason == "Burst pipe")

        # the worker's job, here; the webhooks of the links it expires go to the web
        closed = await expire_links_in_closure({"redis": redis}, closure.id)
        assert sorted(closed) == sorted(refs)
        sandbox.wait_for(lambda: len([d for d in sandbox.deliveries()
                                      if d.get("type") == "checkout.session.expired"
                                      and d.get("status_code") == 200]) >= DINERS, timeout=20)
        for ref in refs:
            page = (await client.get(f"/orders/{ref}")).text
            assert "Demo Bistro closed before you paid" in page, (ref, page[-3000:])
            assert "Reason: Burst pipe" in page and "Get a new payment link" not in page
    funnel = await FunnelDaily.select(FunnelDaily.expired).first()
    assert funnel is not None and funnel["expired"] == DINERS  # each counted once
