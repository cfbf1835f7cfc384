"""The email job against the sandbox over real HTTP: once-only sending, retries, fallback."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from arq import Retry
from arq.connections import ArqRedis

from app.notifications import delivery, service
from app.notifications.tables import EmailMessage
from app.platform.tables import FunnelDaily
from tests.helpers.sandbox import RunningSandbox
from workers.email_jobs import send_email


async def email_row(kind: str, ref: str) -> dict[str, Any]:
    row = await EmailMessage.select().where(
        EmailMessage.idempotency_key == f"{kind}/{ref}").first()
    assert row is not None
    return row


async def test_enqueue_is_idempotent(redis: ArqRedis, make_order: Any) -> None:
    order = await make_order()
    for _ in range(3):
        await service.enqueue_email(redis, "order_confirmation", order.id)
    assert await EmailMessage.count() == 1
    row = await email_row("order_confirmation", order.id)
    assert (row["status"], row["recipient"]) == ("queued", "ann@example.com")
    assert len(await redis.queued_jobs()) == 1
    with pytest.raises(ValueError):
        await service.enqueue_email(redis, "newsletter", order.id)


async def test_job_run_three_times_sends_once(
    redis: ArqRedis, make_order: Any, ctx: Any, sandbox: RunningSandbox
) -> None:
    order = await make_order()
    await service.enqueue_email(redis, "order_confirmation", order.id)
    outcomes = [await send_email(ctx(), "order_confirmation", order.id) for _ in range(3)]
    assert outcomes[0] == "sent via resend"
    assert outcomes[1:] == ["already sent", "already sent"]
    messages = sandbox.messages(to="ann@example.com")
    assert len(messages) == 1
    assert "Pay now" in messages[0]["html"]
    assert "https://pay.example/cs_test_1?a=1&b=2" in messages[0]["text"]
    assert f"https://orderpass.example/orders/{order.id}" in messages[0]["text"]
    row = await email_row("order_confirmation", order.id)
    assert row["status"] == "sent" and row["transport"] == "resend"
    assert row["provider_id"] == messages[0]["id"] and row["attempts"] == 1
    funnel = await FunnelDaily.select(FunnelDaily.email_sent).first()
    assert funnel is not None and funnel["email_sent"] == 1


async def test_crash_after_send_does_not_send_twice(
    redis: ArqRedis, make_order: Any, ctx: Any, sandbox: RunningSandbox
) -> None:
    """A worker dying after Resend accepted the email but before the row was updated: the
    re-run sends with the same Idempotency-Key and Resend answers with the first email."""
    order = await make_order()
    await service.enqueue_email(redis, "payment_received", order.id)
    await send_email(ctx(), "payment_received", order.id)
    first = await email_row("payment_received", order.id)
    await EmailMessage.update({EmailMessage.status: "queued", EmailMessage.provider_id: None}
                              ).where(EmailMessage.id == first["id"])
    await send_email(ctx(job_try=2), "payment_received", order.id)
    assert len(sandbox.messages()) == 1
    again = await email_row("payment_received", order.id)
    assert again["status"] == "sent" and again["provider_id"] == first["provider_id"]


async def test_429_is_retried_after_retry_after(
    redis: ArqRedis, make_order: Any, ctx: Any, sandbox: RunningSandbox
) -> None:
    order = await make_order()
    await service.enqueue_email(redis, "order_confirmation", order.id)
    sandbox.api_faults(service="resend", status=429, count=1)
    with pytest.raises(Retry) as raised:
        await send_email(ctx(), "order_confirmation", order.id)
    assert raised.value.defer_score is not None
    assert raised.value.defer_score >= 1000  # the sandbox says retry-after: 1
    row = await email_row("order_confirmation", order.id)
    assert row["status"] == "queued" and "429" in row["last_error"]
    assert sandbox.messages() == []
    assert await send_email(ctx(job_try=2), "order_confirmation", order.id) == "sent via resend"
    assert len(sandbox.messages()) == 1


async def test_5xx_backs_off_exponentially(
    redis: ArqRedis, make_order: Any, ctx: Any, sandbox: RunningSandbox
) -> None:
    order = await make_order()
    await service.enqueue_email(redis, "order_ready", order.id)
    sandbox.api_faults(service="resend", status=500, count=2)
    defers = []
    for job_try in (1, 2):
        with pytest.raises(Retry) as raised:
            await send_email(ctx(job_try=job_try), "order_ready", order.id)
        assert raised.value.defer_score is not None
        defers.append(raised.value.defer_score / 1000)
    assert 2.5 <= defers[0] <= 5 and 5 <= defers[1] <= 10  # base 5 s, doubling, jittered
    assert await send_email(ctx(job_try=3), "order_ready", order.id) == "sent via resend"
    row = await email_row("order_ready", order.id)
    assert row["attempts"] == 3 and row["status"] == "sent"


async def test_validation_error_is_recorded_not_retried(
    redis: ArqRedis, make_order: Any, ctx: Any, sandbox: RunningSandbox
) -> None:
    order = await make_order(email_address="not-an-address")
    await service.enqueue_email(redis, "order_ready", order.id)
    assert await send_email(ctx(), "order_ready", order.id) == "failed"
    row = await email_row("order_ready", order.id)
    assert row["status"] == "failed" and "422" in row["last_error"]
    assert await send_email(ctx(job_try=2), "order_ready", order.id) == "already failed"


async def test_confirmation_waits_for_its_payment_link(
    redis: ArqRedis, make_order: Any, ctx: Any, sandbox: RunningSandbox
) -> None:
    order = await make_order(payment_url=None)
    await service.enqueue_email(redis, "order_confirmation", order.id)
    with pytest.raises(Retry):
        await send_email(ctx(), "order_confirmation", order.id)
    assert sandbox.messages() == []
    assert (await email_row("order_confirmation", order.id))["status"] == "queued"


async def test_smtp_fallback_when_resend_keeps_failing(
    redis: ArqRedis, make_order: Any, ctx: Any, sandbox: RunningSandbox,
    smtp_server: Any,
) -> None:
    relay_url, inbox = smtp_server
    order = await make_order(name="Bob <b>")
    await service.enqueue_email(redis, "payment_received", order.id)
    sandbox.api_faults(service="resend", status=500, count=50)
    for job_try in (1, 2):
        with pytest.raises(Retry):
            await send_email(ctx(job_try, smtp_relay_url=relay_url), "payment_received",
                             order.id)
    outcome = await send_email(ctx(3, smtp_relay_url=relay_url), "payment_received", order.id)
    assert outcome == "sent via smtp"
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "ann@example.com"
    assert message["Message-ID"] == f"<payment_received.{order.id}@orderpass>"
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    assert html is not None and text is not None
    assert "Bob &lt;b&gt;" in html.get_content()
    assert order.id in text.get_content()
    row = await email_row("payment_received", order.id)
    assert (row["status"], row["transport"]) == ("sent", "smtp")
    assert sandbox.messages() == []
    # The breaker is open now: the next email skips Resend and goes straight to the relay.
    other = await make_order(email_address="cy@example.com")
    await service.enqueue_email(redis, "order_ready", other.id)
    assert await send_email(ctx(1, smtp_relay_url=relay_url), "order_ready",
                            other.id) == "sent via smtp"
    assert len(inbox.messages) == 2


async def test_backlog_goes_out_as_one_batch(
    redis: ArqRedis, make_order: Any, ctx: Any, sandbox: RunningSandbox
) -> None:
    orders = [await make_order(email_address=f"guest{i}@example.com") for i in range(15)]
    for order in orders:
        await service.enqueue_email(redis, "payment_received", order.id)
    bad = await make_order(email_address="broken-address")
    await service.enqueue_email(redis, "payment_received", bad.id)
    outcome = await send_email(ctx(), "payment_received", orders[0].id)
    assert outcome == "sent via resend batch of 16"
    assert len(sandbox.messages()) == 15
    statuses = {row["status"] for row in await EmailMessage.select(EmailMessage.status).where(
        EmailMessage.recipient != "broken-address")}
    assert statuses == {"sent"}
    assert (await email_row("payment_received", bad.id))["status"] == "failed"
    for order in orders[1:]:
        assert await send_email(ctx(), "payment_received", order.id) == "already sent"
    assert len(sandbox.messages()) == 15
    funnel = await FunnelDaily.select(FunnelDaily.email_sent).first()
    assert funnel is not None and funnel["email_sent"] == 15


async def test_lost_jobs_are_requeued_once(redis: ArqRedis, make_order: Any) -> None:

    from workers.email_jobs import requeue_stale_emails

    order = await make_order()
    await service.enqueue_email(redis, "order_ready", order.id)
    await redis.flushdb()  # the job is lost (the row is the truth)
    await EmailMessage.update(
        {EmailMessage.updated_at: EmailMessage.updated_at - timedelta(minutes=5)}, force=True)
    assert await requeue_stale_emails({"redis": redis}) == 1
    assert await requeue_stale_emails({"redis": redis}) == 0  # the job exists: no twin
    assert len(await redis.queued_jobs()) == 1


async def test_a_real_arq_worker_runs_the_job_once(
    redis: ArqRedis, make_order: Any, settings: Any, sandbox: RunningSandbox
) -> None:
    from arq.worker import Worker

    from workers.email_jobs import send_email_function

    order = await make_order()
    for _ in range(3):  # three enqueues collapse into one job
        await service.enqueue_email(redis, "order_confirmation", order.id)
    worker = Worker(functions=[send_email_function], redis_pool=redis, burst=True,
                    poll_delay=0.05, handle_signals=False, ctx={"settings": settings})
    await worker.main()
    assert (worker.jobs_complete, worker.jobs_failed) == (1, 0)
    assert len(sandbox.messages()) == 1


async def test_an_email_whose_job_arq_timed_out_is_sent_by_the_next_requeue(
    redis: ArqRedis, make_order: Any, settings: Any, sandbox: RunningSandbox
) -> None:
    """A worker frozen mid-send (an outside try: SIGSTOP past the job's timeout) has arq end
    the job with a TimeoutError, which arq never retries, and keep its result for an hour:
    the row stayed queued and the requeue cron could not enqueue its id again, so a paid
    diner's receipt waited an hour. Here arq's timeout is 1 s and Resend answers in 3."""
    from arq.worker import Worker, func

    from workers.email_jobs import requeue_stale_emails, send_email_function

    order = await make_order()
    await service.enqueue_email(redis, "order_confirmation", order.id)
    sandbox.api_faults(service="resend", latency_ms=3000)
    hasty = func(send_email_function.coroutine, name="send_email", max_tries=delivery.MAX_TRIES,
                 timeout=1)
    worker = Worker(functions=[hasty], redis_pool=redis, burst=True, poll_delay=0.05,
                    handle_signals=False, ctx={"settings": settings})
    await worker.main()
    assert (worker.jobs_complete, worker.jobs_failed) == (0, 1)  # arq's timeout: for good
    sandbox.api_faults(service="resend", latency_ms=0)
    assert (await email_row("order_confirmation", order.id))["status"] == "queued"

    await EmailMessage.update(
        {EmailMessage.updated_at: EmailMessage.updated_at - timedelta(minutes=5)}, force=True)
    assert await requeue_stale_emails({"redis": redis}) == 1
    worker = Worker(functions=[send_email_function], redis_pool=redis, burst=True,
                    poll_delay=0.05, handle_signals=False, ctx={"settings": settings})
    await worker.main()
    assert (await email_row("order_confirmation", order.id))["status"] == "sent"
    # Resend had the first request too: its Idempotency-Key made it one email
    sandbox.wait_for(lambda: sandbox.messages(to="ann@example.com"), timeout=10)
    assert len(sandbox.messages(to="ann@example.com")) == 1


async def test_a_claim_left_by_a_lost_redis_goes_with_the_next_job(
    redis: ArqRedis, make_order: Any, ctx: Any, sandbox: RunningSandbox
) -> None:
    """Redis went away as a job finished, so its claim on the email could not be released
    (the worker rode the restart out, it did not restart). Once Redis answers, the next
    email job releases it: the email goes out at once, where it was deferred as "claimed by
    another worker" until the claim expired (a minute)."""
    order = await make_order()
    await service.enqueue_email(redis, "order_confirmation", order.id)
    key = delivery.CLAIM_PREFIX + service.idempotency_key("order_confirmation", order.id)
    claim = redis.lock(key, timeout=delivery.claim_ttl_s())
    assert await claim.acquire(blocking=False)
    delivery._hold(claim)
    gone = ArqRedis(host="127.0.0.1", port=9, socket_connect_timeout=0.2)
    claim.redis = gone  # its release meets a Redis that is not there
    await delivery._release([claim])
    await gone.aclose()
    assert await redis.exists(key)
    assert await send_email(ctx(), "order_confirmation", order.id) == "sent via resend"
    assert not await redis.exists(key)
    assert len(sandbox.messages(to="ann@example.com")) == 1
