"""Regression tests for bugs the reliability suites found, in-process and fast (the
integration fixtures: session Postgres and Redis, a sandbox per test).

Bug 1 (found by the state machine: a `payment_received` email delivered twice): a batch send
(`/emails/batch`, used when 10+ emails are queued) carries one Idempotency-Key for the whole
batch, not the emails' own keys. An email whose earlier attempt reached Resend but whose
worker died (or was restarted, or timed out) before recording it was later sent again,
either inside a batch (after a lone attempt) or alone (after a batch attempt), under a key
Resend had never seen. Fix: an email attempted before keeps the key of its first attempt:
lone attempts never join a batch, and a batch attempt's rows remember its key and are only
ever retried as that batch (Resend replays it, or says the key was used: it went out).
"""

from __future__ import annotations

from typing import Any

import pytest
from arq import Retry
from arq.connections import ArqRedis

from app.notifications import service
from app.notifications.tables import EmailMessage
from tests.helpers.fixtures_email import *  # noqa: F403  (sandbox, ctx, make_order)
from tests.helpers.infra import start_servers
from tests.helpers.sandbox import RunningSandbox
from workers.email_jobs import send_email

start_servers()


@pytest.fixture(autouse=True)
async def _fresh_state(clean_state: None) -> None:
    """Every test starts from the seeded demo state and an empty sandbox."""


def died_after_sending(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resend accepts the request, then the worker dies before recording the email."""

    async def crash(*args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("worker killed after the provider accepted the email")

    monkeypatch.setattr(service, "mark_sent", crash)  # one email
    monkeypatch.setattr(service, "mark_batch_sent", crash)  # a batch


def per_email(sandbox: RunningSandbox) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for message in sandbox.messages():
        tags = {tag["name"]: tag["value"] for tag in message["tags"]}
        key = (tags["kind"], tags["order"])
        counts[key] = counts.get(key, 0) + 1
    return counts


async def test_lone_attempt_that_went_out_is_not_batched_again(
    redis: ArqRedis, make_order: Any, ctx: Any, sandbox: RunningSandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = await make_order(email_address="first@example.com")
    await service.enqueue_email(redis, "payment_received", first.id)
    with monkeypatch.context() as patch:
        died_after_sending(patch)
        with pytest.raises(Retry):
            await send_email(ctx(), "payment_received", first.id)
    assert len(sandbox.messages()) == 1
    # Now a backlog builds up: the retry would go out as a batch under a new key.
    others = [await make_order(email_address=f"guest{n}@example.com") for n in range(12)]
    for order in others:
        await service.enqueue_email(redis, "payment_received", order.id)
    await send_email(ctx(2), "payment_received", first.id)
    for order in others:
        await send_email(ctx(), "payment_received", order.id)
    counts = per_email(sandbox)
    assert counts[("payment_received", first.id)] == 1, counts
    assert set(counts.values()) == {1} and len(counts) == 13, counts
    statuses = {row["status"] for row in await EmailMessage.select(EmailMessage.status)}
    assert statuses == {"sent"}


async def test_batch_that_went_out_is_resumed_not_resent_alone(
    redis: ArqRedis, make_order: Any, ctx: Any, sandbox: RunningSandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    orders = [await make_order(email_address=f"guest{n}@example.com") for n in range(12)]
    for order in orders:
        await service.enqueue_email(redis, "payment_received", order.id)
    with monkeypatch.context() as patch:
        died_after_sending(patch)
        with pytest.raises(Retry):
            await send_email(ctx(), "payment_received", orders[0].id)
    assert len(sandbox.messages()) == 12  # the batch went out; nothing is recorded as sent
    late = await make_order(email_address="late@example.com")  # the backlog changed
    await service.enqueue_email(redis, "payment_received", late.id)
    for order in [*orders, late]:  # every job runs again (arq retries, the stale sweep)
        await send_email(ctx(2), "payment_received", order.id)
    counts = per_email(sandbox)
    assert set(counts.values()) == {1} and len(counts) == 13, counts
    statuses = {row["status"] for row in await EmailMessage.select(EmailMessage.status)}
    assert statuses == {"sent"}


async def test_batch_refused_as_a_whole_goes_out_alone(
    redis: ArqRedis, make_order: Any, ctx: Any, sandbox: RunningSandbox,
) -> None:
    """A batch that never got through (5xx) is retried as the same batch, and once it
    succeeds every email is out exactly once."""
    orders = [await make_order(email_address=f"guest{n}@example.com") for n in range(11)]
    for order in orders:
        await service.enqueue_email(redis, "payment_received", order.id)
    sandbox.api_faults(service="resend", status=500, count=1)
    with pytest.raises(Retry):
        await send_email(ctx(), "payment_received", orders[0].id)
    assert sandbox.messages() == []
    for order in orders:
        await send_email(ctx(2), "payment_received", order.id)
    counts = per_email(sandbox)
    assert set(counts.values()) == {1} and len(counts) == 11, counts
