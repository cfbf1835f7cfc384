"""A real `orderpass worker` whose connections to Redis go silent without a reset (a network
path lost, a NAT entry dropped, a failover that leaves the old address unanswered) carries
on over new connections within its command limit: a paid order's email still goes out and
its heartbeat keeps beating. Without the limit the worker waited on the dead connections
until TCP gave up, many minutes later, and every email waited with it."""

from __future__ import annotations

import os
import socket
import time
from urllib.parse import urlsplit, urlunsplit

import httpx
from arq.connections import ArqRedis

from app.notifications.tables import EmailMessage
from app.ops.heartbeat import HEARTBEAT_KEY
from tests.helpers.freezing_proxy import FreezingProxy
from tests.helpers.orders import submit
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import start_worker
from tests.helpers.stripe_events import paid_events, post_event
from tests.helpers.waiting import wait_until

COMMAND_LIMIT_S = 1.0  # REDIS_WORKER_COMMAND_TIMEOUT_SECONDS for this worker
# the limit, a reconnect, arq's poll (0.5 s) and the send, with room for a busy machine
EMAIL_BOUND_S = 15.0


def _through(proxy: FreezingProxy, url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"127.0.0.1:{proxy.port}"))


async def test_a_worker_whose_redis_connections_go_silent_still_sends_the_email(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    target = urlsplit(os.environ["REDIS_URL"])
    with FreezingProxy(target.port or 6379, target.hostname or "127.0.0.1").running() as proxy, \
            start_worker({"REDIS_URL": _through(proxy, os.environ["REDIS_URL"]),
                          "REDIS_WORKER_COMMAND_TIMEOUT_SECONDS": str(COMMAND_LIMIT_S),
                          "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "INFO"}
                         ) as worker:
        name = f"{socket.gethostname()}:{worker.process.pid}"

        async def beating_since(moment: float) -> bool:
            score = await redis.zscore(HEARTBEAT_KEY, name)
            return score is not None and score > moment

        await wait_until(lambda: beating_since(0), timeout=30)
        assert proxy.freeze_all() >= 1  # the worker's connections: silent from now on
        frozen = time.time()

        order_id, session_id = await submit(client)
        sandbox.pay(session_id)
        [event] = paid_events(sandbox, session_id)
        assert (await post_event(client, event)).json() == {"result": "created"}

        async def sent() -> bool:
            row = await EmailMessage.objects().get(
                EmailMessage.idempotency_key == f"payment_received/{order_id}")
            return row is not None and row.status in ("sent", "delivered")

        try:
            await wait_until(sent, timeout=EMAIL_BOUND_S)
            await wait_until(lambda: beating_since(frozen), timeout=EMAIL_BOUND_S)
        except AssertionError as error:
            raise AssertionError(f"{error}; the worker's log:\n{worker.log()[-3000:]}") from None
        assert worker.process.poll() is None  # carried on, no restart needed
