"""The alerts are evaluated by a worker's cron: with no worker running (all dead, or the only
one hung) nothing said so, and `/admin/system` showed "Alerts OK" through a 3-minute outage
(an outside try). A web process now watches: when no one has evaluated the alerts for 2.5
minutes it does, so the on-call hears of the outage while it lasts; while a worker keeps its
cron, the web stays quiet."""

from __future__ import annotations

import asyncio
import json
import time

from arq.connections import ArqRedis

from app.ops import alerts
from app.ops.heartbeat import HEARTBEAT_KEY
from tests.helpers.server import start_web
from tests.helpers.webhook_receiver import Receiver

STALE = alerts.STATE_KEY.format(name="worker_heartbeat_stale")


def told(receiver: Receiver, name: str) -> list[dict[str, object]]:
    return [body for body in receiver.bodies() if body.get("alert") == name]


async def _clean(redis: ArqRedis) -> None:
    await redis.delete(HEARTBEAT_KEY, STALE, alerts.EVALUATED_KEY, alerts.WEB_LOCK_KEY)


async def test_with_no_worker_running_a_web_process_raises_the_alert(redis: ArqRedis) -> None:
    await _clean(redis)
    # The only worker stopped beating 40 s ago (hung, or dead and not restarted); its cron
    # last evaluated the alerts three minutes ago.
    await redis.zadd(HEARTBEAT_KEY, {"vm:4711": time.time() - 40})
    await redis.set(alerts.EVALUATED_KEY, str(time.time() - 180))
    receiver = Receiver()
    try:
        with start_web(env={"ALERTS_WATCHDOG_SECONDS": "0.3",
                            "OPS_ALERT_WEBHOOK_URL": receiver.url}):
            for _ in range(150):
                if told(receiver, "worker_heartbeat_stale"):
                    break
                await asyncio.sleep(0.1)
            [notice] = told(receiver, "worker_heartbeat_stale")
            assert notice["state"] == "firing"
            assert notice["summary"] == "0 live workers; stale: vm:4711"
            state = json.loads(await redis.get(STALE))  # what /admin/system's Alerts row reads
            assert state["summary"] == "0 live workers; stale: vm:4711"
            await asyncio.sleep(1.5)  # more looks: the alert was sent once, not per look
            assert len(told(receiver, "worker_heartbeat_stale")) == 1
    finally:
        receiver.close()
        await _clean(redis)


async def test_while_a_worker_keeps_its_cron_the_web_stays_quiet(redis: ArqRedis) -> None:
    await _clean(redis)
    await redis.set(alerts.EVALUATED_KEY, str(time.time()))  # the cron ran a moment ago
    receiver = Receiver()
    try:
        with start_web(env={"ALERTS_WATCHDOG_SECONDS": "0.3",
                            "OPS_ALERT_WEBHOOK_URL": receiver.url}):
            await asyncio.sleep(2.0)
        assert receiver.bodies() == []
        assert await redis.get(STALE) is None
    finally:
        receiver.close()
        await _clean(redis)
