"""No address gets more than EMAILS_PER_RECIPIENT_PER_HOUR emails an hour from us (issue #14
item 7: one test sent 346 to one address); the rest are recorded `skipped` with the
reason."""

from __future__ import annotations

from typing import Any

from arq.connections import ArqRedis

from app.notifications import service
from app.notifications.tables import EmailMessage
from tests.helpers.sandbox import RunningSandbox
from workers.email_jobs import send_email


async def test_an_address_gets_at_most_the_hourly_cap(
        redis: ArqRedis, make_order: Any, ctx: Any, sandbox: RunningSandbox) -> None:
    cap = 3
    refs = []
    for _ in range(5):
        order = await make_order(email_address="flooded@example.com")
        await service.enqueue_email(redis, "order_confirmation", order.id)
        refs.append(order.id)
    outcomes = [await send_email(ctx(emails_per_recipient_per_hour=cap),
                                 "order_confirmation", ref) for ref in refs]
    assert outcomes[:cap] == ["sent via resend"] * cap, outcomes
    assert all(outcome.startswith("skipped: not sent: 3 emails") for outcome in outcomes[cap:])
    assert len(sandbox.messages(to="flooded@example.com")) == cap
    rows = await EmailMessage.select(EmailMessage.status).where(
        EmailMessage.order_ref.is_in(refs))
    assert sorted(row["status"] for row in rows) == ["sent"] * cap + ["skipped"] * 2
    # Another address is not affected.
    other = await make_order(email_address="someone@example.com")
    await service.enqueue_email(redis, "order_confirmation", other.id)
    assert await send_email(ctx(emails_per_recipient_per_hour=cap), "order_confirmation",
                            other.id) == "sent via resend"


async def test_a_batch_keeps_the_cap(redis: ArqRedis, make_order: Any, ctx: Any,
                                     sandbox: RunningSandbox) -> None:
    """A backlog goes out as one batch whose emails are counted in one round trip: still at
    most the cap to one address, the rest of the batch unaffected."""
    cap = 3
    flooded = [await make_order(email_address="flooded@example.com") for _ in range(5)]
    others = [await make_order(email_address=f"guest{i}@example.com") for i in range(10)]
    first = await make_order(email_address="first@example.com")
    for order in [first, *flooded, *others]:
        await service.enqueue_email(redis, "order_confirmation", order.id)
    outcome = await send_email(ctx(emails_per_recipient_per_hour=cap), "order_confirmation",
                               first.id)
    assert outcome == "sent via resend batch of 14", outcome
    assert len(sandbox.messages(to="flooded@example.com")) == cap
    assert len(sandbox.messages()) == 1 + cap + len(others)
    rows = await EmailMessage.select(EmailMessage.status, EmailMessage.last_error).where(
        EmailMessage.order_ref.is_in([order.id for order in flooded]))
    assert sorted(row["status"] for row in rows) == ["sent"] * cap + ["skipped"] * 2
    assert all(row["last_error"].startswith("not sent: 3 emails") for row in rows
               if row["status"] == "skipped")


async def test_emails_about_a_paid_order_reach_an_address_over_the_cap(
        redis: ArqRedis, make_order: Any, ctx: Any, sandbox: RunningSandbox) -> None:
    """A diner who ordered often this hour (an office's lunch buyer) has used up the cap with
    payment links: the emails that follow a payment, the refund's above all, still go out.
    They each need a card payment, so nobody floods a mailbox with them for free."""
    cap = 3
    links = [await make_order(email_address="buyer@example.com") for _ in range(cap + 1)]
    for order in links:
        await service.enqueue_email(redis, "order_confirmation", order.id)
    outcomes = [await send_email(ctx(emails_per_recipient_per_hour=cap), "order_confirmation",
                                 order.id) for order in links]
    assert outcomes[-1].startswith("skipped: not sent: 3 emails"), outcomes
    paid = links[0]
    for kind in ("payment_received", "order_refunded"):
        await service.enqueue_email(redis, kind, paid.id)
        outcome = await send_email(ctx(emails_per_recipient_per_hour=cap), kind, paid.id)
        assert outcome == "sent via resend", (kind, outcome)
    assert len(sandbox.messages(to="buyer@example.com")) == cap + 2
