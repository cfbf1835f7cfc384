"""Alerts that tell the truth (issue #14 items 11, 15, 16): an email skipped on purpose is
not a failure; Resend's 409 on a retried send is not a webhook failure; refunds that keep
failing raise an alert; Redis filling up shows on /admin/system, in /metrics, among the
app's own alerts and in the Prometheus rules; every metric labels a restaurant by its slug."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from arq.connections import ArqRedis

from app.notifications import gateway, service
from app.notifications.tables import EmailMessage
from app.ops.alerts import evaluate_alerts
from app.ops.system import (
    REDIS_MEMORY_ALARM_RATIO,
    email_error_rate,
    system_snapshot,
    webhook_error_rate,
)
from app.orders.temp_store import TempOrderStore
from tests.helpers.fixtures_email import ctx, make_order, settings  # noqa: F401
from tests.helpers.orders import make_paid_order, pay_and_post_webhook, valid_order
from tests.helpers.resend_events import post, signed
from tests.helpers.sandbox import RunningSandbox
from workers.email_jobs import send_email


def firing(notices: list[Any]) -> set[str]:
    return {notice.name for notice in notices if notice.state in ("firing", "repeat")}


async def test_emails_skipped_on_purpose_are_not_failures(
        redis: ArqRedis, make_order: Any, ctx: Any) -> None:  # noqa: F811
    """Six orders paid (or closed) before their confirmation went out: nothing failed, so
    the email-failure alert (threshold 20 % of at least 5 emails) stays quiet."""
    refs = []
    for n in range(6):
        order = await make_order(email_address=f"quick{n}@example.com")
        order.status = "payment_expired"
        await TempOrderStore(redis, ttl_seconds=3600).put(order)
        await service.enqueue_email(redis, "order_confirmation", order.id)
        outcome = await send_email(ctx(), "order_confirmation", order.id)
        assert outcome.startswith("skipped"), outcome
        refs.append(order.id)
    rows = await EmailMessage.select(EmailMessage.status).where(
        EmailMessage.order_ref.is_in(refs))
    assert {row["status"] for row in rows} == {"skipped"}
    assert (await email_error_rate())["failed"] == 0
    assert "email_failures" not in firing(await evaluate_alerts(redis))


async def test_resend_409_on_a_retried_send_is_no_webhook_failure(
        client: httpx.AsyncClient, redis: ArqRedis, make_order: Any, ctx: Any,  # noqa: F811
        settings: Any, sandbox: RunningSandbox) -> None:  # noqa: F811
    """The first attempt reached Resend (its answer was lost); the retry, with a body that
    differs, gets 409 `invalid_idempotent_request`: the email is sent, once. Resend's events
    about it carry the first attempt's id, which we never heard: they must move the email
    along, not be refused (409, Svix redelivers for days, the webhook alert fires)."""
    order = await make_order(email_address="twice@example.com")
    await service.enqueue_email(redis, "payment_received", order.id)
    key = service.idempotency_key("payment_received", order.id)
    first = await gateway.send_one({
        "from": settings.email_from, "to": ["twice@example.com"], "subject": "first try",
        "html": "<p>first</p>", "text": "first",
        "tags": [{"name": "kind", "value": "payment_received"},
                 {"name": "order", "value": order.id}]}, key, settings)
    assert await send_email(ctx(2), "payment_received", order.id) == "sent via resend"
    assert len(sandbox.messages(to="twice@example.com")) == 1
    row = await service.get_row(key)
    assert row is not None and row.status == "sent"
    [message] = sandbox.messages(to="twice@example.com")
    assert message["id"] == first
    for event in message["events"]:
        body, headers = signed(event)
        response = await post(client, body, headers)
        assert response.status_code == 200, response.text
    row = await service.get_row(key)
    assert row is not None and row.provider_id == first and row.status == "delivered"
    rate = await webhook_error_rate(redis)
    assert rate["failed"] == 0 and rate["rejected"] == 0, rate
    assert "webhook_failures" not in firing(await evaluate_alerts(redis))


async def test_refunds_that_keep_failing_raise_an_alert(redis: ArqRedis,
                                                        client: httpx.AsyncClient) -> None:
    await make_paid_order("demo", status="rejected", needs_review=True,
                          review_reason="refund failed: stripe 500 api_error",
                          rejected_at=datetime.now(UTC) - timedelta(hours=1))
    await make_paid_order("demo", status="rejected", needs_review=True,  # still retrying
                          review_reason="refund failed: stripe 500 api_error",
                          rejected_at=datetime.now(UTC) - timedelta(minutes=2))
    notices = await evaluate_alerts(redis)
    assert "refunds_failing" in firing(notices)
    [notice] = [n for n in notices if n.name == "refunds_failing"]
    assert notice.details == {"failing": 2, "overdue": 1}
    snapshot = await system_snapshot(redis)
    assert snapshot["refunds"]["ok"] is False and snapshot["refunds"]["overdue"] == 1
    metrics = (await client.get("/metrics")).text
    assert 'orderpass_refunds_failing{state="overdue"} 1.0' in metrics


@pytest.fixture
async def small_redis(redis: ArqRedis) -> Any:
    """This Redis with a maxmemory just above what it uses (reset afterwards)."""
    used = int((await redis.info("memory"))["used_memory"])
    await redis.config_set("maxmemory", str(int(used / 0.85)))
    yield redis
    await redis.config_set("maxmemory", "0")


@pytest.mark.redis_server_wide  # maxmemory is the server's, not one db's
async def test_redis_memory_alarm(small_redis: ArqRedis, client: httpx.AsyncClient) -> None:
    snapshot = await system_snapshot(small_redis)
    memory = snapshot["redis_memory"]
    assert memory["ok"] is False and memory["used_pct"] >= 80, memory
    metrics = (await client.get("/metrics")).text
    used = float(re.search(r"^orderpass_redis_memory_used_bytes ([0-9.e+]+)$", metrics,
                           re.M).group(1))  # type: ignore[union-attr]
    limit = float(re.search(r"^orderpass_redis_memory_max_bytes ([0-9.e+]+)$", metrics,
                            re.M).group(1))  # type: ignore[union-attr]
    assert limit > 0 and used / limit > 0.8


@pytest.mark.redis_server_wide  # maxmemory is the server's, not one db's
async def test_redis_memory_raises_our_own_alert_and_resolves(small_redis: ArqRedis) -> None:
    notices = await evaluate_alerts(small_redis)
    assert "redis_memory_high" in firing(notices)
    [notice] = [n for n in notices if n.name == "redis_memory_high"]
    assert notice.details["used_pct"] >= 80 and notice.details["policy"]
    await small_redis.config_set("maxmemory", str(int((await small_redis.info("memory"))
                                                      ["used_memory"]) * 4))
    after = {(n.name, n.state) for n in await evaluate_alerts(small_redis)}
    assert ("redis_memory_high", "resolved") in after


async def test_redis_memory_without_maxmemory_has_no_verdict(redis: ArqRedis) -> None:
    memory = (await system_snapshot(redis))["redis_memory"]
    assert "ok" not in memory and memory["max_mb"] == "unlimited"
    assert "redis_memory_high" not in firing(await evaluate_alerts(redis))


RULES = Path(__file__).resolve().parents[3] / "deploy" / "prometheus" / "alert-rules.yml"


async def test_prometheus_alerts_on_redis_memory_with_our_metrics(
        small_redis: ArqRedis, client: httpx.AsyncClient) -> None:
    """The rule reads the two gauges /metrics exposes, at the app's own threshold."""
    rules = [rule for group in yaml.safe_load(RULES.read_text())["groups"]
             for rule in group["rules"]]
    [rule] = [rule for rule in rules if "redis_memory" in rule["expr"]]
    names = set(re.findall(r"orderpass_[a-z0-9_]+", rule["expr"]))
    assert names == {"orderpass_redis_memory_used_bytes", "orderpass_redis_memory_max_bytes"}
    metrics = (await client.get("/metrics")).text
    for name in names:
        assert re.search(rf"^{name} [0-9.e+]+$", metrics, re.M), name
    threshold = float(re.findall(r"> *([0-9.]+)", rule["expr"])[-1])
    assert threshold == REDIS_MEMORY_ALARM_RATIO
    assert rule["labels"]["severity"] == "page" and rule["for"]


async def test_every_metric_labels_a_restaurant_by_slug(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    response = await client.post("/api/orders", json=await valid_order(client))
    assert response.status_code == 201, response.text
    assert await pay_and_post_webhook(client, sandbox, response.json()) == "created"
    metrics = (await client.get("/metrics")).text
    labels = set(re.findall(r'^orderpass_[a-z_]+\{[^}]*restaurant="([^"]*)"', metrics, re.M))
    assert "demo" in labels
    assert not {label for label in labels if label.isdigit()}, labels
    assert re.search(r'^orderpass_orders_paid_total\{restaurant="demo"\} [1-9]', metrics, re.M)
    assert re.search(r'^orderpass_orders_submitted_total\{restaurant="demo"\} [1-9]', metrics,
                     re.M)


async def test_webhook_failures_that_stopped_resolve_in_ten_minutes_not_an_hour(
        client: httpx.AsyncClient, redis: ArqRedis, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Postgres blip answered Stripe 503s; Stripe retried and delivered every event. The
    alert fired, then stayed firing for the rest of the hour (an outside try). Refusals that
    go on keep it firing; ten quiet minutes resolve it."""
    import time

    from app.platform.tables import WebhookDelivery

    for _ in range(12):
        refused = await client.post("/webhooks/stripe", content=b"{}",
                                    headers={"stripe-signature": "t=1,v1=forged"})
        assert refused.status_code == 400
    notices = await evaluate_alerts(redis)
    assert "webhook_failures" in firing(notices)
    [notice] = [notice for notice in notices if notice.name == "webhook_failures"]
    assert "12 in the last 10 minutes" in notice.summary

    # Fifteen minutes on, nothing refused since: the hour still holds 12, the alert resolves.
    await WebhookDelivery.update({WebhookDelivery.received_at: WebhookDelivery.received_at
                                  - timedelta(minutes=15)}, force=True)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 15 * 60)
    assert (await webhook_error_rate(redis))["rejected"] == 12
    notices = await evaluate_alerts(redis)
    assert "webhook_failures" not in firing(notices)
    assert [notice.state for notice in notices if notice.name == "webhook_failures"] == [
        "resolved"]
