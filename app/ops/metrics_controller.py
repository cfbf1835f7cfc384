"""`GET /metrics`: Prometheus text exposition.

Process metrics (counters, histograms, the SSE gauge) come from prometheus-client's default
registry, or, when `PROMETHEUS_MULTIPROC_DIR` is set, from every process's files in that
directory (`MultiProcessCollector`; the directory must be shared by all web and worker
processes of the host and emptied when they restart). Shared-state gauges (queue depth,
outbox backlog, emails by status, open discrepancies, worker heartbeats) are read from
Redis/Postgres at scrape time, each with a short timeout; a failed reading is reported as
`orderpass_ops_reading_up{reading="…"} 0` instead of failing the scrape.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from litestar import Controller, Request, get
from litestar.response import Response
from litestar.status_codes import HTTP_401_UNAUTHORIZED
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.asyncio import Redis

from app.infra.logging import get_logger
from app.ops import system
from app.ops.heartbeat import HEARTBEAT_KEY, live_workers
from app.settings import get_settings

log = get_logger("orderpass.metrics")
SCRAPE_READ_TIMEOUT_S = 1.5


class _Families(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


def process_registry() -> CollectorRegistry:
    """Multi-process aggregate when PROMETHEUS_MULTIPROC_DIR is set, else this process."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


async def _heartbeats(redis: Redis) -> tuple[int, float | None]:
    now = time.time()
    live = len(await live_workers(redis))
    newest = await redis.zrevrange(HEARTBEAT_KEY, 0, 0, withscores=True)
    return live, (round(now - newest[0][1], 1) if newest else None)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _labelled(name: str, doc: str, label: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in values.items():
        family.add_metric([key], value)
    return family


async def shared_state_families(redis: Redis) -> list[Metric]:
    """Gauges describing shared state, read now (Redis, Postgres)."""
    readings: dict[str, Callable[[], Awaitable[Any]]] = {
        "queue": lambda: system.queue_depth(redis),
        "outbox": system.outbox_backlog,
        "emails": system.email_status_counts,
        "discrepancies": system.open_discrepancies,
        "heartbeats": lambda: _heartbeats(redis),
        "refunds": system.refunds_failing,
        "redis_memory": lambda: redis.info("memory"),
    }
    names = list(readings)
    results = await asyncio.gather(
        *(asyncio.wait_for(readings[name](), SCRAPE_READ_TIMEOUT_S) for name in names),
        return_exceptions=True)
    families: list[Metric] = []
    up = GaugeMetricFamily("orderpass_ops_reading_up",
                           "1 if the scrape-time reading succeeded", labels=["reading"])
    for name, result in zip(names, results, strict=True):
        up.add_metric([name], 0 if isinstance(result, BaseException) else 1)
        if isinstance(result, BaseException):
            log.warning("metrics reading failed", reading=name, error=repr(result)[:200])
            continue
        if name == "queue":
            families.append(_gauge("orderpass_queue_depth",
                                   "Jobs due in the arq queue (waiting or running)",
                                   result["depth"]))
            families.append(_gauge("orderpass_queue_scheduled",
                                   "Jobs in the arq queue deferred to a later time (link "
                                   "expiries, reminders): not a backlog", result["later"]))
            families.append(_gauge("orderpass_queue_oldest_due_seconds",
                                   "How long the oldest due job has waited (0: none due)",
                                   result["oldest_due_s"]))
        elif name == "outbox":
            families.append(_labelled("orderpass_outbox_backlog",
                                      "Outbox rows not delivered, by state", "state", result))
        elif name == "emails":
            families.append(_labelled("orderpass_emails",
                                      "Emails created in the last 24 h, by status", "status",
                                      result))
        elif name == "discrepancies":
            families.append(_gauge("orderpass_open_discrepancies",
                                   "Discrepancies with Stripe awaiting a human", result))
        elif name == "refunds":
            families.append(_labelled("orderpass_refunds_failing",
                                      "Rejected orders whose refund keeps failing (overdue: "
                                      "30 min after the rejection)", "state", result))
        elif name == "redis_memory":
            families.append(_gauge("orderpass_redis_memory_used_bytes",
                                   "Memory Redis uses", int(result.get("used_memory", 0))))
            families.append(_gauge("orderpass_redis_memory_max_bytes",
                                   "Redis maxmemory (0: unlimited)",
                                   int(result.get("maxmemory", 0))))
        elif name == "heartbeats":
            live, age = result
            families.append(_gauge("orderpass_workers_live",
                                   "Workers with a fresh heartbeat", live))
            families.append(_gauge("orderpass_worker_heartbeat_age_seconds",
                                    "Age of the newest worker heartbeat (1e9 if none)",
                                    age if age is not None else 1e9))
    families.append(up)
    return families


async def render_metrics(redis: Redis) -> bytes:
    shared = CollectorRegistry(auto_describe=False)
    shared.register(_Families(await shared_state_families(redis)))
    return generate_latest(process_registry()) + generate_latest(shared)


class MetricsController(Controller):
    include_in_schema = False
    tags = ["ops"]

    @get("/metrics", cache_control=None)
    async def metrics(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        token = get_settings().metrics_token
        if token and not hmac.compare_digest(
                request.headers.get("authorization", "").encode(), f"Bearer {token}".encode()):
            # Orders per restaurant and queue depths are business data: when a token is
            # set, only the scraper that has it reads them.
            return Response(b"metrics need the bearer token (METRICS_TOKEN)\n",
                            status_code=HTTP_401_UNAUTHORIZED, media_type="text/plain",
                            headers={"www-authenticate": "Bearer"})
        body = await render_metrics(request.app.state.redis)
        # Litestar appends the charset to a text/ type itself (it named it twice)
        return Response(body, media_type=CONTENT_TYPE_LATEST.removesuffix("; charset=utf-8"))
