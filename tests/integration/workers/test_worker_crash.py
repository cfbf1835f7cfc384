"""A real `orderpass worker` killed (SIGKILL) in the middle of sending an email: after a
restart the email is sent, and the customer's mailbox holds exactly one copy."""

from __future__ import annotations

import asyncio

import httpx
from arq.connections import ArqRedis

from app.notifications.delivery import CLAIM_PREFIX
from app.notifications.tables import EmailMessage
from app.orders.tables import PaidOrder
from tests.helpers.orders import submit
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import start_worker
from tests.helpers.stripe_events import paid_events, post_event
from tests.helpers.waiting import wait_until

LEASE_S = 3  # WORKER_JOB_LEASE_SECONDS of the worker killed; the send takes 4 s


async def _free(redis: ArqRedis, job_id: str) -> bool:
    return not await redis.exists(f"arq:in-progress:{job_id}")


async def test_worker_killed_mid_send_sends_the_email_exactly_once(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    order_id, session_id = await submit(client)
    sandbox.pay(session_id)
    [event] = paid_events(sandbox, session_id)
    assert (await post_event(client, event)).json() == {"result": "created"}
    order = await PaidOrder.objects().get(PaidOrder.public_id == order_id)
    assert order is not None
    email = order.customer_email
    job_id = f"email:payment_received:{order_id}"
    # Only the payment email matters here: the confirmation email for the same order
    # (queued at intake) is dropped so the mailbox count is about one email.
    await redis.delete(f"arq:job:email:order_confirmation:{order_id}")
    await redis.zrem("arq:queue", f"email:order_confirmation:{order_id}")

    sandbox.api_faults(service="resend", latency_ms=4000)  # every send now takes 4 s
    with start_worker({"WORKER_JOB_LEASE_SECONDS": str(LEASE_S)}) as worker:
        async def sending() -> bool:
            return bool(await redis.exists(f"arq:in-progress:{job_id}"))

        await wait_until(sending, timeout=30)
        await asyncio.sleep(1.0)  # the request to Resend is in flight
        worker.process.kill()  # SIGKILL: no shutdown, no clean-up
        worker.process.wait(timeout=10)
    row = await EmailMessage.objects().get(
        EmailMessage.idempotency_key == f"payment_received/{order_id}")
    assert row is not None and row.status == "queued"  # the kill left it unfinished

    sandbox.api_faults(service="resend", latency_ms=0)
    # The dead worker's lease on the job lapses on its own within the lease (renewed while
    # the send ran past it; arq's own marker lasted the longest job's timeout + 10 s: 610 s)
    assert 0 < await redis.pttl(f"arq:in-progress:{job_id}") <= LEASE_S * 1000
    # Our send claim is a lease too, renewed with the job's while the send ran past it (it
    # was a fixed minute, fast-forwarded here): it lapses on its own within the lease.
    claims = [key async for key in redis.scan_iter(match=CLAIM_PREFIX + "*")]
    assert claims and all(0 < ttl <= LEASE_S * 1000 for ttl in [await redis.pttl(key)
                                                                for key in claims])
    await wait_until(lambda: _free(redis, job_id), timeout=2 * LEASE_S)

    async def unclaimed() -> bool:
        return not [key async for key in redis.scan_iter(match=CLAIM_PREFIX + "*")]

    await wait_until(unclaimed, timeout=2 * LEASE_S)

    with start_worker():
        async def sent() -> bool:
            latest = await EmailMessage.objects().get(EmailMessage.id == row.id)
            return latest is not None and latest.status == "sent"

        await wait_until(sent, timeout=60)
        await asyncio.sleep(2.0)  # any duplicate would arrive now

    inbox = sandbox.messages(to=email)
    payment = [m for m in inbox if m["subject"].startswith("Payment received")]
    assert len(payment) == 1, [m["subject"] for m in inbox]
    assert {"name": "order", "value": order_id} in payment[0]["tags"]


async def test_a_send_longer_than_the_lease_keeps_its_claim_while_its_worker_lives(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    """The claim is a lease renewed with the job's: a slow send keeps it (another worker
    must not take the email meanwhile), and it ends with the send."""
    order_id, session_id = await submit(client)
    sandbox.pay(session_id)
    [event] = paid_events(sandbox, session_id)
    assert (await post_event(client, event)).json() == {"result": "created"}
    job_id = f"email:payment_received:{order_id}"
    await redis.delete(f"arq:job:email:order_confirmation:{order_id}")
    await redis.zrem("arq:queue", f"email:order_confirmation:{order_id}")

    sandbox.api_faults(service="resend", latency_ms=3 * LEASE_S * 1000)
    try:
        with start_worker({"WORKER_JOB_LEASE_SECONDS": str(LEASE_S)}):
            async def claimed() -> bool:
                return bool([key async for key in redis.scan_iter(match=CLAIM_PREFIX + "*")])

            await wait_until(claimed, timeout=30)
            await asyncio.sleep(2 * LEASE_S)  # twice the claim's lease into the send
            claims = [key async for key in redis.scan_iter(match=CLAIM_PREFIX + "*")]
            assert claims, "the claim lapsed while its send was still in flight"
            assert await redis.exists(f"arq:in-progress:{job_id}")

            async def sent() -> bool:
                row = await EmailMessage.objects().get(
                    EmailMessage.idempotency_key == f"payment_received/{order_id}")
                return row is not None and row.status == "sent"

            await wait_until(sent, timeout=30)
    finally:
        sandbox.api_faults(service="resend", latency_ms=0)
    assert not [key async for key in redis.scan_iter(match=CLAIM_PREFIX + "*")]
