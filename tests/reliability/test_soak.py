"""Soak (opt-in: `make test-soak`, i.e. `pytest -m soak tests/reliability`): 10 minutes of
mixed traffic (orders for both restaurants, payments, declines, abandoned links, kitchen
accepts and rejects) while resources are sampled every 30 s: RSS of the web and worker
processes, Postgres connections (`pg_stat_activity`) and Redis clients (`INFO clients`).

Bounds, against the first sample taken after a 30 s warm-up: RSS grows < 20 %, Postgres
connections and Redis clients grow by at most 5 (pools are bounded: flat, allowing a
reconnect or two), and at the end the promise holds (see `Stack.consistent`).
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

import pytest

from tests.helpers.cook import Cook
from tests.helpers.stack import Stack

pytestmark = [pytest.mark.soak, pytest.mark.timeout(1200)]

DURATION_S = float(os.environ.get("SOAK_SECONDS", 600))
SAMPLE_EVERY_S = 30.0
WARMUP_S = 30.0
RSS_GROWTH = 0.20
CONNECTION_SLACK = 5


def sample(stack: Stack) -> dict[str, float]:
    client = stack.redis()
    try:
        redis_clients = float(client.info("clients")["connected_clients"])
    finally:
        client.close()
    return {
        "web_rss_mb": stack.rss_mb(stack.web),
        "worker_rss_mb": stack.rss_mb(stack.worker),
        "pg_connections": float(stack.value(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")),
        "redis_clients": redis_clients,
    }


def test_ten_minutes_of_mixed_traffic(stack: Stack) -> None:
    assert stack.sandbox is not None
    cooks = {slug: Cook(stack, slug) for slug in ("demo", "demo-2")}
    rng = random.Random(7)
    samples: list[dict[str, float]] = []
    started = time.monotonic()
    next_sample = started + WARMUP_S
    paid: list[tuple[str, str]] = []
    while time.monotonic() - started < DURATION_S:
        slug = rng.choice(("demo", "demo-2"))
        created = stack.submit(slug, quantity=rng.randint(1, 3))
        session_id = str(created["payment_url"] or "").rsplit("/", 1)[-1]
        roll = rng.random()
        if session_id and roll < 0.6:
            stack.sandbox.pay(session_id)
            paid.append((created["id"], slug))
        elif session_id and roll < 0.7:
            stack.sandbox.pay(session_id, "declined")
        if len(paid) > 5 and rng.random() < 0.3:
            ref, owner = paid.pop(0)
            cooks[owner].act(owner, ref, rng.choice(("accept", "reject")))
        if time.monotonic() >= next_sample:
            samples.append(sample(stack))
            next_sample += SAMPLE_EVERY_S
        time.sleep(0.1)
    samples.append(sample(stack))
    print("soak samples:", samples)
    stack.assert_consistent(30)
    assert len(samples) >= 2, samples
    first, last = samples[0], samples[-1]
    report: dict[str, Any] = {"first": first, "last": last}
    for name in ("web_rss_mb", "worker_rss_mb"):
        assert last[name] < first[name] * (1 + RSS_GROWTH), (name, report)
    for name in ("pg_connections", "redis_clients"):
        assert max(s[name] for s in samples) <= first[name] + CONNECTION_SLACK, (name, samples)
