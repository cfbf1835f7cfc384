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
