"""Kitchen actions promise their kitchen event and customer email through the transactional
outbox: the rows commit with the status change, so a fast path that fails right after commit
(Redis unreachable, process killed) is made good by the worker's relay."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from arq.connections import ArqRedis

from app.live.feed import kitchen_channel
from app.orders import lifecycle
from app.piccolo_conf import DB
from app.platform import outbox
from app.platform.tables import Outbox
from tests.helpers.orders import paid_order_via_sandbox
from tests.helpers.sandbox import RunningSandbox


@pytest.fixture
async def unreachable_redis() -> AsyncIterator[ArqRedis]:
    """A Redis client for a port nobody listens on: every publish and enqueue fails."""
    broken = ArqRedis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    yield broken
    await broken.aclose()


async def rows_of(ref: str) -> dict[str, str]:
    rows = await Outbox.select(Outbox.dedupe_key, Outbox.status).where(
        Outbox.dedupe_key.like(f"%:{ref}%"))
    return {row["dedupe_key"]: row["status"] for row in rows}


async def test_a_transition_whose_fast_path_failed_is_delivered_by_the_relay(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis,
        unreachable_redis: ArqRedis) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    ref = order.public_id
    accepted = await lifecycle.apply_action(ref, "accept", actor="t", redis=redis)
    # Redis is gone right after the commit: neither the kitchen nor the customer is told.
    ready = await lifecycle.apply_action(ref, "ready", actor="t", redis=unreachable_redis)
    assert ready.status == "ready"  # the change itself is committed regardless
    kitchen_key = f"kitchen:{ref}:v{accepted.version + 1}"
    email_key = f"email:order_ready:{ref}"
    rows = await rows_of(ref)
    assert rows[kitchen_key] == "pending" and rows[email_key] == "pending"
    assert rows[f"kitchen:{ref}:v{accepted.version}"] == "done"  # the accept got through
    assert f"email:order_ready:{ref}" not in [job.job_id for job in await redis.queued_jobs()]

    # The relay leaves fresh rows to the fast path for OUTBOX_GRACE_S; pretend that passed.
    await DB.run_ddl("UPDATE outbox SET next_attempt_at = now() - interval '1 second' "
                     "WHERE status = 'pending'")
    pubsub = redis.pubsub()
    await pubsub.subscribe(kitchen_channel(order.restaurant))
    await pubsub.get_message(timeout=1)  # the subscribe confirmation
    try:
        counts = await outbox.relay(redis)
        assert counts == {"done": 2, "retry": 0, "dead": 0}
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2)
    finally:
        await pubsub.aclose()
    assert message is not None
    event = json.loads(message["data"])
    assert (event["event"], event["order_ref"]) == ("order.updated", ref)
    assert email_key in [job.job_id for job in await redis.queued_jobs()]
    assert set((await rows_of(ref)).values()) == {"done"}
    assert await outbox.relay(redis) == {"done": 0, "retry": 0, "dead": 0}  # nothing twice


async def test_outbox_rows_commit_only_with_the_change(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    """A refused transition promises nothing; a duplicate row is a no-op."""
    order = await paid_order_via_sandbox(client, sandbox)
    ref = order.public_id
    before = await rows_of(ref)
    with pytest.raises(lifecycle.IllegalTransition):
        await lifecycle.apply_action(ref, "complete", actor="t", redis=redis)
    assert await rows_of(ref) == before
    row = outbox.email("order_ready", ref)
    async with DB.transaction() as transaction:
        await outbox.add(transaction.connection, [row, row])
    assert await Outbox.count().where(Outbox.dedupe_key == row.dedupe_key) == 1
