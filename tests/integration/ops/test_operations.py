"""Operations: archiving, abandoned temp-order cleanup, /metrics, alerts, the system
snapshot and the Prometheus alert rules."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import yaml
from arq.connections import ArqRedis
from piccolo.querystring import QueryString
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from app.ops import alerts, heartbeat
from app.ops.request_metrics import webhook_http_counts
from app.ops.system import queue_depth, system_snapshot
from app.orders.archive import all_orders_query, archive_closed_orders, load_archived_order
from app.orders.cleanup import cleanup_abandoned_temp_orders
from app.orders.models import Customer, OrderLine, OrderStatus, TempOrder
from app.orders.tables import PaidOrder
from app.orders.temp_store import EXPIRY_INDEX, KEY_PREFIX, new_temp_id
from app.piccolo_conf import DB
from app.platform.tables import FunnelDaily
from app.settings import get_settings
from tests.helpers.orders import submit
from tests.helpers.sandbox import RunningSandbox, free_port
from tests.helpers.server import ROOT
from tests.helpers.stripe_events import paid_events, post_event

RULES = ROOT / "deploy" / "prometheus" / "alert-rules.yml"


async def insert_order(public_id: str, status: str, closed_days_ago: float | None) -> int:
    closed = (datetime.now(UTC) - timedelta(days=closed_days_ago)
              if closed_days_ago is not None else None)
    paid = (closed or datetime.now(UTC)) - timedelta(hours=1)
    rows = await DB.run_querystring(QueryString(
        "INSERT INTO paid_order (public_id, restaurant, ticket_number, "
        "stripe_checkout_session_id, status, customer_name, customer_email, fulfillment, "
        "currency, total_amount, amount_charged, currency_charged, submitted_at, paid_at, "
        "completed_at, rejected_at, refunded_at, updated_at) VALUES ({}, 1, 1, {}, {}, "
        "'Ann', 'ann@example.com', 'pickup', 'eur', 1300, 1300, 'eur', {}, {}, {}, {}, {}, "
        "coalesce({}, now())) RETURNING id",
        public_id, f"cs_test_{public_id}", status, paid, paid,
        closed if status == "completed" else None,
        closed if status in ("rejected", "refunded") else None,
        closed if status == "refunded" else None, closed))
    order_id = int(rows[0]["id"])
    await DB.run_querystring(QueryString(
        "INSERT INTO order_item (paid_order, menu_item, name, unit_amount, quantity) "
        "VALUES ({}, 1, 'Soup', 650, 2)", order_id))
    return order_id


# -- archiving ----------------------------------------------------------------------------

async def test_archiving_moves_old_closed_orders_and_leaves_recent_ones() -> None:
    await insert_order("TEMP-old0completed", "completed", 40)
    await insert_order("TEMP-old0refunded", "refunded", 35)
    await insert_order("TEMP-old0rejected", "rejected", 31)
    await insert_order("TEMP-new0completed", "completed", 5)
    await insert_order("TEMP-old0active", "paid", None)
    await DB.run_ddl("UPDATE paid_order SET paid_at = now() - interval '60 days' "
                     "WHERE public_id = 'TEMP-old0active'")
    assert await archive_closed_orders(after_days=30, batch=2) == 3
    live = sorted(row["public_id"] for row in await PaidOrder.select(PaidOrder.public_id))
    assert live == ["TEMP-new0completed", "TEMP-old0active"]
    document = await load_archived_order("TEMP-old0completed")
    assert document is not None and document["status"] == "completed"
    assert [(item["name"], item["quantity"]) for item in document["items"]] == [("Soup", 2)]
    assert document["stripe_checkout_session_id"] == "cs_test_TEMP-old0completed"
    rows = await DB.run_querystring(QueryString(
        f"SELECT archived, count(*) AS n FROM ({all_orders_query()}) AS o "
        "GROUP BY archived ORDER BY archived"))
    assert [(row["archived"], row["n"]) for row in rows] == [(False, 2), (True, 3)]
    assert await archive_closed_orders(after_days=30) == 0  # nothing left: idempotent


async def test_two_archivers_never_collide() -> None:
    for index in range(9):
        await insert_order(f"TEMP-bulk{index:04d}", "completed", 45)
    moved = await asyncio.gather(archive_closed_orders(after_days=30, batch=2),
                                 archive_closed_orders(after_days=30, batch=2))
    assert sum(moved) == 9
    assert await PaidOrder.count() == 0
    rows = await DB.run_querystring(QueryString("SELECT count(*) AS n FROM archived_order"))
    assert rows[0]["n"] == 9


# -- abandoned temp orders ----------------------------------------------------------------

async def put_raw(redis: ArqRedis, status: str, moment: datetime, *,
                  expires_at: datetime | None = None, session: str | None = "cs_test_x"
                  ) -> str:
    """A temp order written as the store would have written it at `moment`."""
    order = TempOrder(
        id=new_temp_id(), restaurant_id=1, restaurant_slug="demo", restaurant_name="Demo",
        currency="eur", capture_mode="automatic", prep_minutes=15,
        lines=[OrderLine(menu_item_id=1, name="Soup", unit_amount=650, quantity=1)],
        total_amount=650, customer=Customer(name="Ann", email="ann@example.com"),
        fulfillment="pickup", created_at=moment, status=status,
        checkout_session_id=session, expires_at=expires_at, updated_at=moment)
    await redis.set(KEY_PREFIX + order.id, msgspec.json.encode(order), ex=3600)
    if status == OrderStatus.AWAITING_PAYMENT and expires_at is not None:
        await redis.zadd(EXPIRY_INDEX, {order.id: expires_at.timestamp()})
    return order.id


async def test_abandoned_temp_orders_are_removed_and_counted_once(redis: ArqRedis) -> None:
    now = datetime.now(UTC)
    old = now - timedelta(hours=30)
    expired = await put_raw(redis, OrderStatus.PAYMENT_EXPIRED, old)
    failed = await put_raw(redis, OrderStatus.PAYMENT_FAILED, old)
    never_swept = await put_raw(redis, OrderStatus.AWAITING_PAYMENT, old - timedelta(hours=1),
                                expires_at=old)
    open_link = await put_raw(redis, OrderStatus.AWAITING_PAYMENT, now,
                              expires_at=now + timedelta(minutes=30))
    recent = await put_raw(redis, OrderStatus.PAYMENT_EXPIRED, now - timedelta(hours=1))
    await redis.zadd(EXPIRY_INDEX, {"TEMP-gone000000000001": (now - timedelta(hours=5))
                                    .timestamp()})

    result = await cleanup_abandoned_temp_orders(redis, older_than_hours=24)
    assert (result.removed, result.counted_expired, result.index_pruned) == (3, 2, 1)
    for gone in (expired, failed, never_swept):
        assert await redis.get(KEY_PREFIX + gone) is None
    for kept in (open_link, recent):
        assert await redis.get(KEY_PREFIX + kept) is not None
    members = {m.decode() for m in await redis.zrange(EXPIRY_INDEX, 0, -1)}
    assert members == {open_link}
    funnel = await FunnelDaily.select(FunnelDaily.expired).where(FunnelDaily.restaurant == 1)
    assert [row["expired"] for row in funnel] == [2]
    again = await cleanup_abandoned_temp_orders(redis, older_than_hours=24)
    assert (again.removed, again.counted_expired, again.index_pruned) == (0, 0, 0)


# -- /metrics -----------------------------------------------------------------------------

def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
          **labels: str) -> float:
    return sum(v for (n, ls), v in found.items()
               if n == name and set(labels.items()) <= set(ls))


async def test_metrics_move_during_an_order(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    before = samples((await client.get("/metrics")).text)
    _order_id, session_id = await submit(client)
    sandbox.pay(session_id)
    [event] = paid_events(sandbox, session_id)
    assert (await post_event(client, event)).status_code == 200
    bad = await client.post("/webhooks/stripe", content=b"{}", headers={
        "stripe-signature": "t=1,v1=00"})
    assert bad.status_code == 400
    response = await client.get("/metrics")
    assert response.status_code == 200
    # Prometheus's own type, the charset once (Litestar had appended a second)
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    after = samples(response.text)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("orderpass_orders_submitted_total", restaurant="demo") == 1
    assert moved("orderpass_orders_paid_total") == 1
    assert moved("orderpass_payment_links_total", result="created") == 1
    assert moved("orderpass_webhook_events_total", provider="stripe", result="created") == 1
    assert moved("orderpass_webhook_events_total", provider="stripe", result="rejected") == 1
    assert moved("orderpass_payment_to_kitchen_seconds_count") == 1
    assert moved("orderpass_http_request_duration_seconds_count",
                 route="/api/orders", method="POST") == 1
    assert value(after, "orderpass_emails", status="queued") >= 1
    assert value(after, "orderpass_queue_depth") >= 1  # the payment email job
    assert (("orderpass_outbox_backlog", frozenset({("state", "dead")})) in after)
    assert value(after, "orderpass_open_discrepancies") == 0
    assert value(after, "orderpass_workers_live") == 0
    assert all(v == 1 for (n, _), v in after.items() if n == "orderpass_ops_reading_up")
    assert "orderpass_sse_clients" in response.text
    counts = await webhook_http_counts(redis)
    assert counts["total"] >= 2 and counts["rejected"] >= 1


async def test_metrics_need_the_token_once_one_is_set(
        client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.settings import reset_settings_cache

    monkeypatch.setenv("METRICS_TOKEN", "scrape-me")
    reset_settings_cache()
    try:
        assert (await client.get("/metrics")).status_code == 401
        wrong = await client.get("/metrics", headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "orderpass_" not in wrong.text
        right = await client.get("/metrics", headers={"authorization": "Bearer scrape-me"})
        assert right.status_code == 200 and "orderpass_orders_submitted_total" in right.text
    finally:
        monkeypatch.delenv("METRICS_TOKEN")
        reset_settings_cache()


# -- alerts -------------------------------------------------------------------------------

class Receiver:
    """A tiny local HTTP server that records JSON POSTs (the ops webhook)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                outer.received.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.port}/alerts"

    def named(self, name: str) -> list[str]:
        return [item["state"] for item in self.received if item["alert"] == name]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()


async def test_stuck_outbox_alerts_once_then_resolves(
    redis: ArqRedis, sandbox: RunningSandbox, receiver: Receiver
) -> None:
    settings = get_settings().model_copy(update={
        "ops_alert_webhook_url": receiver.url, "ops_alert_email": "oncall@orderpass.test"})
    await heartbeat.beat(redis, "test-worker:1")
    await DB.run_ddl(
        "INSERT INTO outbox (kind, dedupe_key, payload, status, attempts, last_error) VALUES "
        "('kitchen.publish', 'kitchen:TEMP-stuck:order.paid', '{}'::jsonb, 'dead', 12, 'x')")
    for _ in range(3):  # three cron minutes
        await alerts.evaluate_alerts(redis, settings)
    assert receiver.named("outbox_dead_letters") == ["firing"]
    [payload] = [p for p in receiver.received if p["alert"] == "outbox_dead_letters"]
    assert "1 outbox rows dead-lettered" in payload["summary"]
    assert payload["details"]["dead"] == 1
    assert receiver.named("worker_heartbeat_stale") == []
    mail = [m for m in sandbox.messages(to="oncall@orderpass.test")
            if "outbox_dead_letters" in m["subject"]]
    assert len(mail) == 1 and "FIRING" in mail[0]["subject"]

    # Half an hour later it still fires: one reminder, not one per minute.
    key = alerts.STATE_KEY.format(name="outbox_dead_letters")
    state = json.loads(await redis.get(key))
    state["notified_at"] -= 31 * 60
    await redis.set(key, json.dumps(state))
    await alerts.evaluate_alerts(redis, settings)
    await alerts.evaluate_alerts(redis, settings)
    assert receiver.named("outbox_dead_letters") == ["firing", "repeat"]

    await DB.run_ddl("DELETE FROM outbox")
    await alerts.evaluate_alerts(redis, settings)
    await alerts.evaluate_alerts(redis, settings)
    assert receiver.named("outbox_dead_letters") == ["firing", "repeat", "resolved"]
    assert await redis.get(key) is None


async def test_alert_webhook_failures_do_not_break_evaluation(redis: ArqRedis) -> None:
    settings = get_settings().model_copy(update={
        "ops_alert_webhook_url": f"http://127.0.0.1:{free_port()}/nobody",
        "ops_alert_webhook_timeout_seconds": 0.5})
    notices = await alerts.evaluate_alerts(redis, settings)
    assert "worker_heartbeat_stale" in {notice.name for notice in notices}


# -- system snapshot ----------------------------------------------------------------------

async def test_system_snapshot(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    _order_id, session_id = await submit(client)
    sandbox.pay(session_id)
    [event] = paid_events(sandbox, session_id)
    assert (await post_event(client, event)).status_code == 200
    await heartbeat.beat(redis, "test-worker:1")
    snapshot = await system_snapshot(redis)
    assert snapshot["postgres"]["ok"] and snapshot["redis"]["ok"] and snapshot["worker"]["ok"]
    assert snapshot["queue"]["depth"] >= 1 and snapshot["queue"]["ok"]
    assert snapshot["outbox"] == {"ok": True, "pending": 0, "overdue": 0, "dead": 0}
    assert snapshot["discrepancies"] == {"ok": True, "open": 0}
    latency = snapshot["payment_to_kitchen_1h"]
    assert latency["orders"] == 1 and latency["not_shown"] == 0
    assert 0 <= latency["p50_s"] <= latency["p95_s"] <= latency["p99_s"] < 5
    assert snapshot["webhooks_1h"]["total"] >= 1
    assert snapshot["email_1h"]["ok"] and snapshot["providers"]["mode"] == "sandbox"
    assert snapshot["alerts"] == {"ok": True, "firing": []}


async def test_queue_reading_tells_a_backlog_from_jobs_deferred_for_later(
    client: httpx.AsyncClient, redis: ArqRedis
) -> None:
    """An unpaid order queues its email (due now) and its link's expiry (due when the link
    lapses): on-call's queue depth counts the first, not the second, so a busy evening's
    open links never look like a stuck worker; a job left waiting while no worker takes it
    turns the reading (and its gauge) red."""
    before = await queue_depth(redis)
    await submit(client)
    after = await queue_depth(redis)
    assert after["later"] >= before["later"] + 1  # the link's expiry
    exposed = samples((await client.get("/metrics")).text)
    assert value(exposed, "orderpass_queue_scheduled") == after["later"]
    assert value(exposed, "orderpass_queue_depth") == after["depth"]
    stuck = await redis.enqueue_job("send_email", "order_confirmation", "TEMP-stuck",
                                    _defer_until=datetime.now(UTC) - timedelta(minutes=5))
    assert stuck is not None
    try:
        snapshot = await system_snapshot(redis)
        assert snapshot["queue"]["depth"] >= 1 and snapshot["queue"]["oldest_due_s"] >= 299
        assert snapshot["queue"]["ok"] is False
        exposed = samples((await client.get("/metrics")).text)
        assert value(exposed, "orderpass_queue_oldest_due_seconds") >= 299
    finally:
        await redis.zrem("arq:queue", stuck.job_id)
        await redis.delete(f"arq:job:{stuck.job_id}")


# -- Prometheus alert rules -----------------------------------------------------------------

async def test_alert_rules_are_valid_and_use_our_metrics(client: httpx.AsyncClient) -> None:
    document = yaml.safe_load(RULES.read_text())
    rules = [rule for group in document["groups"] for rule in group["rules"]]
    assert len(rules) >= 6
    text = (await client.get("/metrics")).text
    exposed = set(re.findall(r"^(?:# (?:HELP|TYPE) )?(orderpass_[a-z0-9_]+)", text, re.M))
    for rule in rules:
        assert {"alert", "expr", "for", "labels", "annotations"} <= set(rule), rule
        assert rule["labels"].get("severity") in ("page", "ticket", "warning", "critical")
        assert rule["annotations"].get("summary")
        for name in set(re.findall(r"orderpass_[a-z0-9_]+", rule["expr"])):
            base = re.sub(r"_(bucket|count|sum)$", "", name)
            assert name in exposed or base in exposed, (rule["alert"], name)
    names = {rule["alert"] for rule in rules}
    assert len(names) == len(rules)


def test_rules_file_is_where_prometheus_expects_it() -> None:
    assert isinstance(RULES, Path) and RULES.exists()
